/**
 * `npm run docs:examples [-- --check]`: every example output in README.md and docs/*.md is the
 * output of a run, made here.
 *
 * In the markdown, an example is a fenced block right after a marker (blank lines between are
 * allowed):
 *
 *     <!-- example: lookup -->
 *     ```sh
 *     $ curl -s 'localhost:3000/customers/lookup?phoneNumber=919191'
 *     {"customer":…}
 *     ```
 *
 * The lines that start with `$ ` (with `\` continuation lines) are the input: this script runs
 * exactly those commands and rewrites every other line of the block with what they printed. The
 * marker names a scenario (SCENARIOS below): blocks with the same name, in document order (README
 * first, then docs/ by file name), run one after another against the same service or database,
 * and each scenario starts from scratch. What a command may be:
 *
 * - `curl [-s] [-i] [-o /dev/null] [-X METHOD] [-H 'name: value']… [-d 'body'] localhost:3000/…`:
 *   the request goes to the service built in this process (`buildApp` from src/http/app.ts, the
 *   scenario's settings read by `loadConfig` from src/config.ts, as `npm start` does) on one
 *   embedded PGlite, migrated once and emptied (`TRUNCATE … RESTART IDENTITY`, the event log too) before
 *   each scenario (then filled with its rows, if it has a `fill`), through Fastify's `inject`: no socket. As curl does, `-d` without a content type
 *   sends `application/x-www-form-urlencoded`, `-i` prints the status line and headers before the
 *   body, `-o /dev/null` prints nothing. A scenario's settings (as environment variables) are
 *   printed as the block's first line, `# the service runs with …`.
 * - `[NAME=value]… node dist/cli.js ARGS…` (or `identity-service ARGS…`): the command line as a
 *   process, `node --import tsx src/cli.ts ARGS…` (the same program, unbuilt, so no build is
 *   needed), with the scenario's embedded PGlite data directory as DATA_DIR (a copy of one
 *   migrated directory, filled with the scenario's rows: its `fill`), none of this environment's
 *   service settings, and a scratch working directory (so no `.env` is read). Its
 *   stdout and stderr are one file, so they interleave as on a terminal; `2>/dev/null` drops
 *   stderr (required before a `| grep`, which filters stdout only).
 * - `echo $?`: the exit status of the scenario's last command line.
 * - `… | grep [-i] [-E] 'PATTERN'`: keeps the lines that match (a JavaScript regular expression,
 *   which for the patterns used here means what ERE means).
 * Anything else (other programs, `;`, `&&`, other redirections) is refused.
 *
 * What changes from run to run is masked before two outputs are compared, in both modes:
 * - ISO 8601 timestamps (`2026-11-25T08:46:33.093Z`) become `<time N>`, N being the timestamp's
 *   rank among the distinct timestamps of its block (oldest 1): so equal stays equal and older
 *   stays older, but the clock does not matter;
 * - durations (`in 0.1 s`, `(0.0 s)`: a number, a space, `s`) become `<n> s`;
 * - UUIDs (request ids) become `<uuid>`.
 * Without `--check`, a block is rewritten only when its masked text changed, so the docs keep the
 * values of the run that last changed them and a rerun makes no diff. With `--check`, nothing is
 * written, and the exit status is 1 if any block differs (each is shown), 2 on a bad marker or an
 * unsupported command. It needs no PostgreSQL server and no browser; it takes seconds (most of
 * them PGlite creating its one data directory, and the command-line processes starting).
 *
 * The timestamps and durations kept in the docs are therefore a real run's, not placeholders; the
 * placeholders exist only in the comparison.
 *
 * Every fenced block with a `$ ` line must carry a marker: a shown output with no run behind it is
 * an error too.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database, type Queryable } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { buildApp } from '../src/http/app.js';
import { createServices } from '../src/services.js';
import { adoptOrCompareRules } from '../src/db/normalFormStore.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'src', 'cli.ts');
const TSX = import.meta.resolve('tsx');

/** A row of a hand-made `Contact` table; `at` is seconds after 2026-01-01 (default: the id). */
interface Row {
  id: number;
  email?: string;
  phone?: string;
  linkedId?: number;
  at?: number;
  deleted?: boolean;
}

type Scenario =
  | { kind: 'http'; env?: Record<string, string>; fill?: (db: Queryable) => Promise<void> }
  | { kind: 'cli'; fill?: (db: Queryable) => Promise<void> };

/** What each marker name runs against. Docs describe these tables in words: keep them in step. */
const SCENARIOS: Record<string, Scenario> = {
  identify: { kind: 'http' },
  bitespeed: { kind: 'http', env: { RESPONSE_FORMAT: 'bitespeed' } },
  lookup: { kind: 'http' },
  errors: { kind: 'http' },
  health: { kind: 'http' },
  'api-keys': { kind: 'http', env: { API_KEYS: 's3cret-key-0123456789abcdef', RATE_LIMIT_MAX: '2' } },
  'config-error': { kind: 'cli' },
  // README and docs/governance.md: the admin API with a key of its own.
  governance: { kind: 'http', env: { ADMIN_API_KEYS: 'admin-key-0123456789abcdef' } },
  'size-cap': { kind: 'http', env: { ADMIN_API_KEYS: 'admin-key-0123456789abcdef', MAX_CUSTOMER_CONTACTS: '3' } },
  // docs/unmerge.md: george, biffsucks and biff merged by order-4 (as in docs/history.md), then unmerged.
  unmerge: { kind: 'http', env: { ADMIN_API_KEYS: 'admin-key-0123456789abcdef' } },
  // docs/cli.md: a chain (3 -> 2 -> 1), two primaries sharing a phone (4 and 5, 5 older), a deleted primary with a live secondary (7 -> 6).
  'broken-links': {
    kind: 'cli',
    fill: (db) =>
      insertRows(db, [
        { id: 1, email: 'lorraine@hillvalley.edu', phone: '123456' },
        { id: 2, email: 'mcfly@hillvalley.edu', linkedId: 1 },
        { id: 3, phone: '555', linkedId: 2 },
        { id: 4, email: 'george@hillvalley.edu', phone: '919191', at: 10 },
        { id: 5, email: 'biff@hillvalley.edu', phone: '919191' },
        { id: 6, email: 'doc@hillvalley.edu', deleted: true },
        { id: 7, email: 'marty@hillvalley.edu', linkedId: 6 },
      ]),
  },
  // docs/cli.md: values stored by another system; row 3 came from a request, the rest did not.
  adopted: {
    kind: 'cli',
    fill: (db) =>
      insertRows(db, [
        { id: 1, email: 'Doc@HillValley.EDU' },
        { id: 2, phone: '(555) 010-9999', linkedId: 1 },
        { id: 3, email: 'doc@hillvalley.edu' },
        { id: 4, email: ' Marty@HillValley.edu', phone: '555.010.8888' },
        { id: 5, email: 'einstein' },
        { id: 6, phone: 'OUTATIME' },
      ]),
  },
  // README: an erasure and the change events it leaves, with an admin key.
  'readme-erasure': { kind: 'http', env: { ADMIN_API_KEYS: 'admin-key-0123456789abcdef' } },
  // docs/erasure.md: erasure and export, with an admin key.
  erasure: { kind: 'http', env: { ADMIN_API_KEYS: 'admin-key-0123456789abcdef' } },
  // docs/cli.md: export, one customer of two rows and another of one.
  export: {
    kind: 'cli',
    fill: (db) =>
      insertRows(db, [
        { id: 1, email: 'doc@hillvalley.edu', phone: '555' },
        { id: 2, email: 'marty@hillvalley.edu', phone: '555', linkedId: 1 },
        { id: 3, email: 'biff@hillvalley.edu' },
      ]),
  },
  // README, docs/cli.md and docs/import.md: examples/checkouts.csv into an empty table.
  import: { kind: 'cli' },
  'import-cli': { kind: 'cli' },
  'import-doc': { kind: 'cli' },
  // docs/import.md: the same file into a table where Lorraine and Marty checked out in 2026 (rows 1 and 2),
  // after the file's older checkouts of the same values.
  'import-existing': {
    kind: 'cli',
    fill: (db) =>
      insertRows(db, [
        { id: 1, email: 'lorraine@hillvalley.edu', phone: '123456' },
        { id: 2, email: 'mcfly@hillvalley.edu', phone: '123456', linkedId: 1 },
        { id: 3, email: 'marty@hillvalley.edu', phone: '123456', linkedId: 1 },
      ]),
  },
  // docs/normal-forms.md: the service with both rules on.
  'normal-forms': { kind: 'http', env: { DEFAULT_PHONE_REGION: 'IN', EMAIL_CANONICAL_FORM: 'provider' } },
  // docs/normal-forms.md: a table written by the seed's rules: one shopper's phone in three forms
  // (three customers), one Gmail address in two, and a number that is not a valid one.
  renormalize: {
    kind: 'cli',
    fill: (db) =>
      insertRows(db, [
        { id: 1, email: 'asha@example.in', phone: '9876543210' },
        { id: 2, email: 'asha.k@gmail.com', phone: '09876543210' },
        { id: 3, email: 'ashak+shop@googlemail.com', phone: '+919876543210' },
        { id: 4, email: 'ravi@example.in', phone: '123456' },
      ]),
  },
  // docs/history.md: george, biffsucks and biff, then the request that merges them (as in the README's lookup).
  history: { kind: 'http' },
  // docs/history.md: one customer written before the event log: marty and jennifer, who share nothing.
  'history-before-log': {
    kind: 'http',
    fill: (db) =>
      insertRows(db, [
        { id: 1, email: 'marty@hillvalley.edu', phone: '555111' },
        { id: 2, email: 'jennifer@hillvalley.edu', phone: '555222', linkedId: 1 },
      ]),
  },
  // docs/cli.md: a placeholder email glues two people: Lorraine (1) and George (2, then 3 with his own email); Doc (4) is apart.
  'cli-governance': {
    kind: 'cli',
    fill: (db) =>
      insertRows(db, [
        { id: 1, email: 'test@test.com', phone: '123456' },
        { id: 2, email: 'test@test.com', phone: '919191', linkedId: 1 },
        { id: 3, email: 'george@hillvalley.edu', phone: '919191', linkedId: 1 },
        { id: 4, email: 'doc@hillvalley.edu', phone: '555' },
      ]),
  },
  // docs/cli.md: george (1) absorbed biffsucks (2) and her secondary biff (3): merge event 1.
  'cli-unmerge': {
    kind: 'cli',
    fill: async (db) => {
      await insertRows(db, [
        { id: 1, email: 'george@hillvalley.edu', phone: '919191' },
        { id: 2, email: 'biffsucks@hillvalley.edu', phone: '717171', linkedId: 1 },
        { id: 3, email: 'biff@hillvalley.edu', phone: '717171', linkedId: 1 },
      ]);
      await db.query(
        `INSERT INTO "ContactEvent" ("type", "customerIds", "contactIds", "email", "phoneNumber", "detail")
         VALUES ('customer.merged', '{1,2}', '{2,3}', 'george@hillvalley.edu', '717171', '{"survivor":1,"absorbed":[2]}')`,
      );
    },
  },
  // docs/webhooks.md: change events; marty's primary (doc) was soft-deleted by another system.
  webhooks: {
    kind: 'http',
    env: { ADMIN_API_KEYS: 'admin-key-0123456789abcdef' },
    fill: async (db) => {
      await db.query('TRUNCATE "WebhookDeadLetter", "WebhookEndpoint" RESTART IDENTITY CASCADE');
      await db.query('UPDATE "EventWatermark" SET "safeThrough" = 0, "pendingThrough" = NULL, "pendingXid" = NULL');
      await insertRows(db, [
        { id: 1, email: 'doc@hillvalley.edu', phone: '555', deleted: true },
        { id: 2, email: 'marty@hillvalley.edu', linkedId: 1 },
      ]);
    },
  },
  // docs/storage.md: the recorded checksum of an applied migration no longer matches its file.
  'changed-migration': {
    kind: 'cli',
    fill: async (db) => {
      await db.query(`UPDATE identity_migrations SET checksum = repeat('0', 64) WHERE name = '0002_identify_functions.sql'`);
    },
  },
};

class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------
// Markdown: markers, blocks, commands

const MARKER = /^<!-- example: ([a-z0-9-]+) -->$/;
const FENCE = /^(`{3,})[\w-]*$/;

interface Block {
  file: string;
  scenario: string;
  /** Line indexes of the block's content: [start, end). */
  start: number;
  end: number;
  lines: string[];
}

interface Doc {
  file: string;
  lines: string[];
  blocks: Block[];
}

function parseDoc(file: string, text: string): Doc {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let fenced: { fence: string; start: number; marked: string | null } | null = null;
  let pendingMarker: { name: string; line: number } | null = null;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (fenced) {
      if (line === fenced.fence) {
        const content = lines.slice(fenced.start, index);
        if (fenced.marked !== null) {
          blocks.push({ file, scenario: fenced.marked, start: fenced.start, end: index, lines: content });
        } else if (content.some((text) => text.startsWith('$ '))) {
          throw new UsageError(
            `${file}:${fenced.start}: a block with commands and no <!-- example: … --> marker: its output was not produced by a run`,
          );
        }
        fenced = null;
      }
      continue;
    }
    const marker = MARKER.exec(line);
    if (marker) {
      if (!(marker[1]! in SCENARIOS))
        throw new UsageError(`${file}:${index + 1}: unknown example "${marker[1]}" (see SCENARIOS in scripts/docs-examples.ts)`);
      pendingMarker = { name: marker[1]!, line: index + 1 };
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      fenced = { fence: fence[1]!, start: index + 1, marked: pendingMarker?.name ?? null };
      pendingMarker = null;
      continue;
    }
    if (/^\s+\$ /.test(line))
      throw new UsageError(`${file}:${index + 1}: a command outside a fenced block at the margin: examples must not be indented`);
    if (pendingMarker && line.trim() !== '')
      throw new UsageError(`${file}:${pendingMarker.line}: an example marker must be followed by a fenced block`);
  }
  if (fenced) throw new UsageError(`${file}:${fenced.start}: unclosed fenced block`);
  if (pendingMarker) throw new UsageError(`${file}:${pendingMarker.line}: an example marker must be followed by a fenced block`);
  return { file, lines, blocks };
}

/** The commands of a block: each `$ ` line with its `\` continuation lines, as written. */
function commandsOf(block: Block): string[][] {
  const commands: string[][] = [];
  for (let index = 0; index < block.lines.length; index++) {
    if (!block.lines[index]!.startsWith('$ ')) continue;
    const command = [block.lines[index]!];
    while (command.at(-1)!.endsWith('\\') && index + 1 < block.lines.length) command.push(block.lines[++index]!);
    commands.push(command);
  }
  return commands;
}

type Token = { word: string } | { operator: '|' | '2>/dev/null' };

/** Splits a command line as sh would, for the little of sh the examples use. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let word = '';
  let inWord = false;
  const end = () => {
    if (inWord) tokens.push(word === '2>/dev/null' ? { operator: '2>/dev/null' } : { word });
    word = '';
    inWord = false;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new UsageError(`unclosed quote in: ${text}`);
      word += text.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (char === '"') {
      for (i++; text[i] !== '"'; i++) {
        if (i >= text.length) throw new UsageError(`unclosed quote in: ${text}`);
        if (text[i] === '$' || text[i] === '`') throw new UsageError(`no expansions inside double quotes: ${text}`);
        if (text[i] === '\\' && '"\\'.includes(text[i + 1] ?? '')) i++;
        word += text[i];
      }
      inWord = true;
    } else if (char === '\\') {
      if (text[i + 1] === '\n') i++;
      else word += text[++i] ?? '';
      inWord = inWord || text[i] !== '\n';
    } else if (/\s/.test(char)) {
      end();
    } else if (char === '#' && !inWord) {
      break;
    } else if (char === '|') {
      end();
      tokens.push({ operator: '|' });
    } else if (';&<>`'.includes(char) && !(char === '>' && word === '2')) {
      throw new UsageError(`unsupported shell syntax "${char}" in: ${text}`);
    } else if (char === '$' && !(text.slice(i, i + 2) === '$?')) {
      throw new UsageError(`unsupported expansion in: ${text}`);
    } else {
      word += char;
      inWord = true;
    }
  }
  end();
  return tokens;
}

interface Pipeline {
  /** The command's words, environment assignments first. */
  words: string[];
  dropStderr: boolean;
  filters: RegExp[];
}

function parsePipeline(lines: readonly string[]): Pipeline {
  const tokens = tokenize(lines.join('\n').slice(2));
  const stages: Token[][] = [[]];
  for (const token of tokens) {
    if ('operator' in token && token.operator === '|') stages.push([]);
    else stages.at(-1)!.push(token);
  }
  const [first, ...rest] = stages;
  const words = first!.flatMap((token) => ('word' in token ? [token.word] : []));
  const dropStderr = first!.some((token) => 'operator' in token);
  const filters = rest.map((stage) => {
    const stageWords = stage.map((token) => {
      if (!('word' in token)) throw new UsageError(`a redirection after a pipe: ${lines.join(' ')}`);
      return token.word;
    });
    if (stageWords[0] !== 'grep') throw new UsageError(`only grep may follow a pipe: ${lines.join(' ')}`);
    let flags = '';
    const args = stageWords.slice(1);
    while (args[0]?.startsWith('-')) {
      const option = args.shift()!;
      if (!/^-[iE]+$/.test(option)) throw new UsageError(`grep option ${option} is not supported: ${lines.join(' ')}`);
      if (option.includes('i')) flags = 'i';
    }
    if (args.length !== 1) throw new UsageError(`grep takes one pattern: ${lines.join(' ')}`);
    return new RegExp(args[0]!, flags);
  });
  return { words, dropStderr, filters };
}

// ---------------------------------------------------------------------------------------------
// Running commands

interface Output {
  text: string;
  status: number | null;
}

interface Runner {
  /** Lines printed first, before any command (the scenario's settings). */
  preamble: string[];
  run(pipeline: Pipeline): Promise<Output>;
  close(): Promise<void>;
}

/** curl against the app, in-process. */
async function httpRunner(db: Database, env: Record<string, string>, fill?: (db: Queryable) => Promise<void>): Promise<Runner> {
  await db.query('TRUNCATE "Contact", "ContactEvent", "BlockedIdentifier", "Separation" RESTART IDENTITY');
  const config = loadConfig(env, false);
  // As `serve` does at start-up, on a table that is empty at this point: it takes the scenario's rules.
  await adoptOrCompareRules(db, config.normalForm);
  await fill?.(db);
  const app = await buildApp({
    db,
    ...createServices(db, config.governance, { rules: config.normalForm }),
    responseFormat: config.responseFormat,
    logLevel: 'silent',
    // The event-loop guard would turn a busy machine (PGlite compiling, other work) into 503s that no
    // example is about.
    http: { ...config.http, maxEventLoopDelayMs: 0 },
  });
  const settings = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  return {
    preamble: settings.length > 0 ? [`# the service runs with ${settings.join(' ')}`] : [],
    run: (pipeline) => curl(app, pipeline),
    close: () => app.close(),
  };
}

async function curl(app: FastifyInstance, { words, dropStderr }: Pipeline): Promise<Output> {
  if (words[0] !== 'curl' || dropStderr) throw new UsageError(`an HTTP example runs curl only: ${words.join(' ')}`);
  const headers: Record<string, string> = { host: 'localhost:3000', 'user-agent': 'curl', accept: '*/*' };
  let method: string | null = null;
  let body: string | undefined;
  let url: string | null = null;
  let include = false;
  let discard = false;
  const args = words.slice(1);
  while (args.length > 0) {
    const arg = args.shift()!;
    const value = () => {
      const next = args.shift();
      if (next === undefined) throw new UsageError(`curl ${arg} needs a value`);
      return next;
    };
    if (/^-[si]+$/.test(arg)) include ||= arg.includes('i');
    else if (arg === '-H') {
      const header = value();
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (arg === '-d' || arg === '--data') body = value();
    else if (arg === '-X') method = value();
    else if (arg === '-o') {
      if (value() !== '/dev/null') throw new UsageError('curl -o writes to /dev/null only here');
      discard = true;
    } else if (!arg.startsWith('-') && url === null) {
      const match = /^(?:http:\/\/)?localhost:3000(\/.*)$/.exec(arg);
      if (!match) throw new UsageError(`curl URLs are localhost:3000/…: ${arg}`);
      url = match[1]!;
    } else throw new UsageError(`curl ${arg} is not supported`);
  }
  if (url === null) throw new UsageError(`curl without a URL: ${words.join(' ')}`);
  if (body !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
  const response = await app.inject({
    method: (method ?? (body === undefined ? 'GET' : 'POST')) as InjectOptions['method'],
    url,
    headers,
    ...(body === undefined ? {} : { payload: body }),
  });
  if (discard) return { text: '', status: 0 };
  const head = include
    ? [
        `HTTP/1.1 ${response.statusCode} ${response.statusMessage}`,
        ...Object.entries(response.headers).flatMap(([name, value]) =>
          (Array.isArray(value) ? value : [value]).map((item) => `${name}: ${item}`),
        ),
        '',
      ]
    : [];
  return { text: [...head, response.body].join('\n'), status: 0 };
}

/** The command line as a process, on the scenario's data directory. */
async function cliRunner(template: string, scenario: { fill?: (db: Queryable) => Promise<void> }): Promise<Runner> {
  const workDir = await mkdtemp(join(tmpdir(), 'docs-examples-'));
  const dataDir = join(workDir, 'data');
  await cp(template, dataDir, { recursive: true });
  // The repository's example files, at the paths the docs name (`import examples/checkouts.csv`).
  await cp(join(ROOT, 'examples'), join(workDir, 'examples'), { recursive: true });
  if (scenario.fill) {
    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      await scenario.fill(db);
    } finally {
      await db.close();
    }
  }
  // The status `echo $?` shows; after a pipeline it would be grep's, which is not run as a process.
  let lastStatus: number | 'piped' | null = null;
  return {
    preamble: [],
    async run({ words, dropStderr, filters }) {
      if (words[0] === 'echo' && words[1] === '$?' && words.length === 2) {
        if (lastStatus === 'piped') throw new UsageError("echo $? after a pipeline would show grep's status: not supported");
        return { text: String(lastStatus), status: 0 };
      }
      const env: Record<string, string> = {};
      while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
        const [name, ...value] = words.shift()!.split('=');
        env[name!] = value.join('=');
      }
      let args: string[];
      if (words[0] === 'node' && words[1] === 'dist/cli.js') args = words.slice(2);
      else if (words[0] === 'identity-service') args = words.slice(1);
      else throw new UsageError(`a command-line example runs node dist/cli.js, identity-service or echo $?: ${words.join(' ')}`);
      if (filters.length > 0 && !dropStderr) throw new UsageError('a pipe filters stdout only: add 2>/dev/null before it');
      const result = await runCli(args, { ...cliEnvironment(dataDir), ...env }, workDir, dropStderr);
      lastStatus = filters.length > 0 ? 'piped' : result.status;
      return result;
    },
    close: () => rm(workDir, { recursive: true, force: true }),
  };
}

/** This environment without any setting the service reads, pointed at `dataDir`. */
function cliEnvironment(dataDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value === undefined ||
      /^(DATABASE_URL|DB_|DATA_DIR|PORT$|HOST$|LOG_LEVEL|RESPONSE_FORMAT|MIGRATE_ON_START|WEB_CONCURRENCY|API_KEYS|METRICS_|DOCS_|RATE_LIMIT|CORS_|TRUST_PROXY|REQUEST_TIMEOUT|KEEP_ALIVE|OVERLOAD_|NODE_OPTIONS|FORCE_COLOR)/.test(
        name,
      )
    )
      continue;
    env[name] = value;
  }
  // Rules the examples add say who added them: the same operator on every machine.
  return { ...env, DATA_DIR: dataDir, USER: 'ops' };
}

async function runCli(args: string[], env: Record<string, string>, cwd: string, dropStderr: boolean): Promise<Output> {
  const outputFile = join(cwd, 'output.txt');
  const output = await open(outputFile, 'w');
  try {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
      cwd,
      env,
      stdio: ['ignore', output.fd, dropStderr ? 'ignore' : output.fd],
    });
    const [status] = (await once(child, 'close')) as [number | null];
    return { text: await readFile(outputFile, 'utf8'), status };
  } finally {
    await output.close();
  }
}

/** Inserts rows with their ids in one statement (links may point forwards), then moves the id sequence past them. */
async function insertRows(db: Queryable, rows: readonly Row[]): Promise<void> {
  await db.query(
    `INSERT INTO "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt", "deletedAt")
     SELECT id, email, phone, linked, CASE WHEN linked IS NULL THEN 'primary' ELSE 'secondary' END, created, created, CASE WHEN deleted THEN created END
       FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::float8[], $6::boolean[]) AS r(id, email, phone, linked, seconds, deleted),
            LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + make_interval(secs => seconds) AS created) AS clock`,
    [
      rows.map((row) => row.id),
      rows.map((row) => row.email ?? null),
      rows.map((row) => row.phone ?? null),
      rows.map((row) => row.linkedId ?? null),
      rows.map((row) => row.at ?? row.id),
      rows.map((row) => row.deleted === true),
    ],
  );
  await db.query(`SELECT setval(pg_get_serial_sequence('"Contact"', 'id'), (SELECT max("id") FROM "Contact"))`);
}

// ---------------------------------------------------------------------------------------------
// Producing, comparing, writing

/** The block as the run prints it: its commands as written, each followed by its output. */
async function produce(block: Block, runner: Runner): Promise<string[]> {
  const lines = [...runner.preamble];
  for (const command of commandsOf(block)) {
    const pipeline = parsePipeline(command);
    const output = await runner.run(pipeline);
    const printed = output.text
      .replace(/\n$/, '')
      .split('\n')
      .filter((line) => pipeline.filters.every((filter) => filter.test(line)));
    lines.push(...command);
    if (output.text !== '') lines.push(...printed);
  }
  return lines;
}

/** The text with what differs between runs replaced (see the header comment). */
export function mask(lines: readonly string[]): string {
  const text = lines.join('\n');
  const timestamps = [...new Set(text.match(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g) ?? [])].sort();
  return text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, (timestamp) => `<time ${timestamps.indexOf(timestamp) + 1}>`)
    .replace(/\b\d+(?:\.\d+)? s\b/g, '<n> s')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uuid>');
}

function firstDifference(before: string, after: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const index = a.findIndex((line, i) => line !== b[i]);
  const at = index < 0 ? a.length : index;
  return `  line ${at + 1} of the block\n  - ${a[at] ?? '(nothing)'}\n  + ${b[at] ?? '(nothing)'}`;
}

async function docFiles(): Promise<string[]> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((name) => name.endsWith('.md')).sort();
  return ['README.md', ...docs.map((name) => join('docs', name))];
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--check');
  if (unknown.length > 0) throw new UsageError(`usage: tsx scripts/docs-examples.ts [--check] (unknown: ${unknown.join(' ')})`);

  const docs = await Promise.all((await docFiles()).map(async (file) => parseDoc(file, await readFile(join(ROOT, file), 'utf8'))));
  const byScenario = new Map<string, Block[]>();
  for (const block of docs.flatMap((doc) => doc.blocks)) byScenario.set(block.scenario, [...(byScenario.get(block.scenario) ?? []), block]);
  const unused = Object.keys(SCENARIOS).filter((name) => !byScenario.has(name));
  if (unused.length > 0) throw new UsageError(`scenarios no doc uses: ${unused.join(', ')} (remove them from scripts/docs-examples.ts)`);

  const work = await mkdtemp(join(tmpdir(), 'docs-examples-template-'));
  const produced = new Map<Block, string[]>();
  try {
    // One migrated data directory (creating one is the slow part), copied for each command-line
    // scenario and once for the HTTP scenarios, which share it in turn.
    const template = join(work, 'data');
    const seed = await openDatabase({ kind: 'pglite', dataDir: template });
    await migrate(seed).finally(() => seed.close());
    await cp(template, join(work, 'http'), { recursive: true });
    const shared = await openDatabase({ kind: 'pglite', dataDir: join(work, 'http') });
    try {
      const runScenario = async (name: string, blocks: Block[]) => {
        const scenario = SCENARIOS[name]!;
        const runner =
          scenario.kind === 'http' ? await httpRunner(shared, scenario.env ?? {}, scenario.fill) : await cliRunner(template, scenario);
        try {
          for (const block of blocks) produced.set(block, await produce(block, runner));
        } finally {
          await runner.close();
        }
      };
      const entries = [...byScenario];
      // The command-line scenarios run side by side (processes, data directories of their own); the HTTP ones share the database, in turn.
      const cli = Promise.all(
        entries.filter(([name]) => SCENARIOS[name]!.kind === 'cli').map(([name, blocks]) => runScenario(name, blocks)),
      );
      for (const [name, blocks] of entries.filter(([name]) => SCENARIOS[name]!.kind === 'http')) await runScenario(name, blocks);
      await cli;
    } finally {
      await shared.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  let stale = 0;
  for (const doc of docs) {
    const lines = [...doc.lines];
    // From the last block up, so that earlier line numbers stay right.
    for (const block of [...doc.blocks].reverse()) {
      const now = produced.get(block)!;
      const before = mask(block.lines);
      const after = mask(now);
      if (before === after) continue;
      stale++;
      console.error(
        `${doc.file}:${block.start}: example "${block.scenario}" ${check ? 'is out of date' : 'rewritten'}\n${firstDifference(before, after)}`,
      );
      lines.splice(block.start, block.end - block.start, ...now);
    }
    if (!check && lines.join('\n') !== doc.lines.join('\n')) await writeFile(join(ROOT, doc.file), lines.join('\n'));
  }
  const count = docs.reduce((sum, doc) => sum + doc.blocks.length, 0);
  if (check && stale > 0) {
    console.error(`${stale} of ${count} examples are out of date: run npm run docs:examples and commit the result`);
    return 1;
  }
  console.log(
    `${count} examples in ${docs.length} files: ${check ? 'all up to date' : stale > 0 ? `${stale} rewritten` : 'nothing to change'}`,
  );
  return 0;
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error(error instanceof UsageError ? `docs-examples: ${error.message}` : error);
    process.exit(2);
  },
);
