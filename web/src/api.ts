/**
 * The read API over fetch: one call per search, every answer mapped to an outcome the page has a
 * state for. Errors keep the API's own message, which already says what to fix.
 */
import type { SearchQuery } from './search.js';
import type { CustomerDetails, CustomerHistory, Explanation, Searched } from './types.js';

export type LookupOutcome =
  /** `searched`: only lookups by identifiers answer it, and older services not at all. */
  | { kind: 'found'; customer: CustomerDetails; searched?: Searched }
  | { kind: 'notFound'; message: string }
  | { kind: 'badInput'; message: string }
  | { kind: 'differentCustomers'; message: string; primaryContactIds: number[] }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'rateLimited'; message: string }
  /** A 5xx, an answer the page does not understand, or no answer at all. */
  | { kind: 'failed'; message: string };

interface ErrorBody {
  error?: { code?: string; message?: string; primaryContactIds?: number[] };
}

/** Relative, so the page also works when a proxy serves the service under a path prefix. */
export function customerUrl(query: SearchQuery): string {
  if (query.by === 'id') return `customers/${encodeURIComponent(query.id)}`;
  const params = new URLSearchParams();
  if (query.email !== undefined) params.set('email', query.email);
  if (query.phoneNumber !== undefined) params.set('phoneNumber', query.phoneNumber);
  return `customers/lookup?${params.toString()}`;
}

/** Rejects only when `signal` aborts (a newer search replaced this one). */
export async function lookUpCustomer(
  query: SearchQuery,
  { apiKey, signal }: { apiKey: string | null; signal: AbortSignal },
): Promise<LookupOutcome> {
  let response: Response;
  try {
    response = await fetch(customerUrl(query), {
      headers: { accept: 'application/json', ...(apiKey !== null ? { authorization: `Bearer ${apiKey}` } : {}) },
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    return { kind: 'failed', message: 'The service could not be reached. Check the connection and try again.' };
  }
  const body = await readJson(response);
  if (response.ok) {
    const answer = body as { customer?: CustomerDetails; searched?: unknown } | null;
    if (!answer?.customer) return { kind: 'failed', message: 'The service sent an answer this page does not understand.' };
    const searched = asSearched(answer.searched);
    return searched ? { kind: 'found', customer: answer.customer, searched } : { kind: 'found', customer: answer.customer };
  }
  return outcomeOfError(response.status, (body as ErrorBody | null)?.error ?? {});
}

function outcomeOfError(status: number, error: NonNullable<ErrorBody['error']>): LookupOutcome {
  const message = error.message ?? `The service answered with status ${status}.`;
  switch (status) {
    case 400:
      return { kind: 'badInput', message };
    case 401:
      return { kind: 'unauthorized', message };
    case 404:
      return { kind: 'notFound', message };
    case 409:
      return { kind: 'differentCustomers', message, primaryContactIds: error.primaryContactIds ?? [] };
    case 429:
      return { kind: 'rateLimited', message };
    default:
      return { kind: 'failed', message: `${message} (status ${status}${error.code ? `, ${error.code}` : ''})` };
  }
}

/** `searched` when it has the expected shape; anything else is ignored, as if absent. */
function asSearched(value: unknown): Searched | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { email, phoneNumber } = value as Record<string, unknown>;
  const nullableString = (field: unknown): field is string | null => field === null || typeof field === 'string';
  return nullableString(email) && nullableString(phoneNumber) ? { email, phoneNumber } : undefined;
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** A history page or an explanation, or why not, in the API's words. */
export type Fetched<T> = { ok: true; value: T } | { ok: false; message: string };

/** `customers/{id}/history`: the page of events after `after`. */
export function fetchHistory(
  primaryContactId: number,
  after: number,
  options: { apiKey: string | null; signal: AbortSignal },
): Promise<Fetched<CustomerHistory>> {
  const query = after > 0 ? `?after=${after}` : '';
  return fetchPart(`customers/${primaryContactId}/history${query}`, 'history', options);
}

/** `customers/{id}/explain`: why `to` is one customer with `from`. */
export function fetchExplanation(
  customerId: number,
  from: number,
  to: number,
  options: { apiKey: string | null; signal: AbortSignal },
): Promise<Fetched<Explanation>> {
  return fetchPart(`customers/${customerId}/explain?from=${from}&to=${to}`, 'explanation', options);
}

/** Rejects only when `signal` aborts. */
async function fetchPart<T>(
  url: string,
  key: string,
  { apiKey, signal }: { apiKey: string | null; signal: AbortSignal },
): Promise<Fetched<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json', ...(apiKey !== null ? { authorization: `Bearer ${apiKey}` } : {}) },
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    return { ok: false, message: 'The service could not be reached. Check the connection and try again.' };
  }
  const body = (await readJson(response)) as (Record<string, unknown> & ErrorBody) | null;
  if (response.ok && body?.[key] !== undefined) return { ok: true, value: body[key] as T };
  if (response.ok) return { ok: false, message: 'The service sent an answer this page does not understand.' };
  const message = body?.error?.message ?? `The service answered with status ${response.status}.`;
  return { ok: false, message: response.status >= 500 ? `${message} (status ${response.status})` : message };
}
