/**
 * Builds the Fastify application from its parts; listening and shutdown belong to main.ts.
 *
 * Two scopes: the API (/identify, /customers/...), behind API keys, rate limits and overload guards when
 * configured; and operations (/health, /ready, /metrics, /docs, /openapi.json, the explorer page at /), open unless
 * METRICS_REQUIRE_KEY / DOCS_REQUIRE_KEY move metrics or docs into the API scope.
 */
import { randomUUID } from 'node:crypto';
import type { ServerOptions } from 'node:http';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { customerStore } from '../db/customerStore.js';
import { deliveryStore } from '../db/deliveryStore.js';
import { createEventFeed, type EventFeed } from '../delivery/eventFeed.js';
import { createWebhookAdmin, type WebhookAdmin } from '../delivery/webhookAdmin.js';
import { historyStore } from '../db/historyStore.js';
import type { Database } from '../db/database.js';
import type { BlocklistCache, GovernanceService } from '../identity/governance.js';
import { createHistoryService, type HistoryService } from '../identity/historyService.js';
import type { ErasureService } from '../identity/erasure.js';
import type { IdentifyService } from '../identity/identifyService.js';
import type { UnmergeService } from '../identity/unmerge.js';
import { PLAIN_NORMALISER, type Normaliser } from '../identity/normalise.js';
import { createLookupService, type LookupService } from '../identity/lookupService.js';
import { answerClientError, answerFrameworkError } from './edgeErrors.js';
import { AppError, registerErrorHandling } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import { API_KEY_SECURITY, docsRoutes, registerOpenApi } from './openapi.js';
import { requireApiKey } from './plugins/apiKeys.js';
import { guardAgainstOverload, limitConnections } from './plugins/overload.js';
import { OneLinePerRequest, registerRequestLogFields } from './requestLog.js';
import { healthRoutes } from './routes/health.js';
import { customerRoutes } from './routes/customers.js';
import { historyRoutes } from './routes/history.js';
import { explorerRoutes } from './routes/explorer.js';
import { identifyRoutes, type ResponseFormat } from './routes/identify.js';
import { adminRoutes } from './routes/admin.js';
import { metricsRoutes } from './routes/metrics.js';
import { eventRoutes } from './routes/events.js';
import { webhookRoutes } from './routes/webhooks.js';
import { BODY_LIMIT_BYTES } from './schemas.js';
import { DEFAULT_HTTP_SETTINGS, type HttpSettings } from './settings.js';

const COMPRESS_THRESHOLD_BYTES = 4 * 1024;

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export interface AppOptions {
  db: Database;
  identifyService: IdentifyService;
  /** The read API's use case; over `db` when absent. */
  lookupService?: LookupService;
  /** History and explain; over `db` with nothing blocked when absent. */
  historyService?: HistoryService;
  responseFormat: ResponseFormat;
  logLevel: string;
  /** Where JSON log lines go; stdout when absent. */
  logStream?: { write(line: string): void };
  http?: Partial<HttpSettings>;
  /** Shared with the identify service (retries); a fresh registry when absent. */
  metrics?: Metrics;
  /** How /metrics gathers its text; by default this process's registry (workers aggregate). */
  collectMetrics?: () => Promise<string>;
  /** The built explorer page (web/build.ts), served at `/`; no page when absent. */
  explorerDir?: string;
  /** The admin API's use cases (/admin/...); no admin routes when absent. */
  governance?: GovernanceService;
  /** Erasure and export, under the admin keys; not offered when absent. */
  erasure?: ErasureService;
  /** The block list the read API screens identifiers with; none when absent (governance off). */
  blocklist?: BlocklistCache;
  /** The rules requests' identifiers are normalised by (the table's); the seed's when absent. */
  normaliser?: Normaliser;
  /** Unmerge and separations, served with the admin API (/admin/customers/{id}/unmerge, /admin/separations). */
  unmerge?: UnmergeService;
  /** Change events: the pull API and the webhook admin API (/events, /admin/webhooks); over `db` when absent. */
  eventFeed?: EventFeed;
  webhooks?: WebhookAdmin;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const http: HttpSettings = { ...DEFAULT_HTTP_SETTINGS, ...options.http };
  const metrics = options.metrics ?? createMetrics(() => options.db.stats());
  const secured = http.apiKeys.length > 0;
  const app = Fastify({
    logger: {
      level: options.logLevel,
      // Standard output written asynchronously: lines logged while a write is under way go out
      // together in the next one, instead of a system call per line (one for every request at
      // info). Still flushed at exit, by pino.
      stream: options.logStream ?? pino.destination({ dest: 1, sync: false }),
      // Requests are logged by method, route and id; bodies (personal data) never are.
      redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
    },
    logController: new OneLinePerRequest(),
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: http.trustProxy,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    http: nodeServerOptions(http),
    // A phone sent as a number must stay a number, and an email sent as a number must fail.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  limitConnections(app.server, { maxConnections: http.maxConnections, registry: metrics.registry, log: app.log });
  // Callback hooks, not async ones: no promise per request on the hot path.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration.observe({ method: request.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000);
    done();
  });
  // JSON only: anything else, text/plain included, is a 415 rather than a confusing 400.
  app.removeContentTypeParser('text/plain');
  registerRequestLogFields(app);
  registerErrorHandling(app);
  // TLS ends at the proxy (README); upgrade-insecure-requests would break /docs over plain HTTP
  // on a private network, and HSTS already keeps browsers on HTTPS where it is served. Helmet's own
  // middleware, built once: @fastify/helmet builds it again for every request (its CSP parsed anew
  // each time), a few percent of a lookup's CPU (docs/benchmarks.md).
  const securityHeaders = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  app.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined)));
  if (http.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: http.corsOrigins.includes('*') ? '*' : http.corsOrigins,
      exposedHeaders: ['x-request-id', 'retry-after'],
    });
  }
  await registerOpenApi(app, { version, secured, adminSecured: http.adminApiKeys.length > 0 });

  await app.register(healthRoutes(options.db));
  const metricsRoute = metricsRoutes(metrics, options.collectMetrics);
  const docs = docsRoutes();
  if (!(secured && http.protectMetrics)) await app.register(metricsRoute);
  if (!(secured && http.protectDocs)) await app.register(docs);
  if (options.explorerDir !== undefined) await app.register(explorerRoutes(options.explorerDir));

  const lookupService = options.lookupService ?? createLookupService(customerStore(options.db), options.blocklist);
  const historyService =
    options.historyService ??
    createHistoryService(customerStore(options.db), historyStore(options.db), {
      ...(options.blocklist ? { blocklist: () => (options.blocklist as BlocklistCache).current() } : {}),
    });
  await app.register(async (api) => {
    api.decorateRequest('apiKeyId', null);
    // Every answer here carries personal data (or says whose it is not): no cache may keep it.
    api.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('cache-control', 'no-store');
      done(null, payload);
    });
    // A customer of thousands of rows is megabytes of JSON; compressed it is a tenth of that.
    // Small answers (the common /identify) go as they are: compressing them costs more than it saves.
    await api.register(compress, {
      threshold: COMPRESS_THRESHOLD_BYTES,
      encodings: ['br', 'gzip', 'deflate'],
      brotliOptions: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } },
    });
    if (secured) api.addHook('onRequest', requireApiKey(http.apiKeys));
    if (http.rateLimitMax > 0) {
      await api.register(rateLimit, {
        max: http.rateLimitMax,
        timeWindow: http.rateLimitWindowMs,
        keyGenerator: (request) => request.apiKeyId ?? request.ip,
        errorResponseBuilder: (_request, context) =>
          new AppError(
            429,
            'RATE_LIMITED',
            `Too many requests: at most ${context.max} per ${context.after === '1 minute' ? 'minute' : `${http.rateLimitWindowMs} ms`}. Retry in ${Math.ceil(context.ttl / 1000)} seconds.`,
          ),
      });
    }
    // Admission covers the routes that use the database; metrics and docs answer whatever the load.
    await api.register(async (guarded) => {
      await guardAgainstOverload(guarded, {
        maxInFlight: http.maxInFlight,
        maxWaitMs: http.maxWaitMs,
        maxEventLoopDelayMs: http.maxEventLoopDelayMs,
        registry: metrics.registry,
      });
      await guarded.register(
        identifyRoutes({
          service: options.identifyService,
          normaliser: options.normaliser ?? PLAIN_NORMALISER,
          format: options.responseFormat,
          metrics,
          ...(secured ? { security: API_KEY_SECURITY } : {}),
        }),
      );
      await guarded.register(
        customerRoutes({
          service: lookupService,
          normaliser: options.normaliser ?? PLAIN_NORMALISER,
          ...(secured ? { security: API_KEY_SECURITY } : {}),
        }),
      );
      await guarded.register(
        historyRoutes({
          service: historyService,
          ...(secured ? { security: API_KEY_SECURITY } : {}),
        }),
      );
    });
    if (secured && http.protectMetrics) await api.register(metricsRoute);
    if (secured && http.protectDocs) await api.register(docs);
  });
  if (options.governance !== undefined) {
    await app.register(
      adminRoutes({
        governance: options.governance,
        keys: http.adminApiKeys,
        open: http.adminApiOpen,
        ...(options.erasure ? { erasure: { erasure: options.erasure, lookup: lookupService, history: historyService } } : {}),
        ...(options.unmerge ? { unmerge: options.unmerge } : {}),
      }),
    );
  }
  // Change events (docs/webhooks.md), under /admin with its keys.
  const adminAccess = { keys: http.adminApiKeys, open: http.adminApiOpen };
  await app.register(eventRoutes({ feed: options.eventFeed ?? createEventFeed(deliveryStore(options.db)), ...adminAccess }));
  await app.register(webhookRoutes({ webhooks: options.webhooks ?? createWebhookAdmin(deliveryStore(options.db)), ...adminAccess }));
  return app;
}

/**
 * Node.js checks the request and headers timeouts only every `connectionsCheckingInterval` (30 s
 * by default), so a slow client could hold a connection for the timeout plus up to 30 s. Checked
 * every second (or every tenth of a shorter timeout), REQUEST_TIMEOUT_MS holds to within that.
 */
function nodeServerOptions(http: HttpSettings): ServerOptions {
  if (http.requestTimeoutMs === 0) return {}; // no request timeout: Node's own 60 s for the headers stays
  return {
    requestTimeout: http.requestTimeoutMs,
    headersTimeout: http.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(http.requestTimeoutMs / 10))),
  };
}
