/**
 * One JSON line per request, written when the answer has gone out: id, method, route, status,
 * time, and whatever the handler added (the identify outcome). Fastify's own request logging
 * writes two lines per request; at info level that halved throughput's headroom for nothing.
 * The route pattern is logged, not the URL: query strings can carry emails and phone numbers.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields the handler wants on the request's log line; never personal data. */
    logFields: Record<string, unknown> | null;
  }
}

export function registerRequestLog(app: FastifyInstance): void {
  app.decorateRequest('logFields', null);
  // The level is fixed at start-up; below info the hook costs one branch.
  const enabled = (app.log as unknown as Logger).isLevelEnabled('info');
  app.addHook('onResponse', (request, reply, done) => {
    if (enabled) {
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? request.url.split('?')[0],
          statusCode: reply.statusCode,
          responseTimeMs: Math.round(reply.elapsedTime * 100) / 100,
          ...request.logFields,
        },
        'request completed',
      );
    }
    done();
  });
}
