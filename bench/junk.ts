/**
 * Junk values on top of the benchmark's seed, as a shop's table holds them once checkouts have
 * run a while: a placeholder email and a made-up phone typed by thousands of shoppers, blocked
 * (the recommended preset), so the customers that hold them stay apart; addresses at a reserved
 * domain; and one customer of thousands of rows glued together by a value nobody has blocked yet.
 * What `check` must not call a violation, and what `suspects` must rank first.
 */
import type { Database } from '../src/db/database.js';
import { governanceStore } from '../src/db/governanceStore.js';
import { createGovernanceService } from '../src/identity/governance.js';
import { seedBigCustomer } from './seed.js';

export const JUNK_EMAIL = 'test@test.com';
export const JUNK_PHONE = '0000000000';
/** The size of the customer glued by an unblocked value (`BIG_CUSTOMER_EMAIL` of the seed). */
export const GLUED_CONTACTS = 5_000;

/**
 * The primaries of every 250th customer take the placeholder email and of every 400th the made-up
 * phone (each still its own customer, as a block leaves them); every 300th takes an address at
 * example.com; then the glued customer; then the preset is applied through the governance service,
 * as an operator would. Seeded rows are older than the rules: the junk was stored before it was blocked.
 */
export async function seedJunk(db: Database): Promise<{ held: Record<string, number>; blockSeconds: number }> {
  const held: Record<string, number> = {};
  for (const [what, sql] of [
    [JUNK_EMAIL, `UPDATE "Contact" SET "email" = '${JUNK_EMAIL}' WHERE "linkedId" IS NULL AND "email" IS NOT NULL AND "id" % 250 = 7`],
    [
      JUNK_PHONE,
      `UPDATE "Contact" SET "phoneNumber" = '${JUNK_PHONE}' WHERE "linkedId" IS NULL AND "phoneNumber" IS NOT NULL AND "id" % 400 = 9`,
    ],
    [
      '@example.com',
      `UPDATE "Contact" SET "email" = 'u' || "id" || '@example.com' WHERE "linkedId" IS NULL AND "email" IS NOT NULL AND "id" % 300 = 13`,
    ],
  ] as const) {
    const [row] = await db.query<{ changed: number }>(`WITH changed AS (${sql} RETURNING 1) SELECT count(*)::int AS changed FROM changed`);
    held[what] = row?.changed ?? 0;
  }
  await seedBigCustomer(db, GLUED_CONTACTS);
  await db.query('ANALYZE "Contact"');
  const startedAt = performance.now();
  await createGovernanceService(governanceStore(db)).applyPreset('recommended', { addedBy: 'bench' });
  return { held, blockSeconds: (performance.now() - startedAt) / 1000 };
}
