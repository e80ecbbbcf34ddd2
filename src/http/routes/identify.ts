/** POST /identify: validate, normalise, call the service, shape the answer. Nothing else. */
import type { FastifyInstance } from 'fastify';
import type { Customer } from '../../identity/contact.js';
import type { IdentifyService } from '../../identity/identifyService.js';
import { normaliseIdentifiers } from '../../identity/normalize.js';
import { AppError } from '../errors.js';
import { BitespeedResponse, CustomerResponse, ErrorResponse, IdentifyBody } from '../schemas.js';

export type ResponseFormat = 'customer' | 'bitespeed';

export function identifyRoutes(service: IdentifyService, format: ResponseFormat) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.post<{ Body: IdentifyBody }>(
      '/identify',
      {
        schema: {
          body: IdentifyBody,
          response: {
            200: format === 'bitespeed' ? BitespeedResponse : CustomerResponse,
            '4xx': ErrorResponse,
            '5xx': ErrorResponse,
          },
        },
      },
      async (request) => {
        const normalised = normaliseIdentifiers(request.body);
        if (!normalised.ok) throw new AppError(400, normalised.code, normalised.message);
        const { customer, outcome } = await service.identify(normalised.value);
        request.logFields = { outcome, primaryContactId: customer.primaryContactId };
        return present(customer, format);
      },
    );
  };
}

function present(customer: Customer, format: ResponseFormat) {
  if (format === 'bitespeed') {
    const { primaryContactId, ...rest } = customer;
    return { contact: { primaryContatctId: primaryContactId, ...rest } };
  }
  return { customer: { id: customer.primaryContactId, ...customer } };
}
