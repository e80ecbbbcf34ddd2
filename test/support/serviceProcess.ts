/**
 * Runs the service as a real child process, the way an operator starts it. Tests run the
 * TypeScript sources; the benchmark runs the built JavaScript (`built: true`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export interface ServiceProcess {
  baseUrl: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface StartOptions {
  readyTimeoutMs?: number;
  /** Run dist/cli.js (after `npm run build`) instead of the sources. */
  built?: boolean;
  /** Send the service's stdout (its log lines) to /dev/null instead of keeping it for output(). */
  discardLogs?: boolean;
  /** Node's arguments for another program that serves `/ready` (the bench's bare handler). */
  entry?: string[];
  /** Node's own options before the service's module (the bench's `--max-semi-space-size`). */
  nodeFlags?: string[];
}

/** Starts the service with `env` over the parent's environment; an `undefined` value unsets a variable. */
export async function startService(
  env: Record<string, string | undefined>,
  { readyTimeoutMs = 30_000, built = false, discardLogs = false, entry: program, nodeFlags = [] }: StartOptions = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const childEnv: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  const entry = program ?? [...nodeFlags, ...(built ? ['dist/cli.js', 'serve'] : ['--import', 'tsx', 'src/cli.ts', 'serve'])];
  const child = spawn(process.execPath, entry, { env: childEnv, stdio: ['ignore', discardLogs ? 'ignore' : 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const service: ServiceProcess = {
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited early:\n${output}`);
    const ready = await fetch(`${service.baseUrl}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return service;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await service.stop('SIGKILL');
  throw new Error(`service was not ready within ${readyTimeoutMs} ms:\n${output}`);
}
