/**
 * The admin API's access rules, for every scope of admin routes: a key from ADMIN_API_KEYS, or
 * ADMIN_API_OPEN=true said explicitly; otherwise 403 ADMIN_DISABLED. Answers are never cached.
 */
import type { FastifyInstance } from 'fastify';
import { ADMIN_DISABLED_MESSAGE, ADMIN_ERRORS } from '../adminSchemas.js';
import { AppError } from '../errors.js';
import { ERROR_RESPONSES } from '../schemas.js';
import { requireApiKey } from './apiKeys.js';

export interface AdminAccess {
  keys: readonly string[];
  open: boolean;
}

/** Guards every route of `app` (an encapsulated scope); returns what their schemas share. */
export function guardAdminScope(app: FastifyInstance, { keys, open }: AdminAccess) {
  app.decorateRequest('apiKeyId', null);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  if (keys.length > 0) app.addHook('onRequest', requireApiKey(keys));
  else if (!open) {
    app.addHook('onRequest', async () => {
      throw new AppError(403, 'ADMIN_DISABLED', ADMIN_DISABLED_MESSAGE);
    });
  }
  return {
    common: { tags: ['admin'], ...(keys.length > 0 ? { security: [{ adminKey: [] }] } : {}) },
    errors: {
      401: ERROR_RESPONSES.unauthorized,
      403: ADMIN_ERRORS.forbidden,
      500: ERROR_RESPONSES.internal,
      503: ERROR_RESPONSES.unavailable,
    },
  };
}
