/**
 * Admission to the API under overload, over real sockets: a bounded number of requests at work, a
 * line for the rest, and a cheap 503 OVERLOADED for what would wait too long. The identify use
 * case is a stand-in that answers only when the test lets it, so that "busy" is exact.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { HttpSettings } from '../../src/http/settings.js';
import type { IdentifyService } from '../../src/identity/identifyService.js';
import type { Identifiers } from '../../src/identity/contact.js';
import { openScratchPglite, type ScratchDatabase } from '../support/databases.js';
import { listenOnRandomPort } from '../support/liveApp.js';

/** An identify use case that holds every call until `release` lets the oldest one answer. */
function heldService() {
  const calls: Identifiers[] = [];
  const held: (() => void)[] = [];
  let open = false;
  const service: IdentifyService = {
    identify(request) {
      calls.push(request);
      return new Promise((resolve) => {
        held.push(() =>
          resolve({
            customer: {
              primaryContactId: calls.length,
              emails: request.email ? [request.email] : [],
              phoneNumbers: [],
              secondaryContactIds: [],
            },
            outcome: 'unchanged',
            ignored: [],
          }),
        );
        if (open) held.shift()?.();
      });
    },
  };
  return {
    service,
    calls,
    /** The oldest held call answers. */
    release() {
      held.shift()?.();
    },
    /** Every call, held or to come, answers. */
    openGate() {
      open = true;
      while (held.length > 0) held.shift()?.();
    },
  };
}

async function metricValue(baseUrl: string, line: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

const inLine = (baseUrl: string) => metricValue(baseUrl, 'identity_overload_in_flight{state="waiting"}');

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

const identify = (baseUrl: string, email: string) =>
  fetch(`${baseUrl}/identify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });

describe('admission to the API under overload', () => {
  let scratch: ScratchDatabase;
  before(async () => {
    scratch = await openScratchPglite();
  });
  after(() => scratch.dispose());

  async function serve(http: Partial<HttpSettings>) {
    const held = heldService();
    const { app, baseUrl } = await listenOnRandomPort({
      db: scratch.db,
      identifyService: held.service,
      http: { maxEventLoopDelayMs: 0, ...http },
    });
    return { app, baseUrl, held };
  }
  let app: FastifyInstance | undefined;
  const close = async () => {
    await app?.close();
    app = undefined;
  };

  it('works on at most OVERLOAD_MAX_IN_FLIGHT requests at once; the rest wait in line and start in arrival order as turns free up', async () => {
    const live = await serve({ maxInFlight: 2, maxWaitMs: 0 });
    app = live.app;
    try {
      const answers: Promise<Response>[] = [];
      for (let i = 0; i < 6; i++) {
        answers.push(identify(live.baseUrl, `c${i}@x.io`));
        // One at a time, so that the arrival order is the order of this loop.
        await until(async () => live.held.calls.length + (await inLine(live.baseUrl)) === i + 1, `request ${i} has arrived`);
      }
      assert.deepEqual(
        live.held.calls.map((call) => call.email),
        ['c0@x.io', 'c1@x.io'],
      );
      assert.equal(await inLine(live.baseUrl), 4);
      for (let served = 2; served < 6; served++) {
        live.held.release();
        await until(async () => live.held.calls.length === served + 1, `request ${served} has started`);
        assert.equal(live.held.calls[served]?.email, `c${served}@x.io`);
        assert.equal(await metricValue(live.baseUrl, 'identity_overload_in_flight{state="processing"}'), 2);
      }
      live.held.openGate();
      assert.deepEqual(
        (await Promise.all(answers)).map((answer) => answer.status),
        [200, 200, 200, 200, 200, 200],
      );
      assert.equal(await inLine(live.baseUrl), 0);
    } finally {
      live.held.openGate();
      await close();
    }
  });

  it('refuses at once, before reading the body, a request that finds the line full: 503 OVERLOADED in the error shape, Retry-After, counted; health, readiness and metrics answer meanwhile', async () => {
    // One at work and, to begin with, a line of four times that.
    const live = await serve({ maxInFlight: 1, maxWaitMs: 60_000 });
    app = live.app;
    try {
      const admitted = Array.from({ length: 5 }, (_, i) => identify(live.baseUrl, `a${i}@x.io`));
      await until(async () => (await inLine(live.baseUrl)) === 4, 'four wait in line');

      // Headers only, the body never sent: the answer does not wait for it.
      const answer = await new Promise<string>((resolve, reject) => {
        const url = new URL(live.baseUrl);
        let text = '';
        const socket = connect(Number(url.port), url.hostname, () =>
          socket.write('POST /identify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":'),
        );
        socket.on('data', (chunk) => {
          text += chunk;
          if (text.includes('\r\n\r\n') && text.endsWith('}}')) {
            resolve(text);
            socket.destroy();
          }
        });
        socket.once('error', reject);
      });
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      assert.equal(head.split('\r\n')[0], 'HTTP/1.1 503 Service Unavailable');
      assert.match(head, /^retry-after: 1$/im);
      assert.match(head, /^content-type: application\/json/im);
      const error = (JSON.parse(body) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'OVERLOADED');
      assert.match(error.message, /overloaded/);

      assert.equal((await fetch(`${live.baseUrl}/health`)).status, 200);
      assert.equal((await fetch(`${live.baseUrl}/ready`)).status, 200);
      assert.equal(await metricValue(live.baseUrl, 'identity_overload_shed_total{reason="line_full"}'), 1);
      assert.equal(live.held.calls.length, 1);

      live.held.openGate();
      assert.deepEqual(
        (await Promise.all(admitted)).map((answer) => answer.status),
        [200, 200, 200, 200, 200],
      );
      // The line is empty again: the next request is served.
      assert.equal((await identify(live.baseUrl, 'next@x.io')).status, 200);
    } finally {
      live.held.openGate();
      await close();
    }
  });

  it('refuses a waiting request once it has waited OVERLOAD_MAX_WAIT_MS', async () => {
    const live = await serve({ maxInFlight: 1, maxWaitMs: 1_000 });
    app = live.app;
    try {
      const first = identify(live.baseUrl, 'slow@x.io');
      await until(async () => live.held.calls.length === 1, 'the first request has started');
      const started = Date.now();
      const waiting = await identify(live.baseUrl, 'waiting@x.io');
      assert.equal(waiting.status, 503);
      assert.equal(((await waiting.json()) as { error: { code: string } }).error.code, 'OVERLOADED');
      assert.ok(Date.now() - started >= 1_000, `refused after ${Date.now() - started} ms`);
      assert.equal(await metricValue(live.baseUrl, 'identity_overload_shed_total{reason="waited_too_long"}'), 1);
      live.held.openGate();
      assert.equal((await first).status, 200);
      assert.equal(live.held.calls.length, 1);
    } finally {
      live.held.openGate();
      await close();
    }
  });

  it('drops a waiting request whose client hangs up: no work is done for it, and its turn goes to the next', async () => {
    const live = await serve({ maxInFlight: 1, maxWaitMs: 0 });
    app = live.app;
    try {
      const first = identify(live.baseUrl, 'first@x.io');
      await until(async () => live.held.calls.length === 1, 'the first request has started');
      const gone = new AbortController();
      const abandoned = fetch(`${live.baseUrl}/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'gone@x.io' }),
        signal: gone.signal,
      }).catch(() => 'aborted');
      await until(async () => (await inLine(live.baseUrl)) === 1, 'the second waits');
      const third = identify(live.baseUrl, 'third@x.io');
      await until(async () => (await inLine(live.baseUrl)) === 2, 'the third waits');
      gone.abort();
      assert.equal(await abandoned, 'aborted');
      await until(async () => (await inLine(live.baseUrl)) === 1, 'the abandoned request has left the line');
      live.held.release();
      await until(async () => live.held.calls.length === 2, 'the third has started');
      assert.deepEqual(
        live.held.calls.map((call) => call.email),
        ['first@x.io', 'third@x.io'],
      );
      live.held.openGate();
      assert.equal((await first).status, 200);
      assert.equal((await third).status, 200);
      assert.equal(await metricValue(live.baseUrl, 'identity_overload_shed_total{reason="client_gone"}'), 1);
      assert.equal(await metricValue(live.baseUrl, 'identity_overload_in_flight{state="processing"}'), 0);
    } finally {
      live.held.openGate();
      await close();
    }
  });

  it('refuses API requests while the event loop lags more than OVERLOAD_EVENT_LOOP_DELAY_MS, and admits them again once it does not', async () => {
    const live = await serve({ maxInFlight: 10, maxWaitMs: 60_000, maxEventLoopDelayMs: 20 });
    app = live.app;
    try {
      // Block the loop in 100 ms slices for ~1.5 s: the mean delay over the last second is far above 20 ms.
      const blockUntil = Date.now() + 1_500;
      while (Date.now() < blockUntil) {
        const slice = Date.now() + 100;
        while (Date.now() < slice) {
          /* busy */
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const lagging = await identify(live.baseUrl, 'lag@x.io');
      assert.equal(lagging.status, 503);
      assert.match(((await lagging.json()) as { error: { message: string } }).error.message, /event loop/);
      assert.equal((await fetch(`${live.baseUrl}/health`)).status, 200);
      // A calm second later, requests are admitted again.
      await sleep(2_200);
      const calm = identify(live.baseUrl, 'calm@x.io');
      live.held.openGate();
      assert.equal((await calm).status, 200);
    } finally {
      live.held.openGate();
      await close();
    }
  });
});
