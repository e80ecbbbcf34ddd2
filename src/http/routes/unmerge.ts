/**
 * Unmerge and separations, served inside the admin API's scope (its keys, its no-store header):
 * `POST /admin/customers/{id}/unmerge`, `GET /admin/separations`, `DELETE /admin/separations/{id}`.
 * The issue asked for `/customers/{id}/unmerge`; under `/admin` it cannot be reached with an API
 * key of `/customers`' own, and every route that changes who links with whom is in one place.
 */
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { BrokenLinksError } from '../../identity/customerGroups.js';
import { separationView } from '../../identity/separations.js';
import {
  ContactsNotInCustomerError,
  StillLinkedError,
  UnmergeNotFoundError,
  type UnmergeService,
  type UnmergeTarget,
} from '../../identity/unmerge.js';
import { AppError, brokenLinksError } from '../errors.js';
import { CONTACT_ID_MESSAGE, ContactIdParams, MAX_CONTACT_ID } from '../schemas.js';
import {
  SeparationIdParams,
  SeparationRemovedResponse,
  SeparationsResponse,
  StillLinkedResponse,
  UNMERGE_ERRORS,
  UNMERGE_MESSAGE,
  UnmergeBody,
  UnmergeResponse,
} from '../unmergeSchemas.js';

export interface UnmergeRouteOptions {
  unmerge: UnmergeService;
  /** The admin scope's tags and security. */
  common: FastifySchema;
  /** The admin scope's error responses (401, 403, 500, 503). */
  errors: Record<number, unknown>;
  addedBy: (request: FastifyRequest) => string;
}

export function registerUnmergeRoutes(app: FastifyInstance, { unmerge, common, errors, addedBy }: UnmergeRouteOptions): void {
  app.post<{ Params: ContactIdParams; Body: UnmergeBody }>(
    '/admin/customers/:id/unmerge',
    {
      schema: {
        ...common,
        summary:
          'Undo a logged merge of the customer of contact {id}: its two sides become customers again, and a separation keeps requests from joining them',
        params: ContactIdParams,
        body: UnmergeBody,
        response: {
          200: UnmergeResponse,
          400: UNMERGE_ERRORS.badUnmerge,
          404: UNMERGE_ERRORS.notFound,
          409: StillLinkedResponse,
          ...errors,
        },
      },
    },
    async (request) => {
      const id = Number(request.params.id);
      if (id > MAX_CONTACT_ID) throw new AppError(400, 'INVALID_CONTACT_ID', CONTACT_ID_MESSAGE);
      const outcome = await unmerge
        .unmerge(id, targetOf(request.body), { addedBy: addedBy(request), requestId: request.id })
        .catch(translateUnmergeError);
      return { ...outcome, separation: separationView(outcome.separation) };
    },
  );

  app.get(
    '/admin/separations',
    {
      schema: {
        ...common,
        summary: 'The separations: customers that requests may not join again',
        response: { 200: SeparationsResponse, ...errors },
      },
    },
    async () => {
      const { version, separations } = await unmerge.separations();
      return { version, separations: separations.map(separationView) };
    },
  );

  app.delete<{ Params: SeparationIdParams }>(
    '/admin/separations/:separationId',
    {
      schema: {
        ...common,
        summary:
          'Remove a separation: nothing is merged by it; the next request carrying identifiers of both sides joins them by the usual rules',
        params: SeparationIdParams,
        response: {
          200: SeparationRemovedResponse,
          400: UNMERGE_ERRORS.badSeparationId,
          404: UNMERGE_ERRORS.separationNotFound,
          ...errors,
        },
      },
    },
    async (request) => {
      const id = Number(request.params.separationId);
      const removed = await unmerge.removeSeparation(id, { addedBy: addedBy(request), requestId: request.id });
      if (removed === null) throw new AppError(404, 'NOT_FOUND', `No separation has id ${id}.`);
      return { separation: separationView(removed) };
    },
  );
}

function targetOf(body: UnmergeBody | undefined): UnmergeTarget {
  const { mergeEventId, contactIds } = body ?? {};
  if (mergeEventId !== undefined && contactIds === undefined) {
    const eventId = Number(mergeEventId);
    if (Number.isSafeInteger(eventId)) return { mergeEventId: eventId };
  }
  if (contactIds !== undefined && mergeEventId === undefined) {
    const [a, b] = contactIds as [number, number];
    if (a !== b) return { contactIds: [a, b] };
  }
  throw new AppError(400, 'INVALID_UNMERGE', UNMERGE_MESSAGE);
}

function translateUnmergeError(error: unknown): never {
  if (error instanceof UnmergeNotFoundError) throw new AppError(404, 'NOT_FOUND', error.message);
  if (error instanceof ContactsNotInCustomerError) {
    throw new AppError(400, 'CONTACT_NOT_IN_CUSTOMER', error.message, {}, { contactIds: error.contactIds });
  }
  if (error instanceof StillLinkedError) {
    throw new AppError(409, 'STILL_LINKED', error.message, {}, { contactIds: [...error.contactIds], links: error.links });
  }
  if (error instanceof BrokenLinksError) throw brokenLinksError(error.contactIds);
  throw error;
}
