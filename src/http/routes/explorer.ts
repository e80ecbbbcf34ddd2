/**
 * The explorer page (web/, built by web/build.ts) at `/`. Static files, open like /docs: the page
 * holds no data, and the lookups it makes carry the API key the person types. Hidden from the
 * OpenAPI document, which describes the API rather than its pages.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The bundle's names carry a content hash (app-HASH.js), so browsers may keep them for good. */
const HASHED_ASSET = /[\\/]app-[A-Z0-9]+\.(?:js|css)(?:\.br|\.gz)?$/;

export function explorerRoutes(dir: string) {
  return async function register(app: FastifyInstance): Promise<void> {
    if (!existsSync(join(dir, 'index.html'))) {
      // A test, or `npm run dev` before any build: the API works, `/` is a plain 404.
      app.log.warn({ dir }, 'explorer page not built (`npm run build` builds it); / answers 404');
      return;
    }
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      // One route per built file, found at start-up: any other path gets the API's JSON 404.
      wildcard: false,
      globIgnore: ['**/*.br', '**/*.gz'],
      preCompressed: true,
      decorateReply: false, // @fastify/swagger-ui has its own instance with the decorator
      cacheControl: false,
      setHeaders: (reply, path) => {
        reply.header('cache-control', HASHED_ASSET.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  };
}
