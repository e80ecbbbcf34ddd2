/**
 * A deliberately different formulation of the rules with governance, to check the service
 * against: no links are kept at all. Customers are recomputed from scratch whenever asked, as the
 * connected components of the rows, two rows being connected when they share a value that is not
 * blocked, or when a past request that joined customers (a merge) carried one value of each and
 * neither value is blocked now. A customer's primary is its lowest id (requests run one at a time).
 * Blocking, unblocking and the size cap need nothing more: the components simply change.
 */
import type { Customer, Identifiers } from '../../src/identity/contact.js';
import type { IdentifierField } from '../../src/identity/normalise.js';
import { modelComponents, modelCustomerOf, modelPrimaries } from './referenceModel.js';

interface ModelRow {
  id: number;
  email: string | null;
  phoneNumber: string | null;
}

export type ModelAnswer =
  { kind: 'customer'; customer: Customer; ignored: readonly IdentifierField[] } | { kind: 'blocked'; fields: IdentifierField[] };

const FIELDS: readonly IdentifierField[] = ['email', 'phoneNumber'];

export class GovernedModel {
  private readonly rows: ModelRow[] = [];
  private readonly merges: Identifiers[] = [];
  private readonly blocked = { email: new Set<string>(), phoneNumber: new Set<string>() };

  /** `maxCustomerContacts` 0: no cap. */
  constructor(private readonly maxCustomerContacts = 0) {}

  block(field: IdentifierField, value: string): void {
    this.blocked[field].add(value);
  }

  unblock(field: IdentifierField, value: string): void {
    this.blocked[field].delete(value);
  }

  isBlocked(field: IdentifierField, value: string | null): boolean {
    return value !== null && this.blocked[field].has(value);
  }

  identify(raw: Identifiers): ModelAnswer {
    for (;;) {
      const ignored = FIELDS.filter((field) => this.isBlocked(field, raw[field]));
      const request: Identifiers = {
        email: ignored.includes('email') ? null : raw.email,
        phoneNumber: ignored.includes('phoneNumber') ? null : raw.phoneNumber,
      };
      if (request.email === null && request.phoneNumber === null) return { kind: 'blocked', fields: ignored };

      const components = this.components();
      const componentOf = (field: IdentifierField) =>
        request[field] === null ? undefined : components.find((members) => members.some((row) => row[field] === request[field]));
      const touched = [...new Set([componentOf('email'), componentOf('phoneNumber')].filter((c): c is ModelRow[] => c !== undefined))];
      const members = touched.flat();
      const bringsNew = FIELDS.some((field) => request[field] !== null && !members.some((row) => row[field] === request[field]));
      const grows = touched.length > 1 || (touched.length > 0 && bringsNew);
      if (this.maxCustomerContacts > 0 && grows && members.length + (bringsNew ? 1 : 0) > this.maxCustomerContacts) {
        // Quarantine the identifier of the larger customer (the phone on a tie), then go on without it.
        const size = (field: IdentifierField) => componentOf(field)?.length ?? 0;
        const field = size('email') > size('phoneNumber') ? 'email' : 'phoneNumber';
        this.block(field, request[field] as string);
        continue;
      }
      if (touched.length > 1) this.merges.push(request);
      if (touched.length === 0 || bringsNew) this.rows.push({ id: this.rows.length + 1, ...request });
      const id = this.rows.find(
        (row) => row.email === (request.email ?? undefined) || row.phoneNumber === (request.phoneNumber ?? undefined),
      )?.id as number;
      return { kind: 'customer', customer: this.customerOf(id), ignored };
    }
  }

  /** The customer of row `id` as the service answers it. */
  customerOf(id: number): Customer {
    return modelCustomerOf(this.components(), id);
  }

  /** Every row in id order (requests run one at a time, so also in time order), with its primary's id. */
  table(): { id: number; email: string | null; phoneNumber: string | null; primaryId: number }[] {
    const primaries = this.primaries();
    return this.rows.map((row) => ({ ...row, primaryId: primaries.get(row.id) as number }));
  }

  /** Every row's primary, by row id: what the table must hold. */
  primaries(): Map<number, number> {
    return modelPrimaries(this.components());
  }

  /** Connected components by label propagation until nothing changes; each in id order. */
  private components(): ModelRow[][] {
    const connected = (a: ModelRow, b: ModelRow) =>
      FIELDS.some((field) => a[field] !== null && a[field] === b[field] && !this.isBlocked(field, a[field])) ||
      this.merges.some(
        (merge) =>
          !this.isBlocked('email', merge.email) &&
          !this.isBlocked('phoneNumber', merge.phoneNumber) &&
          ((a.email === merge.email && b.phoneNumber === merge.phoneNumber) ||
            (b.email === merge.email && a.phoneNumber === merge.phoneNumber)),
      );
    return modelComponents(this.rows, connected);
  }
}
