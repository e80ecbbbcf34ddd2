/** POST /identify: validate, normalise, call the service, shape the answer. Nothing else. */
import type { FastifyInstance } from 'fastify';
import type { Customer } from '../../identity/contact.js';
import { BrokenLinksError } from '../../identity/customerGroups.js';
import { BlockedIdentifierError, type IdentifyService } from '../../identity/identifyService.js';
import type { IdentifierField, Normaliser } from '../../identity/normalise.js';
import { AppError, blockedIdentifierError, brokenLinksError } from '../errors.js';
import { recordBlocked, recordIdentify, type Metrics } from '../metrics.js';
import { BitespeedResponse, CustomerResponse, ERROR_RESPONSES, IdentifyBody } from '../schemas.js';

export type ResponseFormat = 'customer' | 'bitespeed';

export interface IdentifyRouteOptions {
  service: IdentifyService;
  normaliser: Normaliser;
  format: ResponseFormat;
  metrics: Metrics;
  /** OpenAPI security requirement, when the API needs a key. */
  security?: Record<string, string[]>[];
}

export function identifyRoutes({ service, normaliser, format, metrics, security }: IdentifyRouteOptions) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.post<{ Body: IdentifyBody }>(
      '/identify',
      {
        schema: {
          tags: ['identity'],
          summary: 'Reconcile a checkout: the whole customer its email and/or phone belong to',
          description:
            'Creates a primary contact for unseen identifiers, a secondary only when the request brings an email or phone the customer does not have yet, and merges customers joined by the request under the oldest primary. Safe to repeat: a request that brings nothing new writes nothing.',
          ...(security ? { security } : {}),
          body: IdentifyBody,
          response: {
            200: format === 'bitespeed' ? BitespeedResponse : CustomerResponse,
            400: ERROR_RESPONSES.badRequest,
            ...(security ? { 401: ERROR_RESPONSES.unauthorized } : {}),
            413: ERROR_RESPONSES.payloadTooLarge,
            409: ERROR_RESPONSES.needsRepair,
            415: ERROR_RESPONSES.unsupportedMediaType,
            422: ERROR_RESPONSES.blockedIdentifier,
            429: ERROR_RESPONSES.tooManyRequests,
            500: ERROR_RESPONSES.internal,
            503: ERROR_RESPONSES.unavailable,
          },
        },
      },
      async (request) => {
        const normalised = normaliser.identifiers(request.body);
        if (!normalised.ok) throw new AppError(400, normalised.code, normalised.message);
        const { customer, outcome, ignored, separation } = await service
          .identify(normalised.value, { requestId: request.id })
          .catch((error: unknown) => {
            if (error instanceof BrokenLinksError) throw brokenLinksError(error.contactIds);
            if (error instanceof BlockedIdentifierError) {
              recordBlocked(metrics, error.fields);
              throw blockedIdentifierError(error.fields);
            }
            throw error;
          });
        recordIdentify(metrics, outcome, 1 + customer.secondaryContactIds.length);
        // A separation's field is the last one ignored, and it is not blocked.
        recordBlocked(metrics, separation === undefined ? ignored : ignored.slice(0, -1));
        request.logFields = {
          outcome,
          primaryContactId: customer.primaryContactId,
          ...(ignored.length > 0 ? { ignored } : {}),
          ...(separation === undefined ? {} : { separation }),
        };
        return present(customer, format, ignored);
      },
    );
  };
}

/** `ignored` is said only when something was (the Bitespeed shape stays exactly the original's). */
function present(customer: Customer, format: ResponseFormat, ignored: readonly IdentifierField[]) {
  if (format === 'bitespeed') {
    const { primaryContactId, ...rest } = customer;
    return { contact: { primaryContatctId: primaryContactId, ...rest } };
  }
  return { customer: { id: customer.primaryContactId, ...customer }, ...(ignored.length > 0 ? { ignored } : {}) };
}
