/**
 * How the service serves the explorer page (the page itself is tested in a browser, test/e2e):
 * at `/`, under the security headers, with long caching for hashed files, compressed, out of the
 * OpenAPI document, and a plain JSON 404 when the page was never built.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { identifyStore } from '../../src/db/identifyStore.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';
import { servedRoutes } from '../support/routes.js';
import { buildExplorer } from '../../web/build.js';
import { assertError, buildInProcessApp } from '../support/app.js';
import { openScratchPglite, type ScratchDatabase } from '../support/databases.js';

describe('the explorer page, as served', () => {
  let scratch: ScratchDatabase;
  let bundleDir: string;
  const appServing = (explorerDir: string): Promise<FastifyInstance> =>
    buildInProcessApp({
      db: scratch.db,
      identifyService: createIdentifyService(identifyStore(scratch.db)),
      responseFormat: 'customer',
      logLevel: 'silent',
      explorerDir,
    });

  before(async () => {
    bundleDir = await mkdtemp(join(tmpdir(), 'explorer-bundle-'));
    [scratch] = await Promise.all([openScratchPglite(), buildExplorer(bundleDir)]);
  });
  after(async () => {
    await scratch?.dispose();
    if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
  });

  describe('built', () => {
    let app: FastifyInstance;
    before(async () => {
      app = await appServing(bundleDir);
    });
    after(() => app.close());

    it('serves index.html at / under a CSP that allows only its own scripts, never cached stale', async () => {
      const response = await app.inject({ method: 'GET', url: '/' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.equal(response.headers['cache-control'], 'no-cache');
      assert.match(String(response.headers['content-security-policy']), /script-src 'self'[;]/);
      assert.match(response.body, /<script type="module" src="app-[A-Z0-9]+\.js"><\/script>/);
      assert.doesNotMatch(response.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
      assert.doesNotMatch(response.body, /\sstyle=|<style/, 'no inline style');
    });

    it('serves the hashed bundle cached for good, brotli-compressed when the browser accepts it', async () => {
      const html = (await app.inject({ method: 'GET', url: '/' })).body;
      const script = /src="(app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
      const stylesheet = /href="(app-[A-Z0-9]+\.css)"/.exec(html)?.[1];
      for (const [file, type] of [
        [script, /^(text|application)\/javascript/],
        [stylesheet, /^text\/css/],
      ] as const) {
        const plain = await app.inject({ method: 'GET', url: `/${file}` });
        assert.equal(plain.statusCode, 200, `${file}`);
        assert.match(String(plain.headers['content-type']), type);
        assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
        const compressed = await app.inject({ method: 'GET', url: `/${file}`, headers: { 'accept-encoding': 'br, gzip' } });
        assert.equal(compressed.headers['content-encoding'], 'br');
        assert.ok(compressed.rawPayload.length < plain.rawPayload.length / 2);
      }
    });

    it("answers other paths with the API's JSON 404, and leaves the page out of the OpenAPI document", async () => {
      assertError(await app.inject({ method: 'GET', url: '/app.js' }), 404, 'NOT_FOUND');
      assertError(await app.inject({ method: 'GET', url: '/nothing/here' }), 404, 'NOT_FOUND');
      assert.ok((await servedRoutes(app)).some((route) => route.method === 'GET' && route.url === '/'));
      const documented = Object.keys((await app.inject({ method: 'GET', url: '/openapi.json' })).json().paths as object);
      assert.ok(!documented.includes('/'), 'the page is documented');
    });
  });

  it('answers / with a JSON 404 when the page was never built, and the API still works', async () => {
    const app = await appServing(join(bundleDir, 'missing'));
    try {
      assertError(await app.inject({ method: 'GET', url: '/' }), 404, 'NOT_FOUND');
      assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});
