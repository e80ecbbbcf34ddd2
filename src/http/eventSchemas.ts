/**
 * TypeBox schemas of change events — one shape for a webhook's body and an entry of
 * `GET /events` (src/delivery/events.ts builds it) — and of the webhook admin API. The
 * envelope's fields are the history API's (historySchemas.ts), except the id: a bigint, sent as
 * a decimal string.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ContactEventSchema } from './historySchemas.js';
import { errorResponse } from './schemas.js';

export const MAX_EVENTS_PAGE = 1000;
export const DEFAULT_EVENTS_PAGE = 100;
export const EVENTS_PAGE_MESSAGE = `limit must be 1 to ${MAX_EVENTS_PAGE}; after an event id (a non-negative integer).`;

const EventId = Type.String({ pattern: '^[0-9]{1,19}$', description: 'An event id (a bigint) as a decimal string', examples: ['42'] });
const Field = Type.Union([Type.Literal('email'), Type.Literal('phoneNumber')]);
const Ids = (description: string) => Type.Array(Type.Integer(), { description });

const { at, customerIds, contactIds } = ContactEventSchema.properties;

function changeEvent<Data extends TSchema>(type: TSchema, data: Data, description: string) {
  return Type.Object(
    {
      id: Type.String({
        pattern: '^[1-9][0-9]{0,18}$',
        description: 'The event id, a decimal string: also the `webhook-id` of its deliveries',
      }),
      type,
      at,
      customerIds,
      contactIds,
      data,
    },
    { description },
  );
}

const RuleData = Type.Object(
  {
    ruleId: Type.Integer(),
    field: Field,
    match: Type.Union([Type.Literal('exact'), Type.Literal('domain'), Type.Literal('pattern')]),
    reason: Type.String({ description: '`over-merge` for a quarantine' }),
  },
  { description: 'The rule, by id; never the value it blocks' },
);

export const ChangeEvent = Type.Union(
  [
    changeEvent(
      Type.Literal('customer.created'),
      Type.Object({ customerId: Type.Integer(), contactId: Type.Integer() }),
      'A request matched nobody: a new customer, whose primary is the new contact',
    ),
    changeEvent(
      Type.Literal('customer.updated'),
      Type.Object({
        customerId: Type.Integer(),
        contactId: Type.Integer({ description: 'The new (secondary) contact' }),
        new: Type.Array(Field, { description: 'The fields it brought that the customer did not have' }),
        email: Type.Optional(Type.String({ description: 'The new email, read from the contact when sent; absent once erased or deleted' })),
        phoneNumber: Type.Optional(Type.String({ description: 'The new phone number, likewise' })),
      }),
      'A request brought an email or phone number its customer did not have: a new secondary contact',
    ),
    changeEvent(
      Type.Literal('customer.merged'),
      Type.Object({
        survivorId: Type.Integer({ description: 'The primary of the customer they became (the oldest)' }),
        absorbedIds: Ids('The primaries (or owning rows) of the customers it absorbed'),
        cause: Type.Optional(Type.String({ description: '`identifier.unblocked` when an unblock joined them; absent for a request' })),
      }),
      'Customers became one under the oldest primary',
    ),
    changeEvent(
      Type.Literal('customer.relinked'),
      Type.Object({
        customerId: Type.Integer({ description: 'The new primary' }),
        previousOwnerIds: Ids('The (soft-deleted) row the customer belonged under before'),
        promoted: Type.Boolean({ description: 'Whether the new primary was a secondary before' }),
      }),
      "A request put a customer's links in place after its primary was soft-deleted; no customers were joined",
    ),
    changeEvent(
      Type.Literal('customer.split'),
      Type.Object({
        ownerId: Type.Integer({ description: 'The row the customer was owned by (its primary, or a deleted row)' }),
        into: Ids('The primaries of the customers it became'),
        cause: Type.String({ description: 'The event type of the change that split it (`identifier.blocked`, …)' }),
      }),
      'A block or a quarantine left nothing holding a customer together: it became several',
    ),
    changeEvent(
      Type.Literal('contact.erased'),
      Type.Object({ contactIds: Ids('The erased contacts') }),
      "Contacts' personal data was erased: ids and times only",
    ),
    changeEvent(
      Type.Literal('contact.redundant'),
      Type.Object({ contactIds: Ids('The contacts soft-deleted') }),
      'An import found contacts that a replay of the checkouts in time order would not create (an older imported checkout brought their values): soft-deleted, linked to `customerIds[0]`',
    ),
    changeEvent(
      Type.Literal('identifier.blocked'),
      RuleData,
      'A block rule was added; `customerIds`: the customers holding a value it matches',
    ),
    changeEvent(Type.Literal('identifier.unblocked'), RuleData, 'A block rule was removed'),
    changeEvent(
      Type.Literal('identifier.quarantined'),
      RuleData,
      'The customer-size cap blocked an identifier that would have bridged customers',
    ),
    changeEvent(Type.String(), Type.Object({}), 'A type this version does not know (written by a newer one): no data'),
  ],
  {
    description:
      'One change, as webhooks deliver it and GET /events serves it. A type this version does not know (from a newer one) comes with empty data.',
    examples: [
      {
        id: '2',
        type: 'customer.updated',
        at: '2026-11-25T17:02:56.789Z',
        customerIds: [1],
        contactIds: [2],
        data: { customerId: 1, contactId: 2, new: ['email'], email: 'mcfly@hillvalley.edu' },
      },
    ],
  },
);
export type ChangeEvent = Static<typeof ChangeEvent>;

export const EventsQuery = Type.Object({
  after: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'Events with ids above this one (default 0)' })),
  limit: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,4}$', description: `Events per answer, 1 to ${MAX_EVENTS_PAGE} (default ${DEFAULT_EVENTS_PAGE})` }),
  ),
});
export type EventsQuery = Static<typeof EventsQuery>;

export const EventsResponse = Type.Object(
  {
    events: Type.Array(ChangeEvent, { description: 'In id order; only up to safeThrough' }),
    next: Type.Union([EventId, Type.Null()], {
      description:
        '`after` of the next page when this one is full and more are final; null when caught up (poll again later from the last id you got)',
    }),
    safeThrough: Type.String({
      description: 'Every event with an id up to this one is final: visible, or never will be. Nothing above it is served yet.',
    }),
  },
  { description: 'The event log, in id order, up to the watermark' },
);

const Endpoint = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  source: Type.Union([Type.Literal('config'), Type.Literal('admin')], { description: '`config`: WEBHOOK_URLS; `admin`: added here' }),
  createdAt: Type.String({ format: 'date-time' }),
  cursor: Type.String({ description: 'The last event id handed to it (delivered or dead-lettered)' }),
  retrying: Type.Union(
    [
      Type.Object({
        eventId: EventId,
        attempts: Type.Integer({ description: 'Failed attempts at this event' }),
        nextAttemptAt: Type.String({ format: 'date-time' }),
        lastError: Type.Union([Type.String(), Type.Null()], { description: '`HTTP 500`, `timeout`, `ECONNREFUSED`, …; never a body' }),
      }),
      Type.Null(),
    ],
    { description: 'The event being retried; null while nothing fails' },
  ),
  failingSince: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the current run of failures began' }),
  deadLetters: Type.Integer(),
});

export const WebhookListResponse = Type.Object({ webhooks: Type.Array(Endpoint) });

export const WebhookBody = Type.Object(
  { url: Type.String({ minLength: 1, maxLength: 2000, description: 'An http:// or https:// URL' }) },
  { additionalProperties: false, examples: [{ url: 'https://crm.example.com/hooks/identity' }] },
);
export type WebhookBody = Static<typeof WebhookBody>;

export const WebhookCreatedResponse = Type.Object({
  webhook: Endpoint,
  secret: Type.String({
    description: 'The signing secret (Standard Webhooks form, `whsec_…`): shown this once. Verify deliveries with it (docs/webhooks.md).',
  }),
});
export const WebhookRemovedResponse = Type.Object({ webhook: Endpoint });

export const WebhookIdParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) });
export type WebhookIdParams = Static<typeof WebhookIdParams>;
export const DeadLetterParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }), eventId: EventId });
export type DeadLetterParams = Static<typeof DeadLetterParams>;

const DeadLetter = Type.Object({
  eventId: EventId,
  attempts: Type.Integer(),
  lastError: Type.String({ description: 'The last failure: a status code or a short reason, never a body' }),
  at: Type.String({ format: 'date-time', description: 'When it was given up on' }),
  redeliver: Type.Boolean({ description: 'Asked to be sent again, not yet sent' }),
});
export const DeadLettersQuery = EventsQuery;
export const DeadLettersResponse = Type.Object({
  deadLetters: Type.Array(DeadLetter, { description: 'In event id order' }),
  next: Type.Union([EventId, Type.Null()], { description: '`after` of the next page; null on the last' }),
});
export const RedeliverResponse = Type.Object({ deadLetter: DeadLetter });

export const WEBHOOK_ID_MESSAGE = 'The webhook id must be a positive integer.';
export const EVENT_ID_MESSAGE = 'The event id must be a positive integer.';

export const EVENT_ERRORS = {
  badPage: errorResponse('INVALID_PAGE: after or limit out of range', { code: 'INVALID_PAGE', message: EVENTS_PAGE_MESSAGE }),
  badWebhook: errorResponse('INVALID_WEBHOOK: the URL cannot be used (the message says why, without the URL)', {
    code: 'INVALID_WEBHOOK',
    message: 'url must be an absolute http:// or https:// URL.',
  }),
  badWebhookId: errorResponse('INVALID_WEBHOOK_ID, INVALID_EVENT_ID, INVALID_PAGE', {
    code: 'INVALID_WEBHOOK_ID',
    message: WEBHOOK_ID_MESSAGE,
  }),
  webhookExists: errorResponse('WEBHOOK_EXISTS: an endpoint has this URL already', {
    code: 'WEBHOOK_EXISTS',
    message: 'An endpoint has this URL already.',
  }),
  configured: errorResponse('CONFIGURED_WEBHOOK: the endpoint comes from WEBHOOK_URLS; remove it there', {
    code: 'CONFIGURED_WEBHOOK',
    message: 'This endpoint comes from WEBHOOK_URLS: remove it there and restart.',
  }),
  notFound: errorResponse('No such webhook, or no such dead letter', { code: 'NOT_FOUND', message: 'No webhook has id 7.' }),
};
