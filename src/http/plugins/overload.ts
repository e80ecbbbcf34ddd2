/**
 * Overload protection, so that a process pushed past what it can serve keeps serving what it can:
 *
 * - admission to the API: at most `maxInFlight` requests are processed at once (four times the
 *   database pool by default); the rest wait in line — before their bodies are read — and start
 *   in arrival order as turns free up. No request waits in line longer than `maxWaitMs`: it is
 *   answered 503 OVERLOADED (Retry-After: 1) then. How long the line may grow is learnt: it
 *   doubles every tick in which it was full and nobody waited too long, and halves every tick in
 *   which somebody did, and grows only while requests are being answered; past it, requests are
 *   refused at once. While every turn is taken and nothing but 503s has been answered for a
 *   quarter of `maxWaitMs` (a database that stopped answering), new requests are refused at once.
 *   A client that hangs up while waiting leaves the line.
 * - while the event loop lags more than `maxEventLoopDelayMs`, every API request is refused.
 * - at most `maxConnections` open connections: more are closed as they arrive, before they can
 *   use up the process's file descriptors.
 *
 * Why a line that grows rather than a bound computed from capacity: a refused client that tries
 * again at once costs the process nearly what a served one does, and a crowd of them takes the
 * event loop from the requests being served, so the capacity measured while refusing is the
 * capacity the refusals left — a bound computed from it keeps refusing. Serving everyone who
 * can be served within `maxWaitMs` refuses nobody in the first place; the line's own waits say
 * when that stops being true.
 *
 * Refusals are cheap on purpose: a fixed body, no error object, no stack trace in the logs; they
 * are counted in `identity_overload_shed_total`.
 *
 * No timer here throws: the event-loop delay comes from perf_hooks' histogram, which needs no
 * file descriptor (`process.memoryUsage()`, which @fastify/under-pressure called every second,
 * does, and threw EMFILE out of a timer, killing the process, once connections had used them all).
 */
import type { Server } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';

const RETRY_AFTER_SECONDS = '1';
/** How often the line is checked for requests that waited too long, and its length adjusted. */
export const TICK_MS = 100;
/** The line starts at, and never shrinks below, this many times `maxInFlight`. */
export const SMALLEST_LINE = 4;
/** Beyond this, a longer line holds nothing a process could serve in any sensible wait. */
const LONGEST_LINE = 1_000_000;
/** Every turn taken and nothing finished for this share of `maxWaitMs`: stalled. */
const STALL_SHARE = 0.25;
/** The event-loop delay is the mean over this window, as @fastify/under-pressure measured it. */
const EVENT_LOOP_WINDOW_MS = 1_000;
const EVENT_LOOP_RESOLUTION_MS = 10;

export type ShedReason = 'line_full' | 'stalled' | 'waited_too_long' | 'event_loop_delay' | 'connections' | 'client_gone';

export interface AdmissionSettings {
  /** Requests processed at once; 0: no line, every request starts at once. */
  maxInFlight: number;
  /** Longest wait in line; 0: no bound, the line waits as long as it takes. */
  maxWaitMs: number;
}

interface Waiter {
  start(): void;
  refuse(reason: ShedReason): void;
  since: number;
  live: boolean;
}

/**
 * The line in front of the API, without HTTP: `request` starts, queues or refuses; `finish`
 * frees a turn; `tick` (every TICK_MS) expires waiters and adjusts the line. Exported for tests.
 */
export class Admission {
  private running = 0;
  private waiting = 0;
  private readonly line: Waiter[] = [];
  private head = 0;
  private dispatching = false;
  /** Waiters allowed now. */
  private limit: number;
  private refusedSinceTick = false;
  private progressSinceTick = false;
  /** The last answer that was not a 503, and the last time nothing was in progress. */
  private lastProgress = -Infinity;
  private lastIdle: number;

  constructor(
    private readonly settings: AdmissionSettings,
    private readonly now: () => number = () => performance.now(),
    /** A request that threw as its turn came: its turn is freed, the line goes on. */
    private readonly onStartError: (error: unknown) => void = () => {},
  ) {
    this.limit = SMALLEST_LINE * settings.maxInFlight;
    this.lastIdle = now();
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting;
  }

  /** How many may wait in line now. */
  get lineLimit(): number {
    return this.settings.maxWaitMs === 0 ? Infinity : this.limit;
  }

  /**
   * Asks for a turn: `start` runs now or when the turn comes, or `refuse` runs instead, now or
   * when the request has waited too long. Returns what to call if the client goes away first.
   */
  request(start: () => void, refuse: (reason: ShedReason) => void): () => void {
    const { maxInFlight, maxWaitMs } = this.settings;
    if (maxInFlight === 0) {
      start();
      return noop;
    }
    if (this.running < maxInFlight && this.waiting === 0) {
      if (this.running === 0) this.lastIdle = this.now();
      this.running++;
      try {
        start();
      } catch (error) {
        this.running--;
        throw error;
      }
      return noop;
    }
    if (maxWaitMs > 0) {
      const refusal = this.stalled(this.now()) ? 'stalled' : this.waiting >= this.limit ? 'line_full' : null;
      if (refusal !== null) {
        this.refusedSinceTick = true;
        refuse(refusal);
        return noop;
      }
    }
    const waiter: Waiter = { start, refuse, since: this.now(), live: true };
    this.line.push(waiter);
    this.waiting++;
    return () => {
      if (!waiter.live) return;
      waiter.live = false;
      this.waiting--;
    };
  }

  /**
   * A started request is done: its turn goes to the next in line. `progress`: it was answered
   * with something other than a 503 — a database that fails every query finishes requests too,
   * but that is no sign that more of them can be served.
   */
  finish(progress: boolean): void {
    if (this.settings.maxInFlight === 0) return;
    if (progress) {
      this.lastProgress = this.now();
      this.progressSinceTick = true;
    }
    this.running--;
    if (this.running === 0 && this.waiting === 0) this.lastIdle = this.now();
    this.dispatch();
  }

  tick(): void {
    const { maxWaitMs, maxInFlight } = this.settings;
    if (maxWaitMs === 0 || maxInFlight === 0) return;
    const now = this.now();
    let expired = false;
    for (let waiter = this.peek(); waiter !== undefined && now - waiter.since >= maxWaitMs; waiter = this.peek()) {
      this.take().refuse('waited_too_long');
      expired = true;
    }
    if (expired || this.stalled(now)) this.limit = Math.max(SMALLEST_LINE * maxInFlight, Math.floor(this.limit / 2));
    else if (this.refusedSinceTick && this.progressSinceTick) this.limit = Math.min(LONGEST_LINE, this.limit * 2);
    this.refusedSinceTick = false;
    this.progressSinceTick = false;
  }

  /** Every turn taken, and no answer but 503s for a while although there was work: stalled. */
  private stalled(now: number): boolean {
    return (
      this.running >= this.settings.maxInFlight && now - Math.max(this.lastProgress, this.lastIdle) >= STALL_SHARE * this.settings.maxWaitMs
    );
  }

  private dispatch(): void {
    if (this.dispatching) return; // a request that finished while starting: the loop below goes on
    this.dispatching = true;
    try {
      while (this.running < this.settings.maxInFlight && this.peek() !== undefined) {
        this.running++;
        try {
          this.take().start();
        } catch (error) {
          this.running--;
          this.onStartError(error);
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** The first live waiter, dropping those whose clients went away. */
  private peek(): Waiter | undefined {
    while (this.head < this.line.length && !(this.line[this.head] as Waiter).live) this.head++;
    if (this.head > 1024 && this.head * 2 > this.line.length) {
      this.line.splice(0, this.head);
      this.head = 0;
    }
    return this.line[this.head];
  }

  private take(): Waiter {
    const waiter = this.line[this.head++] as Waiter;
    waiter.live = false;
    this.waiting--;
    return waiter;
  }
}

const noop = () => {};

/** Mean event-loop delay over the last second, from a histogram that needs no system call. */
class EventLoopDelay {
  private readonly histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  private windowStart = performance.now();
  delayMs = 0;

  constructor() {
    this.histogram.enable();
  }

  sample(): void {
    const now = performance.now();
    if (now - this.windowStart < EVENT_LOOP_WINDOW_MS) return;
    const mean = this.histogram.mean / 1e6;
    // No sample at all: the loop was blocked for the whole window.
    this.delayMs = Number.isNaN(mean) ? now - this.windowStart : Math.max(0, mean - EVENT_LOOP_RESOLUTION_MS);
    this.histogram.reset();
    this.windowStart = now;
  }

  stop(): void {
    this.histogram.disable();
  }
}

export interface OverloadMetrics {
  shed: Counter<'reason'>;
}

function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

function overloadMetrics(registry: Registry): OverloadMetrics {
  const shed = metric(
    registry,
    'identity_overload_shed_total',
    () =>
      new Counter({
        name: 'identity_overload_shed_total',
        help: 'Requests answered 503 OVERLOADED, and connections closed, instead of served: line_full, stalled, waited_too_long, event_loop_delay, connections (MAX_CONNECTIONS); client_gone: the client left while waiting',
        labelNames: ['reason'],
        registers: [registry],
      }),
  );
  return { shed };
}

function refusalBody(reason: ShedReason, settings: AdmissionSettings & { maxEventLoopDelayMs: number }): string {
  const why: Record<ShedReason, string> = {
    line_full: 'too many requests are waiting already',
    stalled: 'requests in progress have not finished for a while',
    waited_too_long: `this request waited ${settings.maxWaitMs} ms for its turn`,
    event_loop_delay: `event loop delay over ${settings.maxEventLoopDelayMs} ms`,
    connections: 'too many open connections',
    client_gone: 'the client left',
  };
  return JSON.stringify({ error: { code: 'OVERLOADED', message: `The service is overloaded (${why[reason]}); retry in a moment.` } });
}

export interface GuardOptions extends AdmissionSettings {
  maxEventLoopDelayMs: number;
  registry: Registry;
}

const FINISH = Symbol('overload.finish');
const HANDLING = Symbol('overload.handling');

declare module 'fastify' {
  interface FastifyRequest {
    [FINISH]?: (progress: boolean) => void;
    [HANDLING]?: boolean;
  }
}

/**
 * Registers admission on `scope` (an encapsulated scope holding only the API's routes): health
 * checks, metrics and docs stay outside it, answering whatever the load.
 */
export async function guardAgainstOverload(scope: FastifyInstance, options: GuardOptions): Promise<void> {
  const { shed } = overloadMetrics(options.registry);
  const admission = new Admission(options, undefined, (error) => scope.log.error({ err: error }, 'a request failed as its turn came'));
  const eventLoop = options.maxEventLoopDelayMs > 0 ? new EventLoopDelay() : null;
  const bodies = Object.fromEntries(
    (['line_full', 'stalled', 'waited_too_long', 'event_loop_delay'] as const).map((reason) => [reason, refusalBody(reason, options)]),
  ) as Record<ShedReason, string>;

  metric(
    options.registry,
    'identity_overload_in_flight',
    () =>
      new Gauge({
        name: 'identity_overload_in_flight',
        help: 'API requests being processed (at most OVERLOAD_MAX_IN_FLIGHT) and waiting in line for their turn',
        labelNames: ['state'],
        registers: [options.registry],
        collect() {
          this.set({ state: 'processing' }, admission.inFlight);
          this.set({ state: 'waiting' }, admission.queued);
        },
      }),
  );
  metric(
    options.registry,
    'identity_overload_line_limit',
    () =>
      new Gauge({
        name: 'identity_overload_line_limit',
        help: 'How many API requests may wait in line now (learnt: doubles while the line is full and nobody waits too long, halves when somebody does); -1: no limit',
        registers: [options.registry],
        collect() {
          this.set(Number.isFinite(admission.lineLimit) ? admission.lineLimit : -1);
        },
      }),
  );

  const timer = setInterval(() => {
    try {
      admission.tick();
      eventLoop?.sample();
    } catch (error) {
      scope.log.error({ err: error }, 'overload guard tick failed');
    }
  }, TICK_MS);
  timer.unref();
  scope.addHook('onClose', (_instance, done) => {
    clearInterval(timer);
    eventLoop?.stop();
    done();
  });

  const refuse = (reply: FastifyReply, reason: ShedReason) => {
    shed.inc({ reason });
    void reply.code(503).header('retry-after', RETRY_AFTER_SECONDS).type('application/json; charset=utf-8').send(bodies[reason]);
  };

  scope.addHook('onRequest', (request, reply, done) => {
    if (eventLoop !== null && eventLoop.delayMs > options.maxEventLoopDelayMs) return refuse(reply, 'event_loop_delay');
    let started = false;
    let finished = false;
    const finish = (progress: boolean) => {
      if (!started || finished) return;
      finished = true;
      admission.finish(progress);
    };
    request[FINISH] = finish;
    const leave = admission.request(
      () => {
        started = true;
        try {
          done();
        } catch (error) {
          finished = true; // the line frees the turn
          throw error;
        }
      },
      (reason) => refuse(reply, reason),
    );
    reply.raw.once('close', () => {
      if (!started) {
        if (!reply.sent) shed.inc({ reason: 'client_gone' });
        leave();
      } else if (!request[HANDLING]) {
        finish(false); // gone before its handler ran; a running handler finishes in onSend
      }
    });
  });
  scope.addHook('preHandler', (request, _reply, done) => {
    request[HANDLING] = true;
    done();
  });
  scope.addHook('onSend', (request: FastifyRequest, reply, payload, done) => {
    request[HANDLING] = false;
    request[FINISH]?.(reply.statusCode !== 503);
    done(null, payload);
  });
}

/**
 * Caps open connections at `maxConnections` (0: no cap); Node.js closes the excess as it arrives.
 * Should accept() still fail for want of descriptors, the server logs it instead of dying.
 */
export function limitConnections(
  server: Server,
  { maxConnections, registry, log }: { maxConnections: number; registry: Registry; log: FastifyBaseLogger },
): void {
  const { shed } = overloadMetrics(registry);
  if (maxConnections > 0) server.maxConnections = maxConnections;
  server.on('drop', () => shed.inc({ reason: 'connections' }));
  let lastWarning = 0;
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.syscall !== 'accept') return; // listen errors belong to listen()
    shed.inc({ reason: 'connections' });
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    log.warn({ code: error.code, maxConnections }, 'cannot accept connections: out of file descriptors; lower MAX_CONNECTIONS');
  });
  metric(
    registry,
    'identity_http_connections',
    () =>
      new Gauge({
        name: 'identity_http_connections',
        help: 'Open HTTP connections (at most MAX_CONNECTIONS)',
        registers: [registry],
        async collect() {
          this.set(await new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count ?? 0))));
        },
      }),
  );
}
