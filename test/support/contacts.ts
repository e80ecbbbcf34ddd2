/** Builders for in-memory `Contact` rows, for the pure tests. */
import { primaryIdOf, type Contact, type Identifiers, type LinkedContact } from '../../src/identity/contact.js';

const EPOCH = Date.UTC(2026, 0, 1);

/** A row whose createdAt follows its id, as it does when requests run one at a time. */
export function contact(id: number, email: string | null, phoneNumber: string | null, linkedId: number | null = null): Contact {
  const at = new Date(EPOCH + id * 1000);
  return { id, email, phoneNumber, linkedId, linkPrecedence: linkedId === null ? 'primary' : 'secondary', createdAt: at, updatedAt: at };
}

export function request(email: string | null, phoneNumber: string | null): Identifiers {
  return { email, phoneNumber };
}

/** What the database's findCustomers returns: every row of every customer owning an identifier. */
export function rowsOfInvolvedCustomers<Row extends LinkedContact>(table: readonly Row[], query: Identifiers): Row[] {
  const owners = new Set(
    table
      .filter(
        (row) =>
          (query.email !== null && row.email === query.email) || (query.phoneNumber !== null && row.phoneNumber === query.phoneNumber),
      )
      .map(primaryIdOf),
  );
  return table.filter((row) => owners.has(primaryIdOf(row)));
}
