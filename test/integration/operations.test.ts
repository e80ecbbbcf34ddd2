/**
 * What an operator relies on at the HTTP edge: the OpenAPI document and docs, metrics, API keys,
 * rate limits, security headers, CORS, timeouts and overload answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/database.js';
import type { HttpSettings } from '../../src/http/settings.js';
import { createServices } from '../../src/services.js';
import { servedRoutes } from '../support/routes.js';
import { assertError, buildInProcessApp } from '../support/app.js';
import { openScratchPglite, type ScratchDatabase } from '../support/databases.js';

const KEY = 'k-0123456789abcdef0123';
const OTHER_KEY = 'k-fedcba9876543210fedc';

function appWith(db: Database, http: Partial<HttpSettings> = {}): Promise<FastifyInstance> {
  return buildInProcessApp({ db, ...createServices(db), responseFormat: 'customer', logLevel: 'silent', http });
}

const identify = (app: FastifyInstance, headers: Record<string, string> = {}, body: object = { email: 'a@x.io' }) =>
  app.inject({ method: 'POST', url: '/identify', headers, payload: body });

describe('operations at the HTTP edge', () => {
  let scratch: ScratchDatabase;
  before(async () => {
    scratch = await openScratchPglite();
  });
  after(() => scratch.dispose());

  describe('the OpenAPI document', () => {
    let app: FastifyInstance;
    before(async () => {
      app = await appWith(scratch.db, { apiKeys: [KEY] });
    });
    after(() => app.close());

    it('is a valid OpenAPI 3.1 document at /openapi.json', async () => {
      const response = await app.inject({ method: 'GET', url: '/openapi.json' });
      assert.equal(response.statusCode, 200);
      const document = response.json();
      assert.equal(document.openapi, '3.1.0');
      const result = await new Validator().validate(document);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
    });

    it("describes every registered route except the docs UI's own files", async () => {
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const documented = new Set(
        Object.entries(document.paths as Record<string, object>).flatMap(([path, operations]) =>
          Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
        ),
      );
      const routes = (await servedRoutes(app)).filter((route) => !route.url.startsWith('/docs'));
      assert.ok(routes.length >= 5);
      // Fastify writes path parameters as :id, OpenAPI as {id}.
      const asOpenApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
      for (const route of routes)
        assert.ok(documented.has(`${route.method} ${asOpenApiPath(route.url)}`), `${route.method} ${route.url} is not documented`);
    });

    it('gives /identify its error responses, the error shape, examples and the API-key security', async () => {
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const operation = document.paths['/identify'].post;
      assert.deepEqual(Object.keys(operation.responses).sort(), ['200', '400', '401', '409', '413', '415', '422', '429', '500', '503']);
      assert.ok(operation.responses['200'].content['application/json'].schema.properties.ignored, 'the ignored fields are documented');
      const errorSchema = operation.responses['400'].content['application/json'].schema;
      assert.deepEqual(Object.keys(errorSchema.properties.error.properties), ['code', 'message']);
      assert.ok(JSON.stringify(operation).includes('lorraine@hillvalley.edu'));
      assert.deepEqual(operation.security, [{ bearerKey: [] }, { headerKey: [] }]);
      assert.deepEqual(Object.keys(document.components.securitySchemes), ['bearerKey', 'headerKey']);
    });

    it('serves interactive docs at /docs', async () => {
      let response = await app.inject({ method: 'GET', url: '/docs' });
      if (response.statusCode === 302) response = await app.inject({ method: 'GET', url: response.headers.location as string });
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /swagger/i);
    });
  });

  describe('metrics', () => {
    it('count outcomes, customer sizes and request durations, and report the pool and the process', async () => {
      const app = await appWith(scratch.db);
      try {
        await scratch.reset();
        await identify(app, {}, { email: 'm1@x.io', phoneNumber: '100' });
        await identify(app, {}, { email: 'm2@x.io', phoneNumber: '100' });
        const response = await app.inject({ method: 'GET', url: '/metrics' });
        assert.equal(response.statusCode, 200);
        assert.match(response.headers['content-type'] as string, /^text\/plain/);
        const text = response.body;
        assert.match(text, /identity_identify_outcomes_total\{outcome="created_primary"\} 1/);
        assert.match(text, /identity_identify_outcomes_total\{outcome="created_secondary"\} 1/);
        assert.match(text, /identity_identify_customer_contacts_bucket\{le="2"\} 2/);
        assert.match(text, /identity_http_request_duration_seconds_count\{method="POST",route="\/identify",status_code="200"\} 2/);
        assert.match(text, /identity_db_pool_connections\{state="idle"\} \d+/);
        assert.match(text, /identity_db_retries_total/);
        assert.match(text, /process_cpu_seconds_total/);
      } finally {
        await app.close();
      }
    });
  });

  describe('API keys', () => {
    let app: FastifyInstance;
    before(async () => {
      app = await appWith(scratch.db, { apiKeys: [KEY, OTHER_KEY] });
    });
    after(() => app.close());

    it('refuses /identify without a key: 401 in the error shape, with WWW-Authenticate', async () => {
      const response = await identify(app);
      assertError(response, 401, 'UNAUTHORIZED');
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    });

    it('refuses a wrong key, and a key in a malformed header', async () => {
      assertError(await identify(app, { authorization: 'Bearer not-a-valid-key-at-all' }), 401, 'UNAUTHORIZED');
      assertError(await identify(app, { authorization: `Basic ${KEY}` }), 401, 'UNAUTHORIZED');
      assertError(await identify(app, { 'x-api-key': KEY.slice(0, -1) }), 401, 'UNAUTHORIZED');
    });

    it('accepts any configured key as a Bearer token or as X-API-Key', async () => {
      assert.equal((await identify(app, { authorization: `Bearer ${KEY}` })).statusCode, 200);
      assert.equal((await identify(app, { 'x-api-key': OTHER_KEY })).statusCode, 200);
    });

    it('guards the read API with the same keys', async () => {
      await identify(app, { 'x-api-key': KEY });
      for (const url of ['/customers/lookup?email=a@x.io', '/customers/1']) {
        assertError(await app.inject({ method: 'GET', url }), 401, 'UNAUTHORIZED');
        assert.equal((await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${OTHER_KEY}` } })).statusCode, 200, url);
      }
    });

    it('leaves /health, /ready, /metrics and the docs open by default', async () => {
      for (const url of ['/health', '/ready', '/metrics', '/openapi.json']) {
        assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
      }
    });

    it('puts /metrics and the docs behind the key when configured so', async () => {
      const locked = await appWith(scratch.db, { apiKeys: [KEY], protectMetrics: true, protectDocs: true });
      try {
        for (const url of ['/metrics', '/openapi.json']) {
          assertError(await locked.inject({ method: 'GET', url }), 401, 'UNAUTHORIZED');
          assert.equal((await locked.inject({ method: 'GET', url, headers: { 'x-api-key': KEY } })).statusCode, 200, url);
        }
        assert.equal((await locked.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      } finally {
        await locked.close();
      }
    });
  });

  describe('rate limits', () => {
    it('answer 429 RATE_LIMITED with Retry-After once a key used up its window on any API route, counting each key apart', async () => {
      const app = await appWith(scratch.db, { apiKeys: [KEY, OTHER_KEY], rateLimitMax: 2, rateLimitWindowMs: 60_000 });
      try {
        for (let i = 0; i < 2; i++) assert.equal((await identify(app, { 'x-api-key': KEY })).statusCode, 200);
        const limited = await identify(app, { 'x-api-key': KEY });
        assertError(limited, 429, 'RATE_LIMITED');
        assert.ok(Number(limited.headers['retry-after']) > 0);
        // One budget per key for the whole API: the read API counts against it too.
        assertError(await app.inject({ method: 'GET', url: '/customers/1', headers: { 'x-api-key': KEY } }), 429, 'RATE_LIMITED');
        assert.equal((await identify(app, { 'x-api-key': OTHER_KEY })).statusCode, 200);
        assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      } finally {
        await app.close();
      }
    });

    it('count per client IP when there are no keys', async () => {
      const app = await appWith(scratch.db, { rateLimitMax: 1 });
      try {
        assert.equal(
          (await app.inject({ method: 'POST', url: '/identify', remoteAddress: '10.0.0.1', payload: { email: 'a@x.io' } })).statusCode,
          200,
        );
        assertError(
          await app.inject({ method: 'POST', url: '/identify', remoteAddress: '10.0.0.1', payload: { email: 'a@x.io' } }),
          429,
          'RATE_LIMITED',
        );
        assert.equal(
          (await app.inject({ method: 'POST', url: '/identify', remoteAddress: '10.0.0.2', payload: { email: 'a@x.io' } })).statusCode,
          200,
        );
      } finally {
        await app.close();
      }
    });
  });

  describe('headers, CORS and timeouts', () => {
    it('sends security headers on every answer', async () => {
      const app = await appWith(scratch.db);
      try {
        const response = await identify(app);
        assert.equal(response.headers['x-content-type-options'], 'nosniff');
        assert.ok(response.headers['content-security-policy']);
        assert.ok(response.headers['strict-transport-security']);
        assert.equal(response.headers['x-powered-by'], undefined);
      } finally {
        await app.close();
      }
    });

    it('sends no CORS headers unless origins are configured, then only to those origins', async () => {
      const closed = await appWith(scratch.db);
      const open = await appWith(scratch.db, { corsOrigins: ['https://shop.example'] });
      try {
        const preflight = (app: FastifyInstance, origin: string) =>
          app.inject({ method: 'OPTIONS', url: '/identify', headers: { origin, 'access-control-request-method': 'POST' } });
        assert.equal((await identify(closed, { origin: 'https://shop.example' })).headers['access-control-allow-origin'], undefined);
        assert.equal((await preflight(open, 'https://shop.example')).headers['access-control-allow-origin'], 'https://shop.example');
        assert.equal((await preflight(open, 'https://evil.example')).headers['access-control-allow-origin'], undefined);
      } finally {
        await closed.close();
        await open.close();
      }
    });

    it('applies the request and keep-alive timeouts', async () => {
      const app = await appWith(scratch.db, { requestTimeoutMs: 1234, keepAliveTimeoutMs: 5678 });
      try {
        assert.equal(app.server.requestTimeout, 1234);
        assert.equal(app.server.keepAliveTimeout, 5678);
        // Slow headers are on the same clock, and the clock is read often enough to hold it.
        assert.equal(app.server.headersTimeout, 1234);
        assert.ok((app.server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval <= 1000);
      } finally {
        await app.close();
      }
    });
  });

  describe('overload', () => {
    it('answers 503 OVERLOADED with Retry-After when the line for the database is full, and keeps health checks answering', async () => {
      // Every /identify waits until the test lets it go: one at work, four in line (before any
      // capacity is measured), and the sixth is refused at once.
      let open = false;
      const held: (() => void)[] = [];
      const app = await buildInProcessApp({
        db: scratch.db,
        identifyService: {
          identify: (request) =>
            new Promise((resolve) => {
              held.push(() =>
                resolve({
                  customer: { primaryContactId: 1, emails: [request.email ?? ''], phoneNumbers: [], secondaryContactIds: [] },
                  outcome: 'unchanged',
                  ignored: [],
                }),
              );
              if (open) held.shift()?.();
            }),
        },
        responseFormat: 'customer',
        logLevel: 'silent',
        http: { maxInFlight: 1, maxWaitMs: 60_000 },
      });
      try {
        const admitted = Array.from({ length: 5 }, () => identify(app));
        while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
        const response = await identify(app);
        assertError(response, 503, 'OVERLOADED');
        assert.equal(response.headers['retry-after'], '1');
        assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
        open = true;
        while (held.length > 0) held.shift()?.();
        assert.deepEqual(
          (await Promise.all(admitted)).map((answer) => answer.statusCode),
          [200, 200, 200, 200, 200],
        );
        assert.equal((await identify(app)).statusCode, 200);
      } finally {
        open = true;
        while (held.length > 0) held.shift()?.();
        await app.close();
      }
    });
  });
});
