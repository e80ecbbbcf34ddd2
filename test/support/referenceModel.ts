/**
 * A deliberately different formulation of the rules, to check the real implementation against.
 * It keeps no primary/secondary links: each row carries a customer label, a request relabels
 * every customer it touches as one, and a customer's primary is simply its oldest row (lowest id,
 * as requests run one at a time).
 */
import type { Customer, Identifiers } from '../../src/identity/contact.js';

interface ModelRow {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  customer: number;
}

export class ReferenceModel {
  private readonly rows: ModelRow[] = [];
  private labels = 0;

  identify(request: Identifiers): Customer {
    const touched = new Set(
      this.rows
        .filter(
          (row) =>
            (request.email !== null && row.email === request.email) ||
            (request.phoneNumber !== null && row.phoneNumber === request.phoneNumber),
        )
        .map((row) => row.customer),
    );
    const label = ++this.labels;
    for (const row of this.rows) if (touched.has(row.customer)) row.customer = label;
    const members = this.rows.filter((row) => row.customer === label);
    const known = (key: 'email' | 'phoneNumber') => request[key] === null || members.some((row) => row[key] === request[key]);
    if (!known('email') || !known('phoneNumber')) {
      this.rows.push({ id: this.rows.length + 1, ...request, customer: label });
    }
    return describeModelCustomer(this.rows.filter((row) => row.customer === label));
  }

  /** Every row, each with its customer's label (rows of one customer share it). */
  snapshot(): readonly Readonly<ModelRow>[] {
    return this.rows.map((row) => ({ ...row }));
  }
}

/** A model customer as the service answers it: its lowest id primary, values in id order. */
export function describeModelCustomer(members: readonly { id: number; email: string | null; phoneNumber: string | null }[]): Customer {
  const [primary, ...others] = [...members].sort((a, b) => a.id - b.id);
  if (!primary) throw new Error('a customer has at least one row');
  const distinct = (values: (string | null)[]) => [...new Set(values.filter((v): v is string => v !== null))];
  return {
    primaryContactId: primary.id,
    emails: distinct([primary.email, ...others.map((row) => row.email)]),
    phoneNumbers: distinct([primary.phoneNumber, ...others.map((row) => row.phoneNumber)]),
    secondaryContactIds: others.map((row) => row.id),
  };
}

/**
 * The groups of `rows` that `connected` joins, transitively, by label propagation until nothing
 * changes (slow, and obviously right: what the models are for); each group in the order of `rows`.
 */
export function modelComponents<Row extends { id: number }>(rows: readonly Row[], connected: (a: Row, b: Row) => boolean): Row[][] {
  const label = new Map(rows.map((row) => [row.id, row.id]));
  for (let changed = true; changed;) {
    changed = false;
    for (const a of rows) {
      for (const b of rows) {
        const low = Math.min(label.get(a.id) as number, label.get(b.id) as number);
        if (connected(a, b) && (label.get(a.id) !== low || label.get(b.id) !== low)) {
          label.set(a.id, low);
          label.set(b.id, low);
          changed = true;
        }
      }
    }
  }
  const groups = new Map<number, Row[]>();
  for (const row of rows) groups.set(label.get(row.id) as number, [...(groups.get(label.get(row.id) as number) ?? []), row]);
  return [...groups.values()];
}

type ModelRowLike = { id: number; email: string | null; phoneNumber: string | null };

/** The customer of row `id` among `components`, as the service answers it. */
export function modelCustomerOf(components: readonly (readonly ModelRowLike[])[], id: number): Customer {
  const members = components.find((component) => component.some((row) => row.id === id));
  if (!members) throw new Error(`no row ${id}`);
  return describeModelCustomer(members);
}

/** Every row's primary, by row id (each component's first row): what the table must hold. */
export function modelPrimaries(components: readonly (readonly { id: number }[])[]): Map<number, number> {
  const result = new Map<number, number>();
  for (const members of components) for (const row of members) result.set(row.id, (members[0] as { id: number }).id);
  return result;
}
