/**
 * A change event as receivers get it — the body of a webhook and an entry of `GET /events`
 * — and the one pure mapping from a row of the event log to it.
 *
 * The payload is built from the log (and, for `customer.updated`, the contact row) when it is
 * sent, never stored: what the log no longer holds, such as an erased contact's values, is never
 * sent. Its shape is the OpenAPI document's `ChangeEvent` (src/http/eventSchemas.ts); a test
 * checks every payload of this mapping against that schema.
 */
import type { ContactEvent } from '../identity/historyService.js';
import type { IdentifierField } from '../identity/contact.js';

/** A row of the event log, with what a payload needs besides: the contact a `customer.updated` created, as it is now. */
export interface LoggedEvent extends Pick<ContactEvent, 'at' | 'type' | 'customerIds' | 'contactIds' | 'detail'> {
  /** The bigint id, as a decimal string. */
  id: string;
  /** `customer.updated` only: the new contact's row now (null when it is gone or no longer live). */
  contact: { email: string | null; phoneNumber: string | null } | null;
}

export interface CreatedData {
  customerId: number;
  contactId: number;
}
export interface UpdatedData {
  customerId: number;
  contactId: number;
  /** The fields the new contact brought that the customer did not have. */
  new: IdentifierField[];
  /** The new values, read from the contact row when sent: absent once it no longer holds them (erased, or no longer live). */
  email?: string;
  phoneNumber?: string;
}
export interface MergedData {
  survivorId: number;
  absorbedIds: number[];
  /** What joined them when it was not a request: `identifier.unblocked`. */
  cause?: string;
}
export interface RelinkedData {
  customerId: number;
  /** The row(s) the customer belonged under before: a soft-deleted primary. */
  previousOwnerIds: number[];
  promoted: boolean;
}
export interface SplitData {
  /** The row the customer was owned by (its primary, or a deleted row). */
  ownerId: number;
  /** The primaries of the customers it became. */
  into: number[];
  /** The event type of the change that split it. */
  cause: string;
}
export interface ErasedData {
  contactIds: number[];
}
export interface RuleData {
  ruleId: number;
  field: IdentifierField;
  match: 'exact' | 'domain' | 'pattern';
  reason: string;
}

interface Envelope<Type extends string, Data> {
  /** The event id (a bigint) as a decimal string: the `webhook-id` of its deliveries. */
  id: string;
  type: Type;
  /** ISO 8601. */
  at: string;
  customerIds: number[];
  contactIds: number[];
  data: Data;
}

export type EventPayload =
  | Envelope<'customer.created', CreatedData>
  | Envelope<'customer.updated', UpdatedData>
  | Envelope<'customer.merged', MergedData>
  | Envelope<'customer.relinked', RelinkedData>
  | Envelope<'customer.split', SplitData>
  | Envelope<'contact.erased' | 'contact.redundant', ErasedData>
  | Envelope<'identifier.blocked' | 'identifier.unblocked' | 'identifier.quarantined', RuleData>
  /** A type this version does not know (written by a newer one): the envelope, and no data. */
  | Envelope<string, Record<string, never>>;

export const RULE_EVENT_TYPES = ['identifier.blocked', 'identifier.unblocked', 'identifier.quarantined'] as const;

const ints = (value: unknown): number[] => (Array.isArray(value) ? value.filter((x): x is number => Number.isInteger(x)) : []);
const int = (value: unknown): number => (Number.isInteger(value) ? (value as number) : 0);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

export function toPayload(event: LoggedEvent): EventPayload {
  const { customerIds, contactIds, detail } = event;
  const envelope = { id: event.id, at: event.at.toISOString(), customerIds, contactIds };
  const customerId = customerIds[0] ?? 0;
  switch (event.type) {
    case 'customer.created':
      return { ...envelope, type: event.type, data: { customerId, contactId: contactIds[0] ?? 0 } };
    case 'customer.updated': {
      const fields = (Array.isArray(detail.new) ? detail.new : []).filter(
        (field): field is IdentifierField => field === 'email' || field === 'phoneNumber',
      );
      const data: UpdatedData = { customerId, contactId: contactIds[0] ?? 0, new: fields };
      for (const field of fields) {
        const value = event.contact?.[field];
        if (typeof value === 'string') data[field] = value;
      }
      return { ...envelope, type: event.type, data };
    }
    case 'customer.merged': {
      const data: MergedData = { survivorId: int(detail.survivor), absorbedIds: ints(detail.absorbed) };
      if (typeof detail.cause === 'string') data.cause = detail.cause;
      return { ...envelope, type: event.type, data };
    }
    case 'customer.relinked':
      return {
        ...envelope,
        type: event.type,
        data: { customerId, previousOwnerIds: customerIds.slice(1), promoted: detail.promoted === true },
      };
    case 'customer.split': {
      // customerIds: the pieces' primaries, then the owner if it is not one of them; a live owner
      // stays the primary of the first piece (it is the oldest row of all).
      const into = ints(detail.into);
      const ownerId = customerIds.find((id) => !into.includes(id)) ?? into[0] ?? 0;
      return { ...envelope, type: event.type, data: { ownerId, into, cause: text(detail.cause) } };
    }
    case 'contact.erased':
    case 'contact.redundant':
      return { ...envelope, type: event.type, data: { contactIds } };
    case 'identifier.blocked':
    case 'identifier.unblocked':
    case 'identifier.quarantined':
      return {
        ...envelope,
        type: event.type,
        data: {
          ruleId: int(detail.ruleId),
          field: detail.field === 'email' ? 'email' : 'phoneNumber',
          match: detail.match === 'domain' || detail.match === 'pattern' ? detail.match : 'exact',
          reason: text(detail.reason),
        },
      };
    default:
      return { ...envelope, type: event.type, data: {} };
  }
}
