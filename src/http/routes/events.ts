/**
 * GET /events?after=&limit=: the change events, in id order, up to the watermark: what a
 * webhook receiver would have been sent, for readers that pull (or to backfill a new receiver).
 * Behind the admin keys: events name customers and contacts and may carry a new email or phone.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventFeed } from '../../delivery/eventFeed.js';
import { AppError } from '../errors.js';
import { DEFAULT_EVENTS_PAGE, EVENT_ERRORS, EVENTS_PAGE_MESSAGE, EventsQuery, EventsResponse, MAX_EVENTS_PAGE } from '../eventSchemas.js';
import { guardAdminScope, type AdminAccess } from '../plugins/adminAccess.js';

export interface EventRouteOptions extends AdminAccess {
  feed: EventFeed;
}

export const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

export function eventRoutes({ feed, ...access }: EventRouteOptions) {
  return async function register(app: FastifyInstance): Promise<void> {
    const { common, errors } = guardAdminScope(app, access);
    app.get<{ Querystring: EventsQuery }>(
      '/events',
      {
        attachValidation: true,
        schema: {
          ...common,
          summary: 'Change events in id order, up to the watermark: the same events webhooks deliver',
          description:
            'Pass the last id you got as `after`. Only events up to `safeThrough` are served: below it every event is final (visible, or never will be), so a reader that keeps its last id never skips one that committed late.',
          querystring: EventsQuery,
          response: { 200: EventsResponse, 400: EVENT_ERRORS.badPage, ...errors },
        },
      },
      async (request) => {
        const { after, limit } = pageOf(request);
        return feed.page(after, limit);
      },
    );
  };
}

/** `after` and `limit` of a page, or 400 INVALID_PAGE (never repeating what was sent). */
export function pageOf(request: FastifyRequest<{ Querystring: EventsQuery }>): { after: string; limit: number } {
  if (request.validationError) throw new AppError(400, 'INVALID_PAGE', EVENTS_PAGE_MESSAGE);
  const after = BigInt(request.query.after ?? '0');
  const limit = Number(request.query.limit ?? DEFAULT_EVENTS_PAGE);
  if (after > MAX_EVENT_ID || !(limit >= 1 && limit <= MAX_EVENTS_PAGE)) throw new AppError(400, 'INVALID_PAGE', EVENTS_PAGE_MESSAGE);
  return { after: after.toString(), limit };
}
