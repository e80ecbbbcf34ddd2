/**
 * The read API's answer as the page sees it: derived from the server's own TypeBox schemas, so a
 * change of the contract fails the page's type check instead of its users.
 */
import type { Static } from '@sinclair/typebox';
import type { ExplainResponse, HistoryResponse } from '../../src/http/historySchemas.js';
import type { CustomerDetailsResponse, CustomerLookupResponse, DifferentCustomersResponse } from '../../src/http/schemas.js';

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
