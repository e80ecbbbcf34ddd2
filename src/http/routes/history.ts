/**
 * GET /customers/{id}/history and GET /customers/{id}/explain: validate, call the history
 * service, shape the answer; they never write.
 *
 * Their query parameters are validated by their schemas (which the OpenAPI document shows), and
 * a failure is answered here with this API's codes: the shared handler's table knows the body and
 * the lookup's fields, not `after`, `limit`, `from` or `to`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HistoryLookup, HistoryService } from '../../identity/historyService.js';
import { AppError, brokenLinksError } from '../errors.js';
import {
  DEFAULT_HISTORY_PAGE,
  EXPLAIN_CONTACTS_MESSAGE,
  ExplainQuery,
  ExplainResponse,
  HISTORY_ERRORS,
  HISTORY_PAGE_MESSAGE,
  HistoryQuery,
  HistoryResponse,
  MAX_HISTORY_PAGE,
} from '../historySchemas.js';
import { CONTACT_ID_MESSAGE, ContactIdParams, ERROR_RESPONSES, MAX_CONTACT_ID } from '../schemas.js';

export interface HistoryRouteOptions {
  service: HistoryService;
  /** OpenAPI security requirement, when the API needs a key. */
  security?: Record<string, string[]>[];
}

export function historyRoutes({ service, security }: HistoryRouteOptions) {
  const common = {
    tags: ['customers'],
    params: ContactIdParams,
    ...(security ? { security } : {}),
  };
  const commonResponses = {
    ...(security ? { 401: ERROR_RESPONSES.unauthorized } : {}),
    404: ERROR_RESPONSES.notFound,
    409: ERROR_RESPONSES.needsRepair,
    429: ERROR_RESPONSES.tooManyRequests,
    500: ERROR_RESPONSES.internal,
    503: ERROR_RESPONSES.unavailable,
  };
  return async function register(app: FastifyInstance): Promise<void> {
    app.get<{ Params: ContactIdParams; Querystring: HistoryQuery }>(
      '/customers/:id/history',
      {
        attachValidation: true,
        schema: {
          ...common,
          summary: "What happened to a customer: the event log's entries about its contacts, oldest first",
          description:
            'Any contact id of the customer works. Pages by event id: pass the answer’s nextAfter as `after`. A customer whose rows were written before the event log existed answers recorded: false and no events; one whose log starts after some of its contacts, recorded: "partial".',
          querystring: HistoryQuery,
          response: { ...commonResponses, 200: HistoryResponse, 400: HISTORY_ERRORS.badHistory },
        },
      },
      async (request) => {
        rejectInvalid(request, { after: 'INVALID_PAGE', limit: 'INVALID_PAGE' });
        const id = contactId(request.params.id, CONTACT_ID_MESSAGE);
        const after = Number(request.query.after ?? 0);
        const limit = Number(request.query.limit ?? DEFAULT_HISTORY_PAGE);
        if (!(limit >= 1 && limit <= MAX_HISTORY_PAGE)) throw new AppError(400, 'INVALID_PAGE', HISTORY_PAGE_MESSAGE);
        return { history: found(await service.history(id, { after, limit }), id) };
      },
    );

    app.get<{ Params: ContactIdParams; Querystring: ExplainQuery }>(
      '/customers/:id/explain',
      {
        attachValidation: true,
        schema: {
          ...common,
          summary: 'Why two contacts are one customer: the shortest chain of shared identifiers and logged merges between them',
          description:
            'Both must be live contacts of the customer of `id`; `from` defaults to its primary. Blocked values link nothing. When no recorded link joins them (rows written before the event log existed), the answer is kind "unrecorded" with no steps: a chain is never made up.',
          querystring: ExplainQuery,
          response: { ...commonResponses, 200: ExplainResponse, 400: HISTORY_ERRORS.badExplain },
        },
      },
      async (request) => {
        rejectInvalid(request, { from: 'INVALID_CONTACT_ID', to: 'INVALID_CONTACT_ID' });
        const id = contactId(request.params.id, CONTACT_ID_MESSAGE);
        const from = request.query.from === undefined ? null : contactId(request.query.from, EXPLAIN_CONTACTS_MESSAGE);
        const to = contactId(request.query.to, EXPLAIN_CONTACTS_MESSAGE);
        const result = await service.explain(id, from, to);
        if (result.kind === 'notInCustomer') {
          const [first, second] = result.contactIds;
          const which =
            second === undefined ? `Contact ${first} is not a live contact` : `Contacts ${first} and ${second} are not live contacts`;
          throw new AppError(
            400,
            'CONTACT_NOT_IN_CUSTOMER',
            `${which} of customer ${result.primaryContactId}.`,
            {},
            { contactIds: result.contactIds },
          );
        }
        return { explanation: found(result, id) };
      },
    );
  };
}

/** Schema failures, in this API's words: the parameter's code, never the value sent. */
function rejectInvalid(request: FastifyRequest, codes: Record<string, string>): void {
  const failure = request.validationError;
  if (failure === undefined || failure === null) return;
  const issue = (failure as { validation?: { instancePath?: string; params?: { missingProperty?: string } }[] }).validation?.[0];
  const field = issue?.instancePath?.slice(1) || issue?.params?.missingProperty || '';
  if (field === 'id') throw new AppError(400, 'INVALID_CONTACT_ID', CONTACT_ID_MESSAGE);
  const code = codes[field] ?? 'BAD_REQUEST';
  const message =
    code === 'INVALID_PAGE' ? HISTORY_PAGE_MESSAGE : code === 'INVALID_CONTACT_ID' ? EXPLAIN_CONTACTS_MESSAGE : 'The request is not valid.';
  throw new AppError(400, code, message);
}

/** The schema admits 1 to 10 digits; an `integer` column stops short of the largest of those. */
function contactId(text: string, message: string): number {
  const id = Number(text);
  if (id > MAX_CONTACT_ID) throw new AppError(400, 'INVALID_CONTACT_ID', message);
  return id;
}

function found<T>(result: HistoryLookup<T>, id: number): T {
  if (result.kind === 'notFound') throw new AppError(404, 'NOT_FOUND', `No live contact has id ${id}.`);
  if (result.kind === 'brokenLinks') throw brokenLinksError(result.contactIds);
  return result.value;
}
