/**
 * The service as a process at the edges of its connections: more open sockets than it has file
 * descriptors (a low `ulimit -n`), and slow clients that never finish a request. A crash or a
 * connection held past its timeout is the failure, so these run the real process over real sockets.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { freePort } from '../support/serviceProcess.js';

interface Service {
  port: number;
  child: ChildProcess;
  output(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

/** `node src/cli.ts serve` under `ulimit -n <openFiles>` (soft and hard: Node cannot raise it). */
async function startService(env: Record<string, string>, openFiles?: number): Promise<Service> {
  const port = await freePort();
  const command = `${openFiles === undefined ? '' : `ulimit -n ${openFiles} && `}exec "$0" --import tsx src/cli.ts serve`;
  const child = spawn('bash', ['-c', command, process.execPath], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit');
  const service: Service = {
    port,
    child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (service.alive()) child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!service.alive()) throw new Error(`service exited early:\n${output}`);
    if (
      await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return service;
    await sleep(100);
  }
  await service.stop();
  throw new Error(`service was not ready within 30 s:\n${output}`);
}

/** Opens a TCP connection and sends nothing; resolves once connected, or once the server drops it. */
function idleSocket(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  });
}

/** What a client sees on a fresh connection: the status line, or how the connection ended. */
function probe(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = (result: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('no answer'), timeoutMs);
    socket.on('connect', () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => done(data.split('\r\n')[0] || error.code || 'error'));
    socket.on('close', () => done(data.split('\r\n')[0] || 'closed'));
  });
}

describe('more connections than file descriptors', () => {
  it('under ulimit -n 256, 320 idle connections neither kill the process nor stop it answering once they close; the excess is shed at once', async () => {
    const service = await startService({ DATABASE_URL: 'memory://' }, 256);
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 320; i++) sockets.push(await idleSocket(service.port));
      // Several of the one-second timers that sampled memory (process.memoryUsage() needs a descriptor).
      await sleep(3_000);
      assert.ok(service.alive(), `the service died with every descriptor in use:\n${service.output()}`);
      // While full, a new connection is closed at once rather than left waiting for a descriptor.
      assert.notEqual(await probe(service.port, 5_000), 'no answer');
      for (const socket of sockets) socket.destroy();
      await sleep(500);
      assert.equal(await probe(service.port, 5_000), 'HTTP/1.1 200 OK');
      assert.ok(service.alive(), service.output());
    } finally {
      for (const socket of sockets) socket.destroy();
      await service.stop();
    }
  });
});

/**
 * Sends `head` (and `body`) one byte every `gapMs`, never finishing; resolves with how long the
 * server kept the connection and what it said, or `null` once `giveUpMs` has passed.
 */
function slowClient(port: number, text: string, gapMs: number, giveUpMs: number): Promise<{ elapsedMs: number; answer: string } | null> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < text.length && socket.writable) socket.write(text[sent++] as string);
    }, gapMs);
    const finish = (result: { elapsedMs: number; answer: string } | null) => {
      clearInterval(trickle);
      clearTimeout(giveUp);
      socket.destroy();
      resolve(result);
    };
    const giveUp = setTimeout(() => finish(null), giveUpMs);
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', () => {});
    socket.on('close', () => finish({ elapsedMs: Date.now() - started, answer: data.split('\r\n')[0] ?? '' }));
  });
}

describe('slow clients', () => {
  const TIMEOUT_MS = 2_000;
  // Generous: the process is busy with both clients on a loaded machine, and the check is periodic.
  const MARGIN_MS = 1_500;

  it(`are cut off with 408 within REQUEST_TIMEOUT_MS (+${MARGIN_MS} ms), whether the headers or the body never finish`, async () => {
    const service = await startService({ DATABASE_URL: 'memory://', REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) });
    try {
      const headers = 'POST /identify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: ' + 'a'.repeat(200);
      const body =
        'POST /identify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"email":"' + 'a'.repeat(380);
      // The headers line takes ~0.5 s to arrive, then the body trickles: the whole request is on the clock.
      const [slowHeaders, slowBody] = await Promise.all([
        slowClient(service.port, headers, 100, TIMEOUT_MS + 8_000),
        slowClient(service.port, body, 5, TIMEOUT_MS + 8_000),
      ]);
      for (const [name, result] of [
        ['headers', slowHeaders],
        ['body', slowBody],
      ] as const) {
        assert.ok(result !== null, `a client trickling its ${name} was still connected ${TIMEOUT_MS + 8_000} ms later`);
        assert.ok(result.elapsedMs >= TIMEOUT_MS - 100, `${name}: cut off after ${result.elapsedMs} ms, before the timeout`);
        assert.ok(
          result.elapsedMs <= TIMEOUT_MS + MARGIN_MS,
          `${name}: cut off after ${result.elapsedMs} ms, more than ${TIMEOUT_MS} + ${MARGIN_MS}`,
        );
        assert.equal(result.answer, 'HTTP/1.1 408 Request Timeout');
      }
      // A prompt client on the same process is unaffected.
      assert.equal((await fetch(`http://127.0.0.1:${service.port}/health`)).status, 200);
    } finally {
      await service.stop();
    }
  });
});
