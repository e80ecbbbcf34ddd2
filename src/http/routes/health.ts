/** Liveness (the process answers) and readiness (the database answers). Never behind a key. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../../db/database.js';
import { ping } from '../../db/probes.js';
import { AppError } from '../errors.js';
import { ERROR_RESPONSES } from '../schemas.js';

export function healthRoutes(db: Queryable) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get(
      '/health',
      {
        schema: {
          tags: ['operations'],
          summary: 'Liveness: the process is up and answering',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/ready',
      {
        schema: {
          tags: ['operations'],
          summary: 'Readiness: the database answers too',
          response: { 200: Type.Object({ status: Type.Literal('ready') }), 503: ERROR_RESPONSES.unavailable },
        },
      },
      async () => {
        try {
          await ping(db);
        } catch {
          throw new AppError(503, 'DATABASE_UNAVAILABLE', 'The database is not reachable.');
        }
        return { status: 'ready' as const };
      },
    );
  };
}
