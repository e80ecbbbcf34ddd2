/**
 * TypeBox schemas of GET /customers/{id}/history and /explain: validation, types and the OpenAPI
 * document, as in schemas.ts. Examples are the README's merged customer (george, biffsucks, biff).
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_CONTACT_ID, errorResponse, errorWithContactsNotInCustomer } from './schemas.js';

/** The most events one answer carries, and how many when the request does not say. */
export const MAX_HISTORY_PAGE = 1000;
export const DEFAULT_HISTORY_PAGE = 100;

export const HISTORY_PAGE_MESSAGE = `limit must be 1 to ${MAX_HISTORY_PAGE}; after an event id (a non-negative integer).`;
export const EXPLAIN_CONTACTS_MESSAGE = `to (and from, if given) must be contact ids: positive integers up to ${MAX_CONTACT_ID}.`;

const Timestamp = Type.String({ format: 'date-time' });
const NullableString = Type.Union([Type.String(), Type.Null()]);
const ContactIdText = (description: string) => Type.String({ pattern: '^[1-9][0-9]{0,9}$', description, examples: ['3'] });

export const HistoryQuery = Type.Object({
  after: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,15}$', description: 'Events with ids above this one: the previous page’s nextAfter (default 0)' }),
  ),
  limit: Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,4}$',
      description: `Events per answer, 1 to ${MAX_HISTORY_PAGE} (default ${DEFAULT_HISTORY_PAGE})`,
      examples: ['100'],
    }),
  ),
});
export type HistoryQuery = Static<typeof HistoryQuery>;

export const ExplainQuery = Type.Object({
  from: Type.Optional(ContactIdText("Where the chain starts: a contact of the customer (default: the customer's primary)")),
  to: ContactIdText('Where it ends: a contact of the customer'),
});
export type ExplainQuery = Static<typeof ExplainQuery>;

export const ContactEventSchema = Type.Object(
  {
    id: Type.Integer({ description: 'The event id: events are numbered in the order they were written' }),
    at: Timestamp,
    requestId: Type.Union([Type.String(), Type.Null()], { description: 'The x-request-id of the request that made the change' }),
    type: Type.String({
      description:
        '`customer.created`, `customer.updated`, `customer.merged`, `customer.relinked`, `customer.split`, `identifier.blocked`, `identifier.unblocked`, `identifier.quarantined` (docs/history.md)',
    }),
    customerIds: Type.Array(Type.Integer(), { description: 'The primaries the event concerns, the customer after the event first' }),
    contactIds: Type.Array(Type.Integer(), { description: 'The contacts it inserted or re-linked' }),
    email: Type.Union([Type.String(), Type.Null()], { description: '`customer.merged` only: the request’s email' }),
    phoneNumber: Type.Union([Type.String(), Type.Null()], { description: '`customer.merged` only: the request’s phone number' }),
    detail: Type.Object({}, { additionalProperties: true, description: 'What else the event type records (docs/history.md)' }),
  },
  { description: 'One change, as the event log recorded it in the transaction that made it' },
);

export const HistoryResponse = Type.Object(
  {
    history: Type.Object({
      primaryContactId: Type.Integer(),
      recorded: Type.Union([Type.Literal(true), Type.Literal('partial'), Type.Literal(false)], {
        description:
          "`true`: every live contact's creation is in the history. `partial`: some were created without an event in it (before the event log existed, by another system, or under a customer they were split from). `false`: there are no events at all: the table was written before the log existed.",
      }),
      note: Type.Union([Type.String(), Type.Null()], { description: 'What `recorded` means for this customer, in words; null when true' }),
      contacts: Type.Object(
        {
          total: Type.Integer({ minimum: 1, description: 'Live contacts of the customer' }),
          recorded: Type.Integer({ minimum: 0, description: 'Those whose creation is in the history' }),
        },
        { description: 'How much of the customer the history accounts for' },
      ),
      events: Type.Array(ContactEventSchema, { description: 'This page of the history, oldest first' }),
      page: Type.Object({
        after: Type.Integer({ minimum: 0 }),
        limit: Type.Integer({ minimum: 1 }),
        total: Type.Integer({ minimum: 0, description: 'Events in the whole history' }),
        nextAfter: Type.Union([Type.Integer(), Type.Null()], { description: '`after` of the next page; null on the last' }),
      }),
    }),
  },
  {
    description: "What the event log says happened to the customer's contacts, oldest first",
    examples: [
      {
        history: {
          primaryContactId: 1,
          recorded: true,
          note: null,
          contacts: { total: 2, recorded: 2 },
          events: [
            {
              id: 1,
              at: '2026-11-25T17:02:56.734Z',
              requestId: 'order-4711',
              type: 'customer.created',
              customerIds: [1],
              contactIds: [1],
              email: null,
              phoneNumber: null,
              detail: {},
            },
            {
              id: 3,
              at: '2026-11-25T17:02:56.789Z',
              requestId: 'order-4713',
              type: 'customer.merged',
              customerIds: [1, 2],
              contactIds: [2],
              email: 'george@hillvalley.edu',
              phoneNumber: '717171',
              detail: { survivor: 1, absorbed: [2] },
            },
          ],
          page: { after: 0, limit: 100, total: 2, nextAfter: null },
        },
      },
    ],
  },
);

const ContactStep = Type.Object({ kind: Type.Literal('contact'), id: Type.Integer() });
const IdentifierStep = Type.Object(
  {
    kind: Type.Literal('identifier'),
    field: Type.Union([Type.Literal('email'), Type.Literal('phoneNumber')]),
    value: Type.String(),
  },
  { description: 'An email or phone number the contacts on either side both hold' },
);
const MergeStep = Type.Object(
  {
    kind: Type.Literal('merge'),
    eventId: Type.Integer(),
    at: Timestamp,
    requestId: NullableString,
    email: Type.String(),
    phoneNumber: Type.String(),
  },
  { description: 'A logged merge: a request whose email matched one side and whose phone number the other' },
);

export const ExplainResponse = Type.Object(
  {
    explanation: Type.Object({
      primaryContactId: Type.Integer(),
      from: Type.Integer(),
      to: Type.Integer(),
      kind: Type.Union([Type.Literal('path'), Type.Literal('unrecorded')], {
        description:
          '`path`: `steps` is a shortest chain of recorded links from `from` to `to`. `unrecorded`: they are one customer, but no recorded link joins them (`message` says why); no chain is made up.',
      }),
      steps: Type.Array(Type.Union([ContactStep, IdentifierStep, MergeStep]), {
        description: 'contact, link, contact, …; just the contact when from = to; empty when unrecorded',
      }),
      cause: Type.Union([Type.Literal('blocked'), Type.Literal('noRecord'), Type.Null()], {
        description:
          'Unrecorded only. `blocked`: only values blocked now linked them. `noRecord`: they were linked before the event log existed, or by another system',
      }),
      message: NullableString,
    }),
  },
  {
    description: 'Why two contacts are one customer',
    examples: [
      {
        explanation: {
          primaryContactId: 1,
          from: 1,
          to: 3,
          kind: 'path',
          steps: [
            { kind: 'contact', id: 1 },
            {
              kind: 'merge',
              eventId: 3,
              at: '2026-11-25T17:02:56.789Z',
              requestId: 'order-4713',
              email: 'george@hillvalley.edu',
              phoneNumber: '717171',
            },
            { kind: 'contact', id: 2 },
            { kind: 'identifier', field: 'phoneNumber', value: '717171' },
            { kind: 'contact', id: 3 },
          ],
          cause: null,
          message: null,
        },
      },
    ],
  },
);

export const HISTORY_ERRORS = {
  badHistory: errorResponse('INVALID_CONTACT_ID: the id is not a positive integer; INVALID_PAGE: after or limit out of range', {
    code: 'INVALID_PAGE',
    message: HISTORY_PAGE_MESSAGE,
  }),
  badExplain: errorWithContactsNotInCustomer(
    'INVALID_CONTACT_ID: the id, from or to is not a positive integer (or to is missing); CONTACT_NOT_IN_CUSTOMER: from or to is not a live contact of this customer',
    { code: 'CONTACT_NOT_IN_CUSTOMER', message: 'Contact 9 is not a live contact of customer 1.', contactIds: [9] },
  ),
};
