/**
 * The admin API: the block list and the suspects report. Everything here changes who links with
 * whom, so it sits behind its own keys (ADMIN_API_KEYS) and refuses to run without them unless
 * ADMIN_API_OPEN says so explicitly.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BrokenLinksError } from '../../identity/customerGroups.js';
import { InvalidRuleError, type GovernanceService } from '../../identity/governance.js';
import {
  ADMIN_DISABLED_MESSAGE,
  ADMIN_ERRORS,
  BlockedListResponse,
  BlockResponse,
  BlockRuleBody,
  MAX_SUSPECTS,
  PresetParams,
  PresetResponse,
  RuleIdParams,
  SuspectsQuery,
  SuspectsResponse,
  UnblockResponse,
} from '../adminSchemas.js';
import { AppError, brokenLinksError } from '../errors.js';
import { registerErasureRoutes, type ErasureRouteOptions } from './erasure.js';
import { requireApiKey } from '../plugins/apiKeys.js';
import { ERROR_RESPONSES } from '../schemas.js';
import type { UnmergeService } from '../../identity/unmerge.js';
import { registerUnmergeRoutes } from './unmerge.js';

export const ADMIN_KEY_SECURITY = [{ adminKey: [] }];

export interface AdminRouteOptions {
  governance: GovernanceService;
  /** Unmerge and separations (unmergeRoutes.ts), behind the same keys. */
  unmerge?: UnmergeService;
  keys: readonly string[];
  open: boolean;
  /** Erasure and export (DELETE /contacts/{id}, DELETE /customers/{id}, GET /customers/{id}/export); absent: not offered. */
  erasure?: Pick<ErasureRouteOptions, 'erasure' | 'lookup' | 'history'>;
}

const DEFAULT_SUSPECTS = 20;

export function adminRoutes({ governance, keys, open, erasure, unmerge }: AdminRouteOptions) {
  return async function register(app: FastifyInstance): Promise<void> {
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
    const common = {
      tags: ['admin'],
      ...(keys.length > 0 ? { security: ADMIN_KEY_SECURITY } : {}),
    };
    const errors = {
      401: ERROR_RESPONSES.unauthorized,
      403: ADMIN_ERRORS.forbidden,
      500: ERROR_RESPONSES.internal,
      503: ERROR_RESPONSES.unavailable,
    };
    const addedBy = (request: Pick<FastifyRequest, 'apiKeyId'>) => `admin:${request.apiKeyId ?? 'open'}`;
    if (erasure) await registerErasureRoutes(app, { ...erasure, common, errors, addedBy });

    app.get(
      '/admin/blocked',
      { schema: { ...common, summary: 'The block list', response: { 200: BlockedListResponse, ...errors } } },
      async () => {
        const { version, rules } = await governance.list();
        return { version, rules };
      },
    );

    app.post<{ Body: BlockRuleBody }>(
      '/admin/blocked',
      {
        schema: {
          ...common,
          summary: 'Block a value, a domain or a pattern: it matches nothing from now on, and the customers it held together split',
          body: BlockRuleBody,
          response: { 200: BlockResponse, 201: BlockResponse, 400: ADMIN_ERRORS.badRule, 409: ERROR_RESPONSES.needsRepair, ...errors },
        },
      },
      async (request, reply) => {
        const { reason, match = 'exact', ...spec } = request.body;
        const outcome = await governance
          .block({ ...spec, match }, reason, { addedBy: addedBy(request), requestId: request.id })
          .catch(translateGovernanceError);
        return reply.status(outcome.created ? 201 : 200).send(outcome);
      },
    );

    app.post<{ Params: { name: 'recommended' } }>(
      '/admin/blocked/presets/:name',
      {
        schema: {
          ...common,
          summary: 'Add the rules of a preset that are missing (docs/governance.md lists them)',
          params: PresetParams,
          response: { 200: PresetResponse, 400: ADMIN_ERRORS.badRule, 409: ERROR_RESPONSES.needsRepair, ...errors },
        },
      },
      async (request) => {
        const outcomes = await governance
          .applyPreset(request.params.name, { addedBy: `preset:${request.params.name}`, requestId: request.id })
          .catch(translateGovernanceError);
        return { preset: request.params.name, added: outcomes.filter((outcome) => outcome.created).length, rules: outcomes };
      },
    );

    app.delete<{ Params: RuleIdParams }>(
      '/admin/blocked/:ruleId',
      {
        schema: {
          ...common,
          summary: 'Unblock: the customers that share the value again are joined, by the usual rules, in one operation',
          params: RuleIdParams,
          response: { 200: UnblockResponse, 404: ADMIN_ERRORS.ruleNotFound, 409: ERROR_RESPONSES.needsRepair, ...errors },
        },
      },
      async (request) => {
        const id = Number(request.params.ruleId);
        const outcome = await governance.unblock(id, { addedBy: addedBy(request), requestId: request.id }).catch(translateGovernanceError);
        if (outcome === null) throw new AppError(404, 'NOT_FOUND', `No block rule has id ${id}.`);
        return outcome;
      },
    );

    app.get<{ Querystring: SuspectsQuery }>(
      '/admin/suspects',
      {
        schema: {
          ...common,
          summary: 'The identifiers held by the most contacts, per field, with the customers they hold together',
          querystring: SuspectsQuery,
          response: { 200: SuspectsResponse, 400: ADMIN_ERRORS.badLimit, ...errors },
        },
      },
      async (request) => {
        const limit = Number(request.query.limit ?? DEFAULT_SUSPECTS);
        if (!(limit >= 1 && limit <= MAX_SUSPECTS)) throw new AppError(400, 'INVALID_LIMIT', `limit must be 1 to ${MAX_SUSPECTS}.`);
        return { suspects: await governance.suspects(limit) };
      },
    );

    if (unmerge !== undefined) registerUnmergeRoutes(app, { unmerge, common, errors, addedBy });
  };
}

function translateGovernanceError(error: unknown): never {
  if (error instanceof InvalidRuleError) throw new AppError(400, 'INVALID_RULE', error.message);
  if (error instanceof BrokenLinksError) throw brokenLinksError(error.contactIds);
  throw error;
}
