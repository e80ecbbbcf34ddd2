/**
 * TypeBox schemas: one source for request validation, TypeScript types and the OpenAPI document.
 * Examples come from the worked examples of the specification.
 */
import { Type, type Static } from '@sinclair/typebox';

export const IdentifyBody = Type.Object(
  {
    email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    phoneNumber: Type.Optional(Type.Union([Type.String(), Type.Integer(), Type.Null()])),
  },
  {
    additionalProperties: true,
    description: 'At least one of email and phoneNumber must be present. Emails are trimmed and lower-cased; phone numbers keep digits and a leading +; a JSON number is a phone number too.',
    examples: [
      { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' },
      { phoneNumber: '123456' },
      { email: 'george@hillvalley.edu', phoneNumber: '717171' },
    ],
  },
);
export type IdentifyBody = Static<typeof IdentifyBody>;

export const CustomerResponse = Type.Object(
  {
    customer: Type.Object({
      id: Type.Integer({ description: 'The primary contact id, which identifies the customer' }),
      primaryContactId: Type.Integer(),
      emails: Type.Array(Type.String(), { description: "The primary's first, then in row order" }),
      phoneNumbers: Type.Array(Type.String(), { description: "The primary's first, then in row order" }),
      secondaryContactIds: Type.Array(Type.Integer(), { description: 'In row order (createdAt, id)' }),
    }),
  },
  {
    description: 'The whole customer the identifiers belong to',
    examples: [
      {
        customer: {
          id: 1,
          primaryContactId: 1,
          emails: ['lorraine@hillvalley.edu', 'mcfly@hillvalley.edu'],
          phoneNumbers: ['123456'],
          secondaryContactIds: [2],
        },
      },
    ],
  },
);

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

export const ERROR_RESPONSES = {
  badRequest: errorResponse('Bad input: INVALID_EMAIL, INVALID_PHONE_NUMBER, MISSING_IDENTIFIER, INVALID_BODY, INVALID_JSON', {
    code: 'MISSING_IDENTIFIER',
    message: 'Provide an email, a phoneNumber, or both.',
  }),
  unauthorized: errorResponse('No API key, or not a valid one (only when API_KEYS is set)', { code: 'UNAUTHORIZED', message: 'The API key is not valid.' }),
  payloadTooLarge: errorResponse('The body is over 16 KB', { code: 'PAYLOAD_TOO_LARGE', message: 'The body must be at most 16 KB.' }),
  unsupportedMediaType: errorResponse('The body is not application/json', { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The body must be sent as application/json.' }),
  tooManyRequests: errorResponse('Rate limit reached; see Retry-After', { code: 'RATE_LIMITED', message: 'Too many requests: at most 600 per minute. Retry in 12 seconds.' }),
  unavailable: errorResponse('DATABASE_UNAVAILABLE, or OVERLOADED (see Retry-After)', { code: 'DATABASE_UNAVAILABLE', message: 'The database is not reachable; try again shortly.' }),
  internal: ErrorResponse,
};
