/**
 * One JSON line per request, written when the answer has gone out: id, method, route, status,
 * time, and whatever the handler added (the identify outcome). Fastify's default writes two
 * lines per request; at info level that cost ~15% of lookup throughput for nothing. The route
 * pattern is logged, not the URL: query strings can carry emails and phone numbers.
 */
import { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields the handler wants on the request's log line; never personal data. */
    logFields: Record<string, unknown> | null;
  }
}

export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const log = reply.log as unknown as Logger;
    if (!log.isLevelEnabled(error ? 'error' : 'info')) return;
    const fields = {
      method: request.method,
      route: request.routeOptions.url ?? request.url.split('?')[0],
      statusCode: reply.statusCode,
      responseTimeMs: Math.round(reply.elapsedTime * 100) / 100,
      ...request.logFields,
    };
    if (error) log.error({ ...fields, err: error }, 'request errored');
    else log.info(fields, 'request completed');
  }
}

/** Lets handlers add fields to their request's line. */
export function registerRequestLogFields(app: FastifyInstance): void {
  app.decorateRequest('logFields', null);
}
