/**
 * The admin API over fetch, with the admin key (never the API key): erase a contact, undo a merge.
 * Every answer becomes the result or a failure in the API's own words.
 */
import type { AdminFailure } from './adminText.js';
import type { Erasure, StillLink, Unmerged } from './types.js';

export type AdminResult<T> = { ok: true; value: T } | { ok: false; failure: AdminFailure };

interface ErrorBody {
  error?: { code?: string; message?: string; links?: unknown };
}

/** `DELETE contacts/{id}`: erases the contact; its email and phone number are forgotten everywhere. */
export function eraseContact(contactId: number, adminKey: string): Promise<AdminResult<Erasure>> {
  return send('DELETE', `contacts/${contactId}`, adminKey, undefined, (body): body is Erasure => {
    const answer = body as Partial<Erasure> | null;
    return Array.isArray(answer?.erasedContactIds) && Array.isArray(answer?.customers) && Array.isArray(answer?.splits);
  });
}

/** `POST admin/customers/{id}/unmerge` with the merge's event id: its two sides become two customers. */
export function unmergeMerge(customerId: number, mergeEventId: number, adminKey: string): Promise<AdminResult<Unmerged>> {
  return send(
    'POST',
    `admin/customers/${customerId}/unmerge`,
    adminKey,
    { mergeEventId: String(mergeEventId) },
    (body): body is Unmerged => {
      const answer = body as Partial<Unmerged> | null;
      return typeof answer?.mergeEventId === 'number' && Array.isArray(answer.into) && typeof answer.separation?.id === 'number';
    },
  );
}

/** Relative URLs, as the read API's: the page also works under a proxy's path prefix. */
async function send<T>(
  method: 'DELETE' | 'POST',
  url: string,
  adminKey: string,
  body: unknown,
  understood: (value: unknown) => value is T,
): Promise<AdminResult<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${adminKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    return failed(null, null, 'The service could not be reached. Check the connection and try again.');
  }
  const answer = await readJson(response);
  if (response.ok) {
    return understood(answer)
      ? { ok: true, value: answer }
      : failed(response.status, null, 'The service sent an answer this page does not understand.');
  }
  const error = (answer as ErrorBody | null)?.error ?? {};
  const message = error.message ?? `The service answered with status ${response.status}.`;
  const links = asStillLinks(error.links);
  return { ok: false, failure: { status: response.status, code: error.code ?? null, message, ...(links ? { links } : {}) } };
}

function failed(status: number | null, code: string | null, message: string): { ok: false; failure: AdminFailure } {
  return { ok: false, failure: { status, code, message } };
}

/** STILL_LINKED's `links` when it has the expected shape; anything else is left out. */
function asStillLinks(value: unknown): StillLink[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const links = value.filter(
    (link): link is StillLink =>
      typeof link === 'object' &&
      link !== null &&
      ['email', 'phoneNumber', 'merge'].includes((link as StillLink).field) &&
      Array.isArray((link as StillLink).contactIds),
  );
  return links.length === value.length ? links : undefined;
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}
