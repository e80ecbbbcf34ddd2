/** TypeBox schemas: one source for request validation, TypeScript types and (later) OpenAPI. */
import { Type, type Static } from '@sinclair/typebox';

export const IdentifyBody = Type.Object(
  {
    email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    phoneNumber: Type.Optional(Type.Union([Type.String(), Type.Integer(), Type.Null()])),
  },
  { additionalProperties: true, description: 'At least one of email and phoneNumber must be present.' },
);
export type IdentifyBody = Static<typeof IdentifyBody>;

export const CustomerResponse = Type.Object({
  customer: Type.Object({
    id: Type.Integer(),
    primaryContactId: Type.Integer(),
    emails: Type.Array(Type.String()),
    phoneNumbers: Type.Array(Type.String()),
    secondaryContactIds: Type.Array(Type.Integer()),
  }),
});

/** The shape of the original Bitespeed task, key spelling included, for existing clients. */
export const BitespeedResponse = Type.Object({
  contact: Type.Object({
    primaryContatctId: Type.Integer(),
    emails: Type.Array(Type.String()),
    phoneNumbers: Type.Array(Type.String()),
    secondaryContactIds: Type.Array(Type.Integer()),
  }),
});

export const ErrorResponse = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});
