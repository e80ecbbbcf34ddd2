/** Schemas of erasure and export (admin keys): what is erased, and everything held about a customer. */
import { Type } from '@sinclair/typebox';
import { HistoryResponse } from './historySchemas.js';
import { ContactLink, ContactRow, CustomerResponse, errorResponse } from './schemas.js';

export const EraseResponse = Type.Object(
  {
    erasedContactIds: Type.Array(Type.Integer(), {
      description: 'The rows erased: their email and phone are NULL and deletedAt is set; ids and links stay',
    }),
    customers: Type.Array(Type.Array(Type.Integer()), {
      description: "The customers the affected customers' remaining live rows make now: each one's contact ids, its primary first",
    }),
    splits: Type.Array(Type.Object({ ownerId: Type.Integer(), into: Type.Array(Type.Integer()) }), {
      description:
        'Customers that fell apart because an erased row or value held them together: the row that owned them, the new primaries',
    }),
    blockRulesRemoved: Type.Integer({ minimum: 0, description: 'Exact block rules that held an erased value: removed with it' }),
  },
  {
    description: 'What the erasure did: the erased values appear nowhere in the database afterwards (docs/erasure.md)',
    examples: [{ erasedContactIds: [2], customers: [[1], [3]], splits: [{ ownerId: 1, into: [1, 3] }], blockRulesRemoved: 0 }],
  },
);

const { page: _page, events, ...historyFields } = HistoryResponse.properties.history.properties;

export const ExportResponse = Type.Object(
  {
    customer: Type.Object({
      ...CustomerResponse.properties.customer.properties,
      contacts: Type.Array(ContactRow, { description: 'Every live row of the customer, in row order' }),
      links: Type.Array(ContactLink, { description: 'Why each secondary belongs' }),
    }),
    history: Type.Object({ ...historyFields, events: Type.Array(events.items, { description: 'The whole history, oldest first' }) }),
  },
  { description: 'Everything the service holds about a customer, for an access request: its rows and its whole history' },
);

export const NOTHING_TO_ERASE = errorResponse('NOT_FOUND: no live contact matches', {
  code: 'NOT_FOUND',
  message: 'No live contact has id 7.',
});
