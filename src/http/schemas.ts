/**
 * TypeBox schemas: one source for request validation, TypeScript types and the OpenAPI document.
 * Examples come from the worked examples of the specification.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_CONTACTS_PAGE } from '../identity/customerDetails.js';
import { MAX_EMAIL_LENGTH, MAX_PHONE_DIGITS, MIN_PHONE_DIGITS } from '../identity/identifierLimits.js';

/** The largest id a PostgreSQL `integer` column holds. */
export const MAX_CONTACT_ID = 2_147_483_647;

/** The largest body any route accepts. */
export const BODY_LIMIT_BYTES = 16 * 1024;
const BODY_LIMIT = `${BODY_LIMIT_BYTES / 1024} KB`;
export const BODY_TOO_LARGE_MESSAGE = `The body must be at most ${BODY_LIMIT}.`;
export const CONTACT_ID_MESSAGE = 'The contact id must be a positive integer.';
export const PAGE_MESSAGE = `contactsLimit must be 1 to ${MAX_CONTACTS_PAGE}; contactsOffset a non-negative integer.`;

/**
 * The identifiers as a request sends them. Types are checked here; what a value must look like is
 * `identity/normalise.ts`'s to say (the same rules apply to stored rows), and is documented here
 * from its constants.
 */
const EmailField = Type.Union([Type.String(), Type.Null()], {
  description: `An email: put in Unicode NFC, trimmed and lower-cased, then it must look like name@domain, be at most ${MAX_EMAIL_LENGTH} characters and hold no control characters. Blank or null means absent.`,
  examples: ['mcfly@hillvalley.edu'],
});
const PhoneField = Type.Union([Type.String(), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], {
  description: `A phone number: spaces, dashes, dots and parentheses are removed and one leading + kept; ${MIN_PHONE_DIGITS} to ${MAX_PHONE_DIGITS} digits must remain. A JSON integer is its decimal string. Blank or null means absent.`,
  examples: ['123456', '+1 (555) 010-9999'],
});

export const IdentifyBody = Type.Object(
  {
    email: Type.Optional(EmailField),
    phoneNumber: Type.Optional(PhoneField),
  },
  {
    additionalProperties: true,
    description:
      'At least one of email and phoneNumber must be present. Emails are trimmed and lower-cased; phone numbers keep digits and a leading +; a JSON number is a phone number too.',
    examples: [
      { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' },
      { phoneNumber: '123456' },
      { email: 'george@hillvalley.edu', phoneNumber: '717171' },
    ],
  },
);
export type IdentifyBody = Static<typeof IdentifyBody>;

/** The customer of the specification's first worked examples. */
const LORRAINE = {
  id: 1,
  primaryContactId: 1,
  emails: ['lorraine@hillvalley.edu', 'mcfly@hillvalley.edu'],
  phoneNumbers: ['123456'],
  secondaryContactIds: [2],
};

export const CustomerResponse = Type.Object(
  {
    customer: Type.Object({
      id: Type.Integer({ description: 'The primary contact id, which identifies the customer' }),
      primaryContactId: Type.Integer(),
      emails: Type.Array(Type.String(), { description: "The primary's first, then in row order" }),
      phoneNumbers: Type.Array(Type.String(), { description: "The primary's first, then in row order" }),
      secondaryContactIds: Type.Array(Type.Integer(), { description: 'In row order (createdAt, id)' }),
    }),
    ignored: Type.Optional(
      Type.Array(Type.Union([Type.Literal('email'), Type.Literal('phoneNumber')]), {
        description:
          'Present only when the request carried a blocked identifier: the fields that were treated as absent (matched nothing, stored nowhere); or when a separation (an unmerge) kept its phone from joining another customer: `phoneNumber`, not linked (docs/governance.md).',
      }),
    ),
  },
  {
    description: 'The whole customer the identifiers belong to',
    examples: [{ customer: LORRAINE }],
  },
);

const Timestamp = Type.String({ format: 'date-time' });

export const ContactRow = Type.Object(
  {
    id: Type.Integer(),
    email: Type.Union([Type.String(), Type.Null()]),
    phoneNumber: Type.Union([Type.String(), Type.Null()]),
    linkPrecedence: Type.Union([Type.Literal('primary'), Type.Literal('secondary')]),
    linkedId: Type.Union([Type.Integer(), Type.Null()]),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: 'A live row of the Contact table' },
);

export const ContactLink = Type.Object(
  {
    contactId: Type.Integer({ description: 'The secondary' }),
    linkedId: Type.Integer({ description: 'Its primary' }),
    reason: Type.Union([Type.Literal('shared'), Type.Literal('merged')], {
      description:
        '`shared`: it shares the identifiers in `shared` with older contacts of the customer. `merged`: it shares none with them: it was the primary of another customer, joined to this one by a request that carried identifiers of both, and the link is the only record of that.',
    }),
    shared: Type.Array(
      Type.Object({
        field: Type.Union([Type.Literal('email'), Type.Literal('phoneNumber')]),
        value: Type.String(),
        contactId: Type.Integer({ description: 'The oldest contact with this value' }),
      }),
    ),
  },
  { description: 'Why a secondary belongs to the customer' },
);

const CUSTOMER_FIELDS = CustomerResponse.properties.customer.properties;

export const CustomerDetailsResponse = Type.Object(
  {
    customer: Type.Object({
      ...CUSTOMER_FIELDS,
      contacts: Type.Array(ContactRow, {
        description:
          'The live rows of the customer on this page (all of them unless it has more than the page size), in row order (createdAt, id)',
      }),
      links: Type.Array(ContactLink, { description: 'One per secondary on this page, in row order' }),
      page: Type.Object(
        {
          offset: Type.Integer({ minimum: 0 }),
          limit: Type.Integer({ minimum: 1 }),
          total: Type.Integer({ minimum: 1, description: 'Every live contact of the customer' }),
          nextOffset: Type.Union([Type.Integer(), Type.Null()], { description: 'contactsOffset of the next page; null on the last' }),
        },
        { description: 'Which contacts this answer holds: contactsOffset and contactsLimit of the request' },
      ),
    }),
  },
  {
    description: 'The customer as /identify answers it, with its rows and why each secondary belongs',
    examples: [
      {
        customer: {
          ...LORRAINE,
          contacts: [
            {
              id: 1,
              email: 'lorraine@hillvalley.edu',
              phoneNumber: '123456',
              linkPrecedence: 'primary',
              linkedId: null,
              createdAt: '2023-04-01T00:00:00.374Z',
              updatedAt: '2023-04-01T00:00:00.374Z',
            },
            {
              id: 2,
              email: 'mcfly@hillvalley.edu',
              phoneNumber: '123456',
              linkPrecedence: 'secondary',
              linkedId: 1,
              createdAt: '2023-04-20T05:30:00.110Z',
              updatedAt: '2023-04-20T05:30:00.110Z',
            },
          ],
          links: [{ contactId: 2, linkedId: 1, reason: 'shared', shared: [{ field: 'phoneNumber', value: '123456', contactId: 1 }] }],
          page: { offset: 0, limit: 1000, total: 2, nextOffset: null },
        },
      },
    ],
  },
);

/** GET /customers/lookup: the customer, and the identifiers as the table's rules wrote them (what was looked up). */
export const CustomerLookupResponse = Type.Object(
  {
    customer: CustomerDetailsResponse.properties.customer,
    searched: Type.Object(
      {
        email: Type.Union([Type.String(), Type.Null()]),
        phoneNumber: Type.Union([Type.String(), Type.Null()]),
      },
      {
        description:
          'The normal forms that were looked up (with DEFAULT_PHONE_REGION, a valid phone in E.164; with EMAIL_CANONICAL_FORM=provider, the provider form); null: not given',
      },
    ),
  },
  {
    description: CustomerDetailsResponse.description,
    examples: [{ ...(CustomerDetailsResponse.examples as object[])[0], searched: { email: 'mcfly@hillvalley.edu', phoneNumber: null } }],
  },
);

/** Which page of a big customer's contacts to answer with. */
export const ContactsPageQuery = {
  contactsOffset: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,9}$', description: 'Contacts to skip, in row order (default 0)', examples: ['0'] }),
  ),
  contactsLimit: Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,4}$',
      description: `Contacts per answer, 1 to ${MAX_CONTACTS_PAGE} (the default)`,
      examples: ['100'],
    }),
  ),
};

export const CustomerLookupQuery = Type.Object(
  {
    email: Type.Optional(Type.String({ description: EmailField.description, examples: ['mcfly@hillvalley.edu'] })),
    phoneNumber: Type.Optional(Type.String({ description: PhoneField.description, examples: ['123456'] })),
    ...ContactsPageQuery,
  },
  { description: 'At least one identifier; normalised as in POST /identify' },
);
export type CustomerLookupQuery = Static<typeof CustomerLookupQuery>;

export const ContactPageOnlyQuery = Type.Object(ContactsPageQuery);
export type ContactPageOnlyQuery = Static<typeof ContactPageOnlyQuery>;

export const ContactIdParams = Type.Object({
  id: Type.String({
    pattern: '^[1-9][0-9]{0,9}$',
    description: `The id of any live contact of the customer: a positive integer up to ${MAX_CONTACT_ID}`,
    examples: ['2'],
  }),
});
export type ContactIdParams = Static<typeof ContactIdParams>;

/** The shape of the original Bitespeed task, key spelling included, for existing clients. */
export const BitespeedResponse = Type.Object({
  contact: Type.Object({
    primaryContatctId: Type.Integer(),
    emails: Type.Array(Type.String()),
    phoneNumbers: Type.Array(Type.String()),
    secondaryContactIds: Type.Array(Type.Integer()),
  }),
});

/** The one error shape; `code` is stable and meant for programs, `message` for people. */
export function errorResponse(description: string, example: { code: string; message: string }) {
  return Type.Object(
    { error: Type.Object({ code: Type.String(), message: Type.String() }) },
    { description, examples: [{ error: example }] },
  );
}

export const ErrorResponse = errorResponse('An error', { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred.' });

/** An error whose answer names the rows it is about, in a list a program can read. */
function errorWithIds<Code extends string, Field extends string>(
  code: Code,
  field: Field,
  idsDescription: string,
  description: string,
  example: { message: string; ids: number[] },
) {
  return Type.Object(
    {
      error: Type.Object({
        code: Type.Literal(code),
        message: Type.String(),
        [field]: Type.Array(Type.Integer(), { description: idsDescription }),
      } as { code: ReturnType<typeof Type.Literal<Code>>; message: ReturnType<typeof Type.String> } & Record<
        Field,
        ReturnType<typeof Type.Array<ReturnType<typeof Type.Integer>>>
      >),
    },
    { description, examples: [{ error: { code, message: example.message, [field]: example.ids } }] },
  );
}

/** A 400 whose codes include CONTACT_NOT_IN_CUSTOMER, which lists the contact ids that are not the customer's. */
export function errorWithContactsNotInCustomer(description: string, example: { code: string; message: string; contactIds?: number[] }) {
  return Type.Object(
    {
      error: Type.Object({
        code: Type.String(),
        message: Type.String(),
        contactIds: Type.Optional(
          Type.Array(Type.Integer(), { description: 'CONTACT_NOT_IN_CUSTOMER: the ids that are not its contacts' }),
        ),
      }),
    },
    { description, examples: [{ error: example }] },
  );
}

export const DifferentCustomersResponse = errorWithIds(
  'DIFFERENT_CUSTOMERS',
  'primaryContactIds',
  'The two customers, oldest first',
  'The email belongs to one customer and the phone number to another (a lookup never merges them)',
  { message: 'The email and the phone number belong to different customers: 11 and 27.', ids: [11, 27] },
);

export const NeedsRepairResponse = errorWithIds(
  'NEEDS_REPAIR',
  'contactIds',
  'The contacts whose links are broken, lowest first',
  "The customer's rows link to a secondary or in a cycle (left by another writer); nothing was written. An operator runs `identity-service repair`.",
  {
    message:
      'The links of contacts 2, 3 are broken (a chain or a cycle); nothing was written. An operator must run `identity-service repair`.',
    ids: [2, 3],
  },
);

export const ERROR_RESPONSES = {
  needsRepair: NeedsRepairResponse,
  badRequest: errorResponse('Bad input: INVALID_EMAIL, INVALID_PHONE_NUMBER, MISSING_IDENTIFIER, INVALID_BODY, INVALID_JSON', {
    code: 'MISSING_IDENTIFIER',
    message: 'Provide an email, a phoneNumber, or both.',
  }),
  badLookup: errorResponse('Bad identifiers: INVALID_EMAIL, INVALID_PHONE_NUMBER, MISSING_IDENTIFIER', {
    code: 'INVALID_EMAIL',
    message: 'email must look like name@domain.',
  }),
  badContactId: errorResponse('INVALID_CONTACT_ID: the id is not a positive integer', {
    code: 'INVALID_CONTACT_ID',
    message: 'The contact id must be a positive integer.',
  }),
  notFound: errorResponse('No customer has these identifiers, or no live contact has this id', {
    code: 'NOT_FOUND',
    message: 'No customer has these identifiers.',
  }),
  unauthorized: errorResponse('No API key, or not a valid one (only when API_KEYS is set)', {
    code: 'UNAUTHORIZED',
    message: 'The API key is not valid.',
  }),
  payloadTooLarge: errorResponse(`The body is over ${BODY_LIMIT}`, { code: 'PAYLOAD_TOO_LARGE', message: BODY_TOO_LARGE_MESSAGE }),
  unsupportedMediaType: errorResponse('The body is not application/json', {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'The body must be sent as application/json.',
  }),
  tooManyRequests: errorResponse('Rate limit reached; see Retry-After', {
    code: 'RATE_LIMITED',
    message: 'Too many requests: at most 600 per minute. Retry in 12 seconds.',
  }),
  unavailable: errorResponse(
    "DATABASE_UNAVAILABLE, or OVERLOADED (see Retry-After), or NORMAL_FORM_CHANGED (restart with the table's matching rules)",
    {
      code: 'DATABASE_UNAVAILABLE',
      message: 'The database is not reachable; try again shortly.',
    },
  ),
  blockedIdentifier: errorResponse('BLOCKED_IDENTIFIER: every identifier of the request is blocked; nothing was written', {
    code: 'BLOCKED_IDENTIFIER',
    message: "The request's email is blocked (a value that identifies no one), and it has no other identifier; nothing was written.",
  }),
  internal: ErrorResponse,
};
