/** Request and response schemas of the admin API (/admin/...): they are its OpenAPI document too. */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_PATTERN_LENGTH, MAX_REASON_LENGTH } from '../identity/blocklist.js';
import { errorResponse } from './schemas.js';

const Field = Type.Union([Type.Literal('email'), Type.Literal('phoneNumber')], { description: 'The request field the rule blocks' });
const Match = Type.Union([Type.Literal('exact'), Type.Literal('domain'), Type.Literal('pattern')], {
  description:
    '`exact`: one value (normalised as requests are); `domain`: every email at a domain; `pattern`: a regular expression (docs/governance.md says which syntax)',
});

export const RULE_MESSAGE = `A rule needs field (email or phoneNumber), match (exact, domain or pattern), value (1 to 255 characters; a pattern at most ${MAX_PATTERN_LENGTH}) and reason (1 to ${MAX_REASON_LENGTH} characters).`;

export const BlockRuleBody = Type.Object(
  {
    field: Field,
    match: Type.Optional(Match),
    value: Type.String({ minLength: 1, maxLength: 255 }),
    reason: Type.String({ minLength: 1, maxLength: MAX_REASON_LENGTH }),
  },
  {
    additionalProperties: false,
    examples: [{ field: 'email', match: 'exact', value: 'test@test.com', reason: 'QA placeholder' }],
  },
);
export type BlockRuleBody = Static<typeof BlockRuleBody>;

export const BlockRuleSchema = Type.Object({
  id: Type.Integer(),
  field: Field,
  match: Match,
  value: Type.String(),
  reason: Type.String({ description: '`over-merge` for an identifier quarantined by the customer-size cap' }),
  addedBy: Type.String({ description: '`admin:keyN`, `admin:open`, `cli:<user>`, `preset:<name>` or `size-cap`' }),
  createdAt: Type.String({ format: 'date-time' }),
});

const Split = Type.Object({
  ownerId: Type.Integer({ description: 'The row the customer was owned by (its primary, or a deleted row)' }),
  into: Type.Array(Type.Integer(), { description: 'The primaries of the customers it became' }),
});
const Merge = Type.Object({
  survivorId: Type.Integer(),
  absorbedOwnerIds: Type.Array(Type.Integer()),
});

export const BlockedListResponse = Type.Object({
  version: Type.Integer({ description: 'Bumped by every change to the list' }),
  rules: Type.Array(BlockRuleSchema),
});

export const BlockResponse = Type.Object({
  rule: BlockRuleSchema,
  created: Type.Boolean({ description: 'False when the same rule existed: nothing changed' }),
  splits: Type.Array(Split, { description: 'Customers the value held together, and what they became' }),
});

export const PresetResponse = Type.Object({
  preset: Type.String(),
  added: Type.Integer({ description: 'Rules that were not there yet' }),
  rules: Type.Array(BlockResponse),
});

export const UnblockResponse = Type.Object({
  rule: BlockRuleSchema,
  merges: Type.Array(Merge, { description: 'Customers that share the value again, joined under their oldest row' }),
});

export const RuleIdParams = Type.Object({ ruleId: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) });
export type RuleIdParams = Static<typeof RuleIdParams>;

export const PresetParams = Type.Object({ name: Type.Literal('recommended') });

export const MAX_SUSPECTS = 1000;
export const SuspectsQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: `Values per field, 1 to ${MAX_SUSPECTS} (default 20)` })),
});
export type SuspectsQuery = Static<typeof SuspectsQuery>;

export const SuspectsResponse = Type.Object({
  suspects: Type.Array(
    Type.Object({
      field: Field,
      value: Type.String(),
      contacts: Type.Integer({ description: 'Live rows holding the value' }),
      customers: Type.Integer({ description: 'Customers holding it (more than one only once it is blocked)' }),
      largestCustomer: Type.Integer({ description: 'Live rows of the largest customer holding it' }),
      blocked: Type.Boolean(),
    }),
  ),
});

export const ADMIN_DISABLED_MESSAGE = 'The admin API is disabled: set ADMIN_API_KEYS (or ADMIN_API_OPEN=true on a private network).';

export const ADMIN_ERRORS = {
  badRule: errorResponse('INVALID_RULE: the rule cannot be held (the message says why, without the value)', {
    code: 'INVALID_RULE',
    message: RULE_MESSAGE,
  }),
  forbidden: errorResponse('ADMIN_DISABLED: no ADMIN_API_KEYS are set and ADMIN_API_OPEN is not true', {
    code: 'ADMIN_DISABLED',
    message: ADMIN_DISABLED_MESSAGE,
  }),
  ruleNotFound: errorResponse('No rule has this id', { code: 'NOT_FOUND', message: 'No block rule has id 7.' }),
  badLimit: errorResponse('INVALID_LIMIT', { code: 'INVALID_LIMIT', message: `limit must be 1 to ${MAX_SUSPECTS}.` }),
};
