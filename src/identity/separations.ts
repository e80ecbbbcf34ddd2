/**
 * Separations: two contacts whose customers an operator took apart (an unmerge) and that no
 * /identify request may join again. Each process holds them in memory with the block list (same
 * version: `Blocklist.separations`), so a request is screened against them without a query.
 *
 * A separation binds the customers its two contacts belong to *at the time of the request*,
 * whatever they grew into since: a request whose email belongs to the customer of one contact and
 * whose phone to the customer of the other is answered with the customer of its email and does
 * not link its phone (`separate`). A request with only one of them (or whose other identifier is
 * blocked, or new) is answered by the usual rules: there is nothing to separate.
 */
import type { Identifiers, LinkedContact } from './contact.js';
import { groupByCustomer } from './customerGroups.js';
import type { IdentifierField } from './normalise.js';

export interface Separation {
  id: number;
  /** The two contacts, lower id first: the primaries of the two pieces when it was recorded. */
  contactIds: [number, number];
  /** The logged merge the unmerge undid; null for none. */
  mergeEventId: number | null;
  addedBy: string;
  createdAt: Date;
}

/** A separation as the admin API and the command line show it: `createdAt` in ISO 8601. */
export function separationView(separation: Separation) {
  return { ...separation, contactIds: [...separation.contactIds], createdAt: separation.createdAt.toISOString() };
}

/** The separations in force, indexed by contact. */
export class Separations {
  private readonly byContact = new Map<number, Separation[]>();

  constructor(readonly list: readonly Separation[]) {
    for (const separation of list) {
      for (const id of separation.contactIds) this.byContact.set(id, [...(this.byContact.get(id) ?? []), separation]);
    }
  }

  static readonly none = new Separations([]);

  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  /** The first separation (by id) with one contact among `a` and the other among `b`; null when none. */
  between(a: ReadonlySet<number>, b: ReadonlySet<number>): Separation | null {
    let found: Separation | null = null;
    for (const id of a) {
      for (const separation of this.byContact.get(id) ?? []) {
        const other = separation.contactIds[0] === id ? separation.contactIds[1] : separation.contactIds[0];
        if (b.has(other) && (found === null || separation.id < found.id)) found = separation;
      }
    }
    return found;
  }
}

/** A request narrowed by a separation: what to decide on, and what was left out. */
export interface SeparatedRequest {
  /** The request without the identifier of the other side. */
  request: Identifiers;
  /** The rows of the customer the request is answered with, in row order (what `request` finds). */
  rows: LinkedContact[];
  /** The field not linked. */
  ignored: IdentifierField;
  separation: Separation;
  /** The row the customer not linked belongs under (its primary, or a deleted owner). */
  otherOwnerId: number;
  /** The row the customer answered belongs under. */
  answeredOwnerId: number;
}

/**
 * `rows`: every live row of every customer owning the request's email or phone, in row order (what
 * /identify reads). When the email's customer and the phone's are different customers that a
 * separation keeps apart, the request is answered with the email's customer and its phone is not
 * linked; otherwise null (decide as usual). Rows whose links are broken are left to the decision,
 * which refuses them.
 */
export function separate(request: Identifiers, rows: readonly LinkedContact[], separations: Separations): SeparatedRequest | null {
  if (separations.isEmpty || request.email === null || request.phoneNumber === null) return null;
  const grouping = groupByCustomer(rows);
  if (!grouping.ok) return null;
  const emailGroup = grouping.groups.find((group) => group.rows.some((row) => row.email === request.email));
  const phoneGroup = grouping.groups.find((group) => group.rows.some((row) => row.phoneNumber === request.phoneNumber));
  if (emailGroup === undefined || phoneGroup === undefined || emailGroup === phoneGroup) return null;
  const separation = separations.between(new Set(emailGroup.rows.map((row) => row.id)), new Set(phoneGroup.rows.map((row) => row.id)));
  if (separation === null) return null;
  const kept = new Set(emailGroup.rows.map((row) => row.id));
  return {
    request: { email: request.email, phoneNumber: null },
    rows: rows.filter((row) => kept.has(row.id)),
    ignored: 'phoneNumber',
    separation,
    otherOwnerId: phoneGroup.ownerId,
    answeredOwnerId: emailGroup.ownerId,
  };
}
