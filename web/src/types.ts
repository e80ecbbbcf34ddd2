/**
 * The API's answers as the page sees them: derived from the server's own TypeBox schemas, so a
 * change of the contract fails the page's type check instead of its users.
 */
import type { Static } from '@sinclair/typebox';
import type { EraseResponse } from '../../src/http/erasureSchemas.js';
import type { ExplainResponse, HistoryResponse } from '../../src/http/historySchemas.js';
import type { CustomerDetailsResponse, CustomerLookupResponse, DifferentCustomersResponse } from '../../src/http/schemas.js';
import type { StillLinkedResponse, UnmergeResponse } from '../../src/http/unmergeSchemas.js';

export type CustomerDetails = Static<typeof CustomerDetailsResponse>['customer'];
export type Contact = CustomerDetails['contacts'][number];
export type ContactLink = CustomerDetails['links'][number];
/** A lookup by identifiers: the normal forms it looked for (null: not given). */
export type Searched = Static<typeof CustomerLookupResponse>['searched'];
export type DifferentCustomersError = Static<typeof DifferentCustomersResponse>['error'];
export type CustomerHistory = Static<typeof HistoryResponse>['history'];
export type ContactEvent = CustomerHistory['events'][number];
export type Explanation = Static<typeof ExplainResponse>['explanation'];
export type PathStep = Explanation['steps'][number];

/** What an erasure did (DELETE /contacts/{id}, admin key). */
export type Erasure = Static<typeof EraseResponse>;

/** What an unmerge did (POST /admin/customers/{id}/unmerge, admin key). */
export type Unmerged = Static<typeof UnmergeResponse>;
/** One link of what still joins the two sides of a refused unmerge (409 STILL_LINKED): fields and contact ids. */
export type StillLink = NonNullable<Static<typeof StillLinkedResponse>['error']['links']>[number];
