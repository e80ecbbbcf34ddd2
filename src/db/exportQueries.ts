/** The rows `identity-service export` writes, a page at a time by id (keyset: no offset rescans the table). */
import type { Queryable } from './database.js';
import { live, ownerOf } from './sql.js';

export interface ExportedRow {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  createdAt: Date;
  linkedId: number | null;
  linkPrecedence: string;
}

/** Live rows with ids above `afterId`; with `customerOf`, only those of that contact's customer. */
export function exportPage(db: Queryable, afterId: number, limit: number, customerOf: number | null): Promise<ExportedRow[]> {
  const customer = customerOf === null ? '' : `AND ${ownerOf()} = (SELECT ${ownerOf()} FROM "Contact" WHERE ${live()} AND "id" = $3)`;
  return db.query<ExportedRow>(
    `SELECT "id", "email", "phoneNumber", "createdAt", "linkedId", "linkPrecedence" FROM "Contact"
      WHERE ${live()} AND "id" > $1 ${customer} ORDER BY "id" LIMIT $2`,
    customerOf === null ? [afterId, limit] : [afterId, limit, customerOf],
  );
}
