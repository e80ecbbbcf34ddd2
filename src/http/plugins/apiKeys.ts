/**
 * API keys: `Authorization: Bearer <key>` or `X-API-Key: <key>`. Keys are compared as SHA-256
 * digests with timingSafeEqual against every configured key, with no early exit, so neither the
 * length nor the position of a match shows in the response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Which configured key the request used ("key1", "key2", …): for rate limits, never the key. */
    apiKeyId: string | null;
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function presentedKey(request: FastifyRequest): string | null {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ?? null;
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : null;
}

/** An onRequest hook that lets a request through only with one of `keys`. */
export function requireApiKey(keys: readonly string[]) {
  const digests = keys.map(digest);
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const presented = presentedKey(request);
    let matched = -1;
    if (presented !== null) {
      const candidate = digest(presented);
      digests.forEach((known, index) => {
        if (timingSafeEqual(candidate, known)) matched = index;
      });
    }
    if (matched < 0) {
      reply.header('www-authenticate', 'Bearer');
      const message =
        presented === null
          ? 'This API needs a key: send "Authorization: Bearer <key>" or "X-API-Key: <key>".'
          : 'The API key is not valid.';
      done(new AppError(401, 'UNAUTHORIZED', message));
      return;
    }
    request.apiKeyId = `key${matched + 1}`;
    done();
  };
}
