/** Request and response schemas of unmerge and separations (admin API): they are its OpenAPI document too. */
import { Type, type Static } from '@sinclair/typebox';
import { errorResponse, errorWithContactsNotInCustomer, MAX_CONTACT_ID } from './schemas.js';

export const UNMERGE_MESSAGE =
  'Send {"mergeEventId": "<id of a customer.merged event>"} or {"contactIds": [a, b]} (two different contacts the merge joined), not both.';

export const UnmergeBody = Type.Object(
  {
    mergeEventId: Type.Optional(
      Type.Union([Type.String({ pattern: '^[1-9][0-9]{0,17}$' }), Type.Integer({ minimum: 1 })], {
        description: 'The `customer.merged` event to undo (the customer history lists them)',
      }),
    ),
    contactIds: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: MAX_CONTACT_ID }), {
        minItems: 2,
        maxItems: 2,
        description: 'A contact of each side a merge joined: the newest logged merge that alone holds them together is undone',
      }),
    ),
  },
  { examples: [{ mergeEventId: '4' }, { contactIds: [1, 2] }] },
);
export type UnmergeBody = Static<typeof UnmergeBody>;

export const SeparationSchema = Type.Object({
  id: Type.Integer(),
  contactIds: Type.Array(Type.Integer(), {
    description: 'The two contacts (lower id first): the primaries of the two sides when it was recorded',
  }),
  mergeEventId: Type.Union([Type.Integer(), Type.Null()], { description: 'The merge the unmerge undid' }),
  addedBy: Type.String({ description: '`admin:keyN` or `admin:open`' }),
  createdAt: Type.String({ format: 'date-time' }),
});

export const UnmergeResponse = Type.Object({
  mergeEventId: Type.Integer({ description: 'The merge undone' }),
  into: Type.Array(Type.Integer(), {
    description:
      "The primaries of the two sides afterwards: the merge's survivor side first (by `contactIds`: the first contact's side first)",
  }),
  separation: SeparationSchema,
  splits: Type.Array(
    Type.Object({
      ownerId: Type.Integer({ description: 'The row the customer was owned by' }),
      into: Type.Array(Type.Integer(), { description: 'The primaries of the customers it became' }),
    }),
  ),
});

export const SeparationsResponse = Type.Object({
  version: Type.Integer({ description: "The block list's version: every change to the separations bumps it too" }),
  separations: Type.Array(SeparationSchema),
});

export const SeparationRemovedResponse = Type.Object({ separation: SeparationSchema });

export const SeparationIdParams = Type.Object({ separationId: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) });
export type SeparationIdParams = Static<typeof SeparationIdParams>;

export const StillLinkedResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: '`STILL_LINKED`, or `NEEDS_REPAIR` (the customer has broken links: `contactIds` says which)' }),
      message: Type.String(),
      contactIds: Type.Array(Type.Integer(), {
        description: 'STILL_LINKED: a contact of each side; NEEDS_REPAIR: the contacts whose links are broken',
      }),
      links: Type.Optional(
        Type.Array(
          Type.Object({
            field: Type.Union([Type.Literal('email'), Type.Literal('phoneNumber'), Type.Literal('merge')]),
            contactIds: Type.Array(Type.Integer(), { description: 'The two contacts this link joins' }),
            mergeEventId: Type.Optional(Type.Integer()),
          }),
          { description: 'A shortest chain of what still joins the two sides: fields and contact ids, never values' },
        ),
      ),
    }),
  },
  {
    description:
      'STILL_LINKED: without that merge the two sides are still one customer; NEEDS_REPAIR: the customer has broken links. Nothing was written',
    examples: [
      {
        error: {
          code: 'STILL_LINKED',
          message:
            'Contacts 1 and 2 are still one customer without that merge: the email of contacts 1 and 3 holds them together; nothing was written.',
          contactIds: [1, 2],
          links: [{ field: 'email', contactIds: [1, 3] }],
        },
      },
    ],
  },
);

export const UNMERGE_ERRORS = {
  badUnmerge: errorWithContactsNotInCustomer(
    'INVALID_UNMERGE: not exactly one of mergeEventId and contactIds (two different contact ids); INVALID_CONTACT_ID; CONTACT_NOT_IN_CUSTOMER: a contact of contactIds is not a live contact of this customer',
    { code: 'INVALID_UNMERGE', message: UNMERGE_MESSAGE },
  ),
  notFound: errorResponse('No live contact has this id, or the merge is not one that joined this customer (or was undone)', {
    code: 'NOT_FOUND',
    message: 'Event 7 is not a logged merge.',
  }),
  separationNotFound: errorResponse('No separation has this id', { code: 'NOT_FOUND', message: 'No separation has id 7.' }),
  badSeparationId: errorResponse('INVALID_SEPARATION_ID', {
    code: 'INVALID_SEPARATION_ID',
    message: 'The separation id must be a positive integer.',
  }),
};
