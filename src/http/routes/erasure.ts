/**
 * Erasure and export, behind the admin keys (registered inside the admin API's scope): erase a
 * contact or a whole customer, and answer an access request with everything held about one.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BrokenLinksError } from '../../identity/customerGroups.js';
import { NothingToEraseError, type ErasureService, type ErasureTarget } from '../../identity/erasure.js';
import { exportCustomer } from '../../identity/exportService.js';
import type { HistoryService } from '../../identity/historyService.js';
import type { LookupService } from '../../identity/lookupService.js';
import { EraseResponse, ExportResponse, NOTHING_TO_ERASE } from '../erasureSchemas.js';
import { AppError, brokenLinksError } from '../errors.js';
import { ContactIdParams, ERROR_RESPONSES } from '../schemas.js';
import { parseContactId as contactId } from './customers.js';

export interface ErasureRouteOptions {
  erasure: ErasureService;
  lookup: LookupService;
  history: HistoryService;
  /** The admin scope's tags and security, and the errors every admin route answers. */
  common: Record<string, unknown>;
  errors: Record<number, unknown>;
  addedBy: (request: Pick<FastifyRequest, 'apiKeyId'>) => string;
}

export async function registerErasureRoutes(
  app: FastifyInstance,
  { erasure, lookup, history, common, errors, addedBy }: ErasureRouteOptions,
): Promise<void> {
  const erase = (target: ErasureTarget, request: Pick<FastifyRequest, 'id' | 'apiKeyId'>) =>
    erasure.erase(target, { addedBy: addedBy(request), requestId: request.id }).catch((error: unknown) => {
      if (error instanceof NothingToEraseError) throw new AppError(404, 'NOT_FOUND', 'No live contact has this id.');
      if (error instanceof BrokenLinksError) throw brokenLinksError(error.contactIds);
      throw error;
    });
  const responses = {
    200: EraseResponse,
    400: ERROR_RESPONSES.badContactId,
    404: NOTHING_TO_ERASE,
    409: ERROR_RESPONSES.needsRepair,
    ...errors,
  };

  const deletions = [
    {
      path: '/contacts/:id',
      summary: 'Erase a contact: its email and phone are forgotten everywhere, and what it alone held together splits',
      target: (id: number): ErasureTarget => ({ contactId: id }),
    },
    {
      path: '/customers/:id',
      summary: 'Erase a customer (any of its contact ids): every row of it, and every value they held',
      target: (id: number): ErasureTarget => ({ customerOf: id }),
    },
  ];
  for (const { path, summary, target } of deletions) {
    app.delete<{ Params: ContactIdParams }>(
      path,
      { schema: { ...common, summary, params: ContactIdParams, response: responses } },
      async (request) => erase(target(contactId(request.params.id)), request),
    );
  }

  app.get<{ Params: ContactIdParams }>(
    '/customers/:id/export',
    {
      schema: {
        ...common,
        summary: 'Everything held about a customer (any of its contact ids), for an access request: its rows and its whole history',
        params: ContactIdParams,
        response: {
          200: ExportResponse,
          400: ERROR_RESPONSES.badContactId,
          404: ERROR_RESPONSES.notFound,
          409: ERROR_RESPONSES.needsRepair,
          ...errors,
        },
      },
    },
    async (request) => {
      const id = contactId(request.params.id);
      const result = await exportCustomer(lookup, history, id);
      if (result.kind === 'notFound') throw new AppError(404, 'NOT_FOUND', `No live contact has id ${id}.`);
      if (result.kind === 'brokenLinks') throw brokenLinksError(result.contactIds);
      const { customer, history: customerHistory } = result.value;
      return { customer: { id: customer.primaryContactId, ...customer }, history: customerHistory };
    },
  );
}
