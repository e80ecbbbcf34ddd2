/**
 * Overload answers 503 OVERLOADED with Retry-After at once, instead of letting requests queue
 * until clients time out: when the event loop lags (@fastify/under-pressure) or when too many
 * queries already wait for a database connection.
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import type { PoolStats } from '../../db/database.js';
import { AppError } from '../errors.js';

const RETRY_AFTER_SECONDS = 1;

function overloaded(why: string): AppError {
  return new AppError(503, 'OVERLOADED', `The service is overloaded (${why}); retry in a moment.`, { 'retry-after': String(RETRY_AFTER_SECONDS) });
}

/** Registers the guards on `api` (an encapsulated scope): health checks stay outside, unaffected. */
export async function guardAgainstOverload(
  api: FastifyInstance,
  { maxEventLoopDelayMs, maxPoolWaiting, poolStats }: { maxEventLoopDelayMs: number; maxPoolWaiting: number; poolStats: () => PoolStats },
): Promise<void> {
  if (maxEventLoopDelayMs > 0) {
    await api.register(underPressure, {
      maxEventLoopDelay: maxEventLoopDelayMs,
      pressureHandler: () => {
        throw overloaded(`event loop delay over ${maxEventLoopDelayMs} ms`);
      },
    });
  }
  if (maxPoolWaiting > 0) {
    api.addHook('onRequest', (_request, _reply, done) => {
      const { waiting } = poolStats();
      done(waiting >= maxPoolWaiting ? overloaded(`${waiting} queries waiting for a database connection`) : undefined);
    });
  }
}
