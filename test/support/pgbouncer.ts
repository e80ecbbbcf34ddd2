/**
 * PgBouncer in front of a test PostgreSQL: Debian's `pgbouncer` package (`/usr/sbin/pgbouncer`,
 * which .ci/run installs), started per suite on a free port of 127.0.0.1 with a generated
 * configuration in a temporary directory. Every database name a client asks for is passed through
 * to the upstream server; clients are trusted (the upstream user, and its password if the URL has
 * one, are in the generated auth file, which PgBouncer uses to log in upstream).
 *
 * PgBouncer refuses to run as root: as root it is started with `-u nobody` (it reads its
 * configuration, then assumes that identity), and the temporary directory belongs to nobody.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './embeddedPostgres.js';

export const PGBOUNCER_PATH = process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer';

/** The user PgBouncer switches to when started as root. */
const UNPRIVILEGED_USER = 'nobody';

export function pgbouncerAvailable(): boolean {
  return existsSync(PGBOUNCER_PATH);
}

/**
 * Why PgBouncer suites cannot run here, for `describe(…, { skip })`; false when they can. Under CI
 * a missing PgBouncer is not skipped: the suite then fails in `startPgBouncer`.
 */
export function pgbouncerSkipReason(): string | false {
  if (pgbouncerAvailable() || process.env.CI) return false;
  return `no PgBouncer at ${PGBOUNCER_PATH}: install Debian's pgbouncer package (or set PGBOUNCER_PATH) to run the PgBouncer tests`;
}

/** e.g. `PgBouncer 1.18.0`. */
export function pgbouncerVersion(): string {
  return execFileSync(PGBOUNCER_PATH, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? '';
}

export interface PgBouncerOptions {
  /** The server (and user) to pool connections to; its database name does not matter. */
  upstreamUrl: string;
  poolMode?: 'transaction' | 'session' | 'statement';
  /** Server connections per database and user (default_pool_size); default 5. */
  poolSize?: number;
  /** More `[pgbouncer]` settings, written as `key = value`. */
  settings?: Record<string, string | number>;
}

export interface PgBouncer {
  /** The upstream URL with PgBouncer's host and port: same user and database. */
  url: string;
  port: number;
  /** Connection string for `database` through PgBouncer. */
  urlFor(database: string): string;
  /** What PgBouncer logged so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  if (!pgbouncerAvailable()) throw new Error(`no PgBouncer at ${PGBOUNCER_PATH}; install Debian's pgbouncer package (.ci/run does)`);
  const upstream = new URL(options.upstreamUrl);
  const user = decodeURIComponent(upstream.username) || process.env.PGUSER || userInfo().username;
  const password = decodeURIComponent(upstream.password);
  const upstreamHost = upstream.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const upstreamPort = upstream.port || '5432';

  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'identity-test-pgbouncer-'));
  const authFile = join(dir, 'userlist.txt');
  const iniFile = join(dir, 'pgbouncer.ini');
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
  await writeFile(authFile, `${quote(user)} ${quote(password)}\n`, { mode: 0o600 });

  let child: ChildProcess | undefined;
  let output = '';
  let port = 0;
  const killOnExit = () => child?.kill('SIGKILL');

  async function stop(): Promise<void> {
    process.removeListener('exit', killOnExit);
    if (child) await terminate(child);
    await rm(dir, { recursive: true, force: true });
  }

  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const settings: Record<string, string | number> = {
        listen_addr: '127.0.0.1',
        listen_port: port,
        unix_socket_dir: '',
        auth_type: 'trust',
        auth_file: authFile,
        admin_users: user,
        pool_mode: options.poolMode ?? 'transaction',
        default_pool_size: options.poolSize ?? 5,
        max_client_conn: 500,
        ignore_startup_parameters: 'extra_float_digits,options',
        ...options.settings,
      };
      const ini = [
        '[databases]',
        `* = host=${upstreamHost} port=${upstreamPort}`,
        '',
        '[pgbouncer]',
        ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`),
        '',
      ].join('\n');
      await writeFile(iniFile, ini, { mode: 0o600 });
      if (asRoot) await handTo(UNPRIVILEGED_USER, [dir, iniFile, authFile]);

      output = '';
      const started = spawn(PGBOUNCER_PATH, [...(asRoot ? ['-u', UNPRIVILEGED_USER] : []), iniFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      process.once('exit', killOnExit);
      if (await listening(started, port)) break;
      // Most likely another process took the port between freePort() and PgBouncer binding it.
      await terminate(started);
      process.removeListener('exit', killOnExit);
      if (attempt >= 3) throw new Error(`PgBouncer did not start; it said:\n${output}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const urlFor = (database: string) => {
    const url = new URL(options.upstreamUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    url.pathname = `/${encodeURIComponent(database)}`;
    return url.toString();
  };
  return {
    url: urlFor(decodeURIComponent(upstream.pathname.slice(1)) || user),
    port,
    urlFor,
    log: () => output,
    stop,
  };
}

/** Gives the files to `name` (owner only), so that PgBouncer can still read them as that user. */
async function handTo(name: string, paths: string[]): Promise<void> {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  for (const path of paths) await chown(path, uid, gid);
}

/** True once PgBouncer accepts connections on `port`; false if it exits first or takes over 10 s. */
async function listening(child: ChildProcess, port: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    // The port could be someone else's: only PgBouncer still running counts.
    if (accepted && child.exitCode === null && child.signalCode === null) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** SIGTERM (PgBouncer 1.18 shuts down at once; later versions wait for clients), SIGKILL after 3 s. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
