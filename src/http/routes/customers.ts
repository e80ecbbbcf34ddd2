/**
 * The read API: GET /customers/lookup and GET /customers/{id}. Validate, call the lookup
 * service, shape the answer; they never write.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Normaliser } from '../../identity/normalise.js';
import type { LookupResult, LookupService } from '../../identity/lookupService.js';
import { MAX_CONTACTS_PAGE, pageOfContacts } from '../../identity/customerDetails.js';
import { AppError, blockedIdentifierError, brokenLinksError } from '../errors.js';
import {
  ContactIdParams,
  ContactPageOnlyQuery,
  CustomerDetailsResponse,
  CustomerLookupResponse,
  CustomerLookupQuery,
  DifferentCustomersResponse,
  ERROR_RESPONSES,
  CONTACT_ID_MESSAGE,
  MAX_CONTACT_ID,
  PAGE_MESSAGE,
} from '../schemas.js';

export interface CustomerRouteOptions {
  service: LookupService;
  normaliser: Normaliser;
  /** OpenAPI security requirement, when the API needs a key. */
  security?: Record<string, string[]>[];
}

export function customerRoutes({ service, normaliser, security }: CustomerRouteOptions) {
  const common = {
    tags: ['customers'],
    ...(security ? { security } : {}),
  };
  const commonResponses = {
    200: CustomerDetailsResponse,
    ...(security ? { 401: ERROR_RESPONSES.unauthorized } : {}),
    429: ERROR_RESPONSES.tooManyRequests,
    500: ERROR_RESPONSES.internal,
    503: ERROR_RESPONSES.unavailable,
  };
  return async function register(app: FastifyInstance): Promise<void> {
    app.get<{ Querystring: CustomerLookupQuery }>(
      '/customers/lookup',
      {
        schema: {
          ...common,
          summary: 'The customer that owns an email and/or a phone number, without creating anything',
          description:
            'Same normalisation and validation as POST /identify. An identifier nobody has is ignored when the other one is found; if the email and the phone belong to two customers, the answer is 409 with both ids — a lookup never merges.',
          querystring: CustomerLookupQuery,
          response: {
            ...commonResponses,
            200: CustomerLookupResponse,
            400: ERROR_RESPONSES.badLookup,
            404: ERROR_RESPONSES.notFound,
            409: Type.Union([DifferentCustomersResponse, ERROR_RESPONSES.needsRepair]),
            422: ERROR_RESPONSES.blockedIdentifier,
          },
        },
      },
      async (request) => {
        const normalised = normaliser.identifiers(request.query);
        if (!normalised.ok) throw new AppError(400, normalised.code, normalised.message);
        const page = parsePage(request.query);
        const found = present(await service.byIdentifiers(normalised.value), 'No customer has these identifiers.', page);
        return { ...found, searched: normalised.value };
      },
    );

    app.get<{ Params: ContactIdParams; Querystring: ContactPageOnlyQuery }>(
      '/customers/:id',
      {
        schema: {
          ...common,
          summary: 'The customer owning a contact: any of its contacts ids works, the answer is for the primary',
          params: ContactIdParams,
          querystring: ContactPageOnlyQuery,
          response: {
            ...commonResponses,
            400: ERROR_RESPONSES.badContactId,
            404: ERROR_RESPONSES.notFound,
            409: ERROR_RESPONSES.needsRepair,
          },
        },
      },
      async (request) => {
        const id = parseContactId(request.params.id);
        const page = parsePage(request.query);
        return present(await service.byContactId(id), `No live contact has id ${id}.`, page);
      },
    );
  };
}

/** The schema admits 1 to 10 digits; an `integer` column stops short of the largest of those. */
export function parseContactId(text: string): number {
  const id = Number(text);
  if (id > MAX_CONTACT_ID) throw new AppError(400, 'INVALID_CONTACT_ID', CONTACT_ID_MESSAGE);
  return id;
}

interface Page {
  offset: number;
  limit: number;
}

function parsePage(query: { contactsOffset?: string; contactsLimit?: string }): Page {
  const offset = Number(query.contactsOffset ?? 0);
  const limit = Number(query.contactsLimit ?? MAX_CONTACTS_PAGE);
  if (!(limit >= 1 && limit <= MAX_CONTACTS_PAGE)) {
    throw new AppError(400, 'INVALID_PAGE', PAGE_MESSAGE);
  }
  return { offset, limit };
}

function present(result: LookupResult, notFoundMessage: string, page: Page) {
  if (result.kind === 'notFound') throw new AppError(404, 'NOT_FOUND', notFoundMessage);
  if (result.kind === 'brokenLinks') throw brokenLinksError(result.contactIds);
  if (result.kind === 'blocked') throw blockedIdentifierError(result.fields);
  if (result.kind === 'differentCustomers') {
    const [first, second] = result.primaryContactIds;
    throw new AppError(
      409,
      'DIFFERENT_CUSTOMERS',
      `The email and the phone number belong to different customers: ${first} and ${second}.`,
      {},
      {
        primaryContactIds: result.primaryContactIds,
      },
    );
  }
  const customer = pageOfContacts(result.customer, page.offset, page.limit);
  return { customer: { id: customer.primaryContactId, ...customer } };
}
