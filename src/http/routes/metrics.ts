/** GET /metrics: Prometheus text format. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

export function metricsRoutes(metrics: Metrics, collect: () => Promise<string> = () => metrics.registry.metrics()) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics (text exposition format)',
          response: {
            200: { description: 'Metrics in the Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
      async (_request, reply) => reply.type(metrics.registry.contentType).send(await collect()),
    );
  };
}
