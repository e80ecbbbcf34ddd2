/**
 * The webhook deliverer that runs inside every `serve` process (every worker with
 * WEB_CONCURRENCY): a loop that, every `pollMs`, advances the event watermark and works the
 * endpoints that have events up to it.
 *
 * - Strict order per endpoint: the events after its cursor, in id order, one per request; a
 *   failed event is tried again (exponential backoff, full jitter) before anything after it.
 * - One process per endpoint at a time: a lease in the database (`lease`), renewed whenever the
 *   cursor is saved. The cursor is saved after SAVE_EVERY deliveries or SAVE_MS, before a failure
 *   is recorded and when the work stops, not after every event: one UPDATE per event cost the
 *   writes a fifth of their throughput. A process that dies (SIGKILL) loses its lease after
 *   `leaseMs` and another takes over from the saved cursor, sending again what was delivered since
 *   (at most SAVE_EVERY events): at-least-once, receivers drop duplicates by `webhook-id`.
 * - 2xx is delivered; any other status, a timeout (`timeoutMs`) or a network error is a failure.
 *   Once an endpoint has been failing for `retryWindowMs`, the event is dead-lettered and the
 *   next one tried (one attempt each until one succeeds; the admin API redelivers dead letters).
 * - Payloads are built from the log just before they are sent (src/delivery/events.ts).
 * - Off when there are no endpoints: it then only counts them every few seconds (or when `wake`d).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { toPayload } from './events.js';
import { postWebhook, PostTimeoutError } from './post.js';
import { signingKey, webhookHeaders } from './signature.js';
import type { DeliveryStore, LeasedEndpoint, Outgoing } from './store.js';

export interface DeliverySettings {
  /** WEBHOOK_URLS: endpoints kept in step with the configuration. */
  urls: string[];
  /** WEBHOOK_SECRET: the secret of those endpoints. */
  secret: string | null;
  /** One attempt's time limit (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** How long an endpoint may keep failing before its failed events are dead-lettered (WEBHOOK_RETRY_HOURS). */
  retryWindowMs: number;
  /** Backoff: attempt n waits a random time up to min(cap, base × 2^(n−1)) (WEBHOOK_BACKOFF_BASE_MS, WEBHOOK_BACKOFF_CAP_MS). */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** How long a lease holds without renewal (WEBHOOK_LEASE_MS); more than an attempt's time limit. */
  leaseMs: number;
  /** How often each process looks for events to deliver (WEBHOOK_POLL_MS). */
  pollMs: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  urls: [],
  secret: null,
  timeoutMs: 10_000,
  retryWindowMs: 24 * 3_600_000,
  backoffBaseMs: 1_000,
  backoffCapMs: 600_000,
  leaseMs: 30_000,
  pollMs: 250,
};

export type DeliveryOutcome = 'delivered' | 'failed' | 'dead';

export interface DelivererLog {
  warn(fields: object, message: string): void;
}

export interface DelivererOptions {
  settings: DeliverySettings;
  onOutcome?: (outcome: DeliveryOutcome) => void;
  log?: DelivererLog;
  /** This process, as lease owner; unique per process by default. */
  owner?: string;
}

export interface Deliverer {
  /** Look for work now (an endpoint was added, a dead letter is to be redelivered). */
  wake(): void;
  /** Stops the loop, abandons attempts in flight (they are sent again later) and releases the leases. */
  stop(): Promise<void>;
}

/** Endpoints are counted this often while there are none (and after every `wake`). */
const IDLE_CHECK_MS = 5_000;
/** Events read at once for one endpoint; a batch older than MAX_BATCH_AGE_MS is read again, so payloads stay fresh. */
const BATCH = 50;
const MAX_BATCH_AGE_MS = 1_000;
/** Deliveries between two saves of an endpoint's cursor, and the longest a save waits. */
const SAVE_EVERY = 100;
const SAVE_MS = 200;

/** Full jitter: a random wait up to min(cap, base × 2^(attempt−1)). */
export function backoffMs(
  attempt: number,
  { backoffBaseMs, backoffCapMs }: Pick<DeliverySettings, 'backoffBaseMs' | 'backoffCapMs'>,
  random = Math.random,
): number {
  const ceiling = Math.min(backoffCapMs, backoffBaseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.floor(random() * ceiling);
}

export function startDeliverer(store: DeliveryStore, { settings, onOutcome, log, owner = defaultOwner() }: DelivererOptions): Deliverer {
  const stopping = new AbortController();
  const working = new Map<number, Promise<void>>();
  let wakeUp: (() => void) | null = null;
  let nextCount = 0;
  let endpoints = 0;
  let failingSince: number | null = null;

  const warnOnce = (error: unknown) => {
    // The database being away shows in /ready and its own logs: one line when it starts failing.
    if (failingSince === null)
      log?.warn({ code: (error as { code?: string }).code, err: (error as Error).message }, 'webhook delivery paused: the database failed');
    failingSince ??= Date.now();
  };

  async function poll(): Promise<void> {
    const now = Date.now();
    if (now >= nextCount) {
      endpoints = await store.countEndpoints();
      nextCount = now + IDLE_CHECK_MS;
    }
    if (endpoints === 0) return;
    const safeThrough = await store.advanceWatermark();
    for (const id of await store.dueEndpoints(owner, safeThrough)) {
      if (working.has(id) || stopping.signal.aborted) continue;
      working.set(
        id,
        work(id, safeThrough)
          .catch(warnOnce)
          .finally(() => working.delete(id)),
      );
    }
  }

  async function work(endpointId: number, safeThrough: string): Promise<void> {
    let endpoint = await store.lease(endpointId, owner, settings.leaseMs);
    if (endpoint === null) return;
    // The last delivered event whose place the database does not know yet (see SAVE_EVERY).
    let unsaved: Outgoing | null = null;
    let unsavedCount = 0;
    let savedAt = Date.now();
    const save = async (): Promise<boolean> => {
      if (unsaved === null) return true;
      const event = unsaved;
      unsaved = null;
      unsavedCount = 0;
      savedAt = Date.now();
      return store.delivered(endpointId, owner, event, settings.leaseMs);
    };
    try {
      const key = signingKey(endpoint.secret);
      let batch: Outgoing[] = [];
      let readAt = 0;
      while (!stopping.signal.aborted) {
        if (batch.length === 0 || Date.now() - readAt > MAX_BATCH_AGE_MS) {
          batch = await store.outgoing(endpoint, safeThrough, BATCH);
          readAt = Date.now();
          if (batch.length === 0) return;
        }
        const event = batch.shift() as Outgoing;
        const result = await attempt(endpoint, key, event);
        if (result === 'stopped') return;
        if (result === 'ok') {
          if (event.redelivery) {
            // A redelivered dead letter is removed at once, after what was delivered before it.
            if (!(await save()) || !(await store.delivered(endpoint.id, owner, event, settings.leaseMs))) return;
          } else {
            unsaved = event;
            unsavedCount += 1;
            if ((unsavedCount >= SAVE_EVERY || Date.now() - savedAt >= SAVE_MS) && !(await save())) return;
          }
          onOutcome?.('delivered');
          endpoint = advanced(endpoint, event);
          continue;
        }
        if (!(await save())) return;
        const attempts = endpoint.attemptEventId === event.id ? endpoint.attempts + 1 : 1;
        const failure = await store.failed(endpoint.id, owner, {
          eventId: event.id,
          attempts,
          error: result.error,
          retryInMs: backoffMs(attempts, settings),
          retryWindowMs: settings.retryWindowMs,
        });
        if (failure === null) return;
        onOutcome?.('failed');
        if (!failure.exhausted) return; // the next attempt is due later: dueEndpoints brings it back
        if (!(await store.deadLetter(endpoint.id, owner, event, attempts, result.error, settings.leaseMs))) return;
        onOutcome?.('dead');
        endpoint = advanced({ ...endpoint, attemptEventId: null, attempts: 0 }, event);
        batch = []; // read again: the dead letter's place in the order is settled
      }
    } finally {
      await save().catch(() => false);
      await store.release(endpointId, owner).catch(() => {});
    }
  }

  async function attempt(endpoint: LeasedEndpoint, key: Buffer, event: Outgoing): Promise<'ok' | 'stopped' | { error: string }> {
    const body = JSON.stringify(toPayload(event));
    try {
      const status = await postWebhook(endpoint.url, webhookHeaders(key, event.id, body), body, {
        signal: stopping.signal,
        timeoutMs: settings.timeoutMs,
      });
      return status >= 200 && status < 300 ? 'ok' : { error: `HTTP ${status}` };
    } catch (error) {
      if (stopping.signal.aborted) return 'stopped';
      return { error: failureReason(error) };
    }
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await poll();
        if (failingSince !== null) log?.warn({ pausedMs: Date.now() - failingSince }, 'webhook delivery resumed');
        failingSince = null;
      } catch (error) {
        warnOnce(error);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, settings.pollMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = null;
    }
  })();

  return {
    wake() {
      nextCount = 0;
      wakeUp?.();
    },
    async stop() {
      stopping.abort();
      wakeUp?.();
      await loop;
      await Promise.all(working.values());
    },
  };
}

function advanced(endpoint: LeasedEndpoint, event: Outgoing): LeasedEndpoint {
  const cursor = event.redelivery || BigInt(event.id) <= BigInt(endpoint.cursor) ? endpoint.cursor : event.id;
  return { ...endpoint, cursor, attemptEventId: null, attempts: 0 };
}

/** A short reason, never a body: `timeout`, a network error's code, or `network error`. */
function failureReason(error: unknown): string {
  if (error instanceof PostTimeoutError) return 'timeout';
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? code : 'network error';
}

function defaultOwner(): string {
  return `${hostname().slice(0, 100)}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
