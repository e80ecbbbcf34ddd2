/**
 * Lookups that arrive together share one statement. Every read of /identify's first step that
 * needs no version goes through here: those made in one turn of the event loop (the requests whose
 * bodies were parsed in it) are sent as one `= ANY`-style statement over `unnest`, each request's
 * rows tagged with its place. One statement is one snapshot, so every answer is still a state the
 * table really was in; what changes is that the database parses, plans and round-trips once for
 * many lookups (pgbench, 8 lookups a statement: 2.5x the lookups per second of one a statement).
 * A turn with one lookup sends the one-lookup statement, as before.
 */
import type { Identifiers } from '../identity/contact.js';
import type { Queryable } from './database.js';
import { perTurn, timeBatch, type BatchObserver, type Waiting } from './perTurn.js';

/**
 * Rows of several lookups at once: `request` is the lookup's place in the arrays (from 1), rows in
 * row order within it. The same inlined function as the single lookup, so the same plan per lookup.
 */
export const FIND_MANY_CUSTOMERS_SQL = `
  SELECT o."request"::int AS "request", r."id", r."email", r."phoneNumber", r."linkedId", r."linkPrecedence", r."governedAt"
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS o("email", "phoneNumber", "request")
   CROSS JOIN LATERAL identity_governed_rows(o."email", o."phoneNumber") AS r
   ORDER BY o."request", r."createdAt", r."id"`;

/**
 * Lookups per statement: as soon as 8 are waiting they go, and what is left at the turn's end goes
 * then. A statement runs on one database backend, one lookup after another; at 64 a turn's dozen
 * lookups waited for one backend while the database's other core could have answered half. In
 * interleaved runs of two services side by side (wrk, 20 connections, with and without production
 * settings; docs/concurrency.md) 8 served more lookups than 64 in 13 of 16 pairs (a tenth to a
 * seventh more in the medians).
 */
export const MAX_LOOKUPS_PER_STATEMENT = 8;

/**
 * A reader that batches: `single` is the one-lookup statement (parameters email, phone), used
 * when a turn brings one lookup; otherwise FIND_MANY_CUSTOMERS_SQL. `observe` is told of each statement.
 */
export function batchedLookups<Row>(db: Queryable, single: string, observe?: BatchObserver): (request: Identifiers) => Promise<Row[]> {
  const send = (batch: Waiting<Identifiers, Row[]>[]) => {
    const answered = timeBatch(observe, batch.length);
    if (batch.length === 1) {
      const [only] = batch as [Waiting<Identifiers, Row[]>];
      db.query<Row>(single, [only.item.email, only.item.phoneNumber]).finally(answered).then(only.resolve, only.reject);
      return;
    }
    db.query<Row & { request: number }>(FIND_MANY_CUSTOMERS_SQL, [
      batch.map((each) => each.item.email),
      batch.map((each) => each.item.phoneNumber),
    ])
      .finally(answered)
      .then(
        (rows) => {
          const byRequest: Row[][] = batch.map(() => []);
          for (const { request, ...row } of rows) byRequest[request - 1]?.push(row as Row);
          batch.forEach((each, index) => each.resolve(byRequest[index] as Row[]));
        },
        (error: unknown) => batch.forEach((each) => each.reject(error)),
      );
  };
  return perTurn(send, MAX_LOOKUPS_PER_STATEMENT);
}
