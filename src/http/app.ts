/** Builds the Fastify application from its parts; listening and shutdown belong to main.ts. */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Queryable } from '../db/database.js';
import type { IdentifyService } from '../identity/identifyService.js';
import { registerErrorHandling } from './errors.js';
import { registerRequestLog } from './requestLog.js';
import { healthRoutes } from './routes/health.js';
import { identifyRoutes, type ResponseFormat } from './routes/identify.js';

export const BODY_LIMIT_BYTES = 16 * 1024;

export interface AppOptions {
  db: Queryable;
  identifyService: IdentifyService;
  responseFormat: ResponseFormat;
  logLevel: string;
  /** Where JSON log lines go; stdout when absent. */
  logStream?: { write(line: string): void };
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      // Requests are logged by method, route and id; bodies (personal data) never are.
      redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
    },
    disableRequestLogging: true, // one line per request instead, see requestLog.ts
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // A phone sent as a number must stay a number, and an email sent as a number must fail.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // JSON only: anything else, text/plain included, is a 415 rather than a confusing 400.
  app.removeContentTypeParser('text/plain');
  registerRequestLog(app);
  registerErrorHandling(app);
  await app.register(healthRoutes(options.db));
  await app.register(identifyRoutes(options.identifyService, options.responseFormat));
  return app;
}
