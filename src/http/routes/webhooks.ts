/**
 * The webhook admin API: endpoints (GET/POST /admin/webhooks, DELETE /admin/webhooks/{id}), their
 * dead letters, and redelivery. Behind the admin keys, like the rest of /admin.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidWebhookUrlError, type WebhookAdmin } from '../../delivery/webhookAdmin.js';
import { AppError } from '../errors.js';
import {
  DeadLetterParams,
  DeadLettersQuery,
  DeadLettersResponse,
  EVENT_ERRORS,
  EVENT_ID_MESSAGE,
  RedeliverResponse,
  WEBHOOK_ID_MESSAGE,
  WebhookBody,
  WebhookCreatedResponse,
  WebhookIdParams,
  WebhookListResponse,
  WebhookRemovedResponse,
  type EventsQuery,
} from '../eventSchemas.js';
import { guardAdminScope, type AdminAccess } from '../plugins/adminAccess.js';
import { MAX_EVENT_ID, pageOf } from './events.js';

export interface WebhookRouteOptions extends AdminAccess {
  webhooks: WebhookAdmin;
}

const URL_MESSAGE = 'The body must be {"url": "<an http:// or https:// URL, at most 2000 characters>"}.';

export function webhookRoutes({ webhooks, ...access }: WebhookRouteOptions) {
  return async function register(app: FastifyInstance): Promise<void> {
    const { common, errors } = guardAdminScope(app, access);
    const notFound = (id: number) => new AppError(404, 'NOT_FOUND', `No webhook has id ${id}.`);

    app.get(
      '/admin/webhooks',
      {
        schema: {
          ...common,
          summary: 'Webhook endpoints, with their cursors, retries and dead letters',
          response: { 200: WebhookListResponse, ...errors },
        },
      },
      async () => ({ webhooks: await webhooks.list() }),
    );

    app.post<{ Body: WebhookBody }>(
      '/admin/webhooks',
      {
        attachValidation: true,
        schema: {
          ...common,
          summary: 'Add an endpoint: it gets every event from now on, signed with the secret in the answer (shown once)',
          body: WebhookBody,
          response: { 201: WebhookCreatedResponse, 400: EVENT_ERRORS.badWebhook, 409: EVENT_ERRORS.webhookExists, ...errors },
        },
      },
      async (request, reply) => {
        if (request.validationError) throw new AppError(400, 'INVALID_WEBHOOK', URL_MESSAGE);
        const added = await webhooks.add(request.body.url).catch((error: unknown) => {
          if (error instanceof InvalidWebhookUrlError) throw new AppError(400, 'INVALID_WEBHOOK', error.message);
          throw error;
        });
        if (added === null) throw new AppError(409, 'WEBHOOK_EXISTS', 'An endpoint has this URL already.');
        return reply.status(201).send({ webhook: added.endpoint, secret: added.secret });
      },
    );

    app.delete<{ Params: WebhookIdParams }>(
      '/admin/webhooks/:id',
      {
        attachValidation: true,
        schema: {
          ...common,
          summary: 'Remove an endpoint added here, with its dead letters (WEBHOOK_URLS endpoints are removed there)',
          params: WebhookIdParams,
          response: {
            200: WebhookRemovedResponse,
            400: EVENT_ERRORS.badWebhookId,
            404: EVENT_ERRORS.notFound,
            409: EVENT_ERRORS.configured,
            ...errors,
          },
        },
      },
      async (request) => {
        const id = webhookId(request);
        const outcome = await webhooks.remove(id);
        if (outcome.kind === 'notFound') throw notFound(id);
        if (outcome.kind === 'configured') {
          throw new AppError(409, 'CONFIGURED_WEBHOOK', 'This endpoint comes from WEBHOOK_URLS: remove it there and restart.');
        }
        return { webhook: outcome.endpoint };
      },
    );

    app.get<{ Params: WebhookIdParams; Querystring: EventsQuery }>(
      '/admin/webhooks/:id/dead-letters',
      {
        attachValidation: true,
        schema: {
          ...common,
          summary: 'The events an endpoint did not accept within the retry window, by event id (ids and times only)',
          params: WebhookIdParams,
          querystring: DeadLettersQuery,
          response: { 200: DeadLettersResponse, 400: EVENT_ERRORS.badWebhookId, 404: EVENT_ERRORS.notFound, ...errors },
        },
      },
      async (request) => {
        const id = webhookId(request);
        const { after, limit } = pageOf(request);
        const deadLetters = await webhooks.deadLetters(id, after, limit);
        if (deadLetters === null) throw notFound(id);
        const last = deadLetters.at(-1);
        return { deadLetters, next: deadLetters.length === limit && last !== undefined ? last.eventId : null };
      },
    );

    app.post<{ Params: DeadLetterParams }>(
      '/admin/webhooks/:id/dead-letters/:eventId/redeliver',
      {
        attachValidation: true,
        schema: {
          ...common,
          summary: "Send a dead letter again: before the endpoint's next new event, with the usual retries",
          params: DeadLetterParams,
          response: { 202: RedeliverResponse, 400: EVENT_ERRORS.badWebhookId, 404: EVENT_ERRORS.notFound, ...errors },
        },
      },
      async (request, reply) => {
        const id = webhookId(request);
        const eventId = request.params.eventId;
        if (BigInt(eventId) > MAX_EVENT_ID) throw new AppError(400, 'INVALID_EVENT_ID', EVENT_ID_MESSAGE);
        const deadLetter = await webhooks.redeliver(id, eventId);
        if (deadLetter === null) throw new AppError(404, 'NOT_FOUND', `Webhook ${id} has no dead letter for event ${eventId}.`);
        return reply.status(202).send({ deadLetter });
      },
    );
  };
}

/** The path's ids, or 400 naming which is wrong (never repeating it). */
function webhookId(request: FastifyRequest<{ Params: { id: string; eventId?: string } }>): number {
  const issue = (request.validationError as { validation?: { instancePath?: string }[] } | undefined)?.validation?.[0];
  if (issue !== undefined) {
    const path = issue.instancePath ?? '';
    if (path === '/id') throw new AppError(400, 'INVALID_WEBHOOK_ID', WEBHOOK_ID_MESSAGE);
    if (path === '/eventId') throw new AppError(400, 'INVALID_EVENT_ID', EVENT_ID_MESSAGE);
  }
  return Number(request.params.id);
}
