/**
 * An outage is logged when it starts and when it ends, not once per failed request: a process
 * answering thousands of 503s a second would otherwise bury the log (and the disk) in identical
 * stack traces. The requests in between are counted, in the end line and in the request metrics.
 * An outage ends with the first success a second after its last failure, so that requests still
 * succeeding on surviving connections during a flapping outage do not split it into hundreds.
 */
import type { FastifyBaseLogger } from 'fastify';

export interface OutageLog {
  /** A request failed with this outage code (DATABASE_UNAVAILABLE, DATABASE_BUSY). */
  failed(code: string, error: unknown): void;
  /** A request that needed the database succeeded. */
  succeeded(): void;
}

const QUIET_BEFORE_END_MS = 1000;

export function createOutageLog(log: FastifyBaseLogger): OutageLog {
  let current: { code: string; since: number; lastFailure: number; failedRequests: number } | null = null;
  return {
    failed(code, error) {
      const now = Date.now();
      if (current?.code === code) {
        current.failedRequests++;
        current.lastFailure = now;
        return;
      }
      current = { code, since: now, lastFailure: now, failedRequests: 1 };
      log.error({ err: error, code }, 'database outage began: answering 503 until it ends');
    },
    succeeded() {
      if (current === null || Date.now() - current.lastFailure < QUIET_BEFORE_END_MS) return;
      log.warn(
        { code: current.code, failedRequests: current.failedRequests, durationMs: Date.now() - current.since },
        'database outage ended',
      );
      current = null;
    },
  };
}
