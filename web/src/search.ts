/**
 * The search box's language, and its place in the URL hash. Pure (no DOM), so it is unit-tested.
 *
 * One box takes an email, a phone number or a contact id; digits alone could be a phone or an id,
 * so a kind control says which. `name@example.com, 123456` asks for both identifiers at once (the
 * answer may then be "two customers"). In the hash: `#id=23`, `#email=…`, `#phone=…`, or both.
 */
import type { Searched } from './types.js';

export type SearchKind = 'email' | 'phone' | 'id';

export type SearchQuery = { by: 'id'; id: string } | { by: 'identifiers'; email?: string; phoneNumber?: string };

export type ParsedSearch = { ok: true; query: SearchQuery } | { ok: false; message: string };

const EMPTY_MESSAGE = 'Type an email, a phone number or a contact id.';
const PAIR_MESSAGE = 'To look up an email and a phone number together, separate them with one comma: name@example.com, 123456.';

/** Digits with the punctuation people put in phone numbers (the API does the real validation). */
function looksLikePhone(text: string): boolean {
  return /^\+?[\d\s().-]+$/.test(text);
}

/**
 * The kind the control should show once the box holds `text`: `@` means an email and a leading
 * `#` a contact id; digits typed after an email switch it to phone. Otherwise the person's own
 * choice stands, so digits stay a contact id when they picked one.
 */
export function inferKind(text: string, current: SearchKind): SearchKind {
  const trimmed = text.trim();
  if (trimmed.includes('@')) return 'email';
  if (trimmed.startsWith('#')) return 'id';
  if (current === 'email' && looksLikePhone(trimmed)) return 'phone';
  return current;
}

export function parseSearch(text: string, kind: SearchKind): ParsedSearch {
  const trimmed = text.trim();
  if (kind === 'id') {
    const id = trimmed.replace(/^#/, '').trim();
    return id === '' ? { ok: false, message: EMPTY_MESSAGE } : { ok: true, query: { by: 'id', id } };
  }
  const parts = trimmed
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const [only] = parts;
  if (only === undefined) return { ok: false, message: EMPTY_MESSAGE };
  if (parts.length === 1) {
    return { ok: true, query: kind === 'email' ? { by: 'identifiers', email: only } : { by: 'identifiers', phoneNumber: only } };
  }
  const emails = parts.filter((part) => part.includes('@'));
  const phones = parts.filter((part) => !part.includes('@'));
  const [email] = emails;
  const [phoneNumber] = phones;
  if (parts.length !== 2 || email === undefined || phoneNumber === undefined) return { ok: false, message: PAIR_MESSAGE };
  return { ok: true, query: { by: 'identifiers', email, phoneNumber } };
}

/** The hash that links to `query`, without the `#`. */
export function toHash(query: SearchQuery): string {
  const params = new URLSearchParams();
  if (query.by === 'id') params.set('id', query.id);
  else {
    if (query.email !== undefined) params.set('email', query.email);
    if (query.phoneNumber !== undefined) params.set('phone', query.phoneNumber);
  }
  return params.toString();
}

/** The query a hash links to, or null when it links to none. */
export function fromHash(hash: string): SearchQuery | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const id = params.get('id');
  if (id !== null && id !== '') return { by: 'id', id };
  const email = params.get('email') || undefined;
  const phoneNumber = params.get('phone') || undefined;
  if (email === undefined && phoneNumber === undefined) return null;
  return { by: 'identifiers', ...(email !== undefined ? { email } : {}), ...(phoneNumber !== undefined ? { phoneNumber } : {}) };
}

/** What the box and the kind control show for `query`: the inverse of `parseSearch`. */
export function toSearchText(query: SearchQuery): { text: string; kind: SearchKind } {
  if (query.by === 'id') return { text: query.id, kind: 'id' };
  const text = [query.email, query.phoneNumber].filter((part) => part !== undefined).join(', ');
  return { text, kind: query.email !== undefined ? 'email' : 'phone' };
}

/** The query in words, for status messages: "contact 23", "mcfly@hillvalley.edu and 123456". */
export function describeQuery(query: SearchQuery): string {
  if (query.by === 'id') return `contact ${query.id}`;
  return [query.email, query.phoneNumber].filter((part) => part !== undefined).join(' and ');
}

/**
 * What a lookup by identifiers looked for, in the service's normal forms: "Searched for phone
 * +919876543210", "Searched for email firstlast@gmail.com and phone +919876543210". Null when it
 * names neither (a lookup by contact id, or a service too old to say).
 */
export function describeSearched(searched: Searched | undefined): string | null {
  if (searched === undefined) return null;
  const parts = [
    ...(searched.email !== null ? [`email ${searched.email}`] : []),
    ...(searched.phoneNumber !== null ? [`phone ${searched.phoneNumber}`] : []),
  ];
  return parts.length > 0 ? `Searched for ${parts.join(' and ')}` : null;
}
