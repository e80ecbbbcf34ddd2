/**
 * The rules the table's identifiers were normalised by (migrations/0005): read at start-up and by
 * the maintenance commands, written when a table is first used and when `repair --renormalize`
 * moves it to new rules. Every change bumps the block list's version, which every /identify
 * statement compares: so a running process set to other rules finds out on its next request.
 */
import type { EmailCanonicalForm } from '../identity/emailForms.js';
import {
  createNormaliser,
  describeRules,
  PLAIN_NORMALISER,
  sameRules,
  type NormalFormRules,
  type Normaliser,
} from '../identity/normalise.js';
import { isPhoneRegion } from '../identity/phoneNumbers.js';
import type { Queryable } from './database.js';

export interface RecordedRules {
  rules: NormalFormRules;
  /** The rules an unfinished `repair --renormalize` is moving the table to. */
  renormalizingTo: NormalFormRules | null;
}

interface RulesRow {
  phoneRegion: string | null;
  emailCanonicalForm: string;
  renormalizingTo: { phoneRegion: string | null; emailCanonicalForm: string } | null;
}

export async function readRecordedRules(db: Queryable): Promise<RecordedRules> {
  const [row] = await db.query<RulesRow>(`SELECT "phoneRegion", "emailCanonicalForm", "renormalizingTo" FROM "IdentityGovernance"`);
  if (row === undefined) throw new Error('"IdentityGovernance" has no row: the migrations did not run');
  return { rules: parseRules(row), renormalizingTo: row.renormalizingTo === null ? null : parseRules(row.renormalizingTo) };
}

/**
 * The normaliser of the table's recorded rules: what `check` and `repair` judge stored values
 * by. A table the migrations have not reached (no record) was written by the seed's rules.
 */
export async function tableNormaliser(db: Queryable): Promise<Normaliser> {
  const [column] = await db.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                     WHERE table_name = 'IdentityGovernance' AND column_name = 'phoneRegion') AS found`,
  );
  return column?.found ? createNormaliser((await readRecordedRules(db)).rules) : PLAIN_NORMALISER;
}

/** Rules read back from the table; a value this build cannot match by is a table written by another version. */
export function parseRules(row: { phoneRegion: string | null; emailCanonicalForm: string }): NormalFormRules {
  const { phoneRegion, emailCanonicalForm } = row;
  if (phoneRegion !== null && !isPhoneRegion(phoneRegion))
    throw new Error(`the table's phone region ${phoneRegion} is not one this build knows`);
  if (emailCanonicalForm !== 'none' && emailCanonicalForm !== 'provider') {
    throw new Error(`the table's email canonical form ${emailCanonicalForm} is not one this build knows`);
  }
  return { phoneRegion, emailCanonicalForm: emailCanonicalForm satisfies EmailCanonicalForm };
}

/** The table's values are now in `rules`' normal form; processes set otherwise notice (the version). */
export async function recordRules(db: Queryable, rules: NormalFormRules): Promise<void> {
  await db.query(
    `UPDATE "IdentityGovernance" SET "phoneRegion" = $1, "emailCanonicalForm" = $2, "renormalizingTo" = NULL,
            "blocklistVersion" = "blocklistVersion" + 1`,
    [rules.phoneRegion, rules.emailCanonicalForm],
  );
}

export async function recordRenormalizing(db: Queryable, target: NormalFormRules): Promise<void> {
  await db.query(`UPDATE "IdentityGovernance" SET "renormalizingTo" = $1`, [JSON.stringify(target)]);
}

export type StartupVerdict =
  | { kind: 'same' }
  /** The table had no rows: the process's rules are recorded as the table's. */
  | { kind: 'adopted' }
  | { kind: 'refused'; message: string };

/**
 * Whether a process set to `rules` may serve this table. An empty table takes any rules; one with
 * rows only its own, since a value stored by other rules would not be found by these.
 */
export async function adoptOrCompareRules(db: Queryable, rules: NormalFormRules): Promise<StartupVerdict> {
  const recorded = await readRecordedRules(db);
  // Processes by the table's rules serve on while a renormalisation runs: they are what serves then.
  if (sameRules(recorded.rules, rules)) return { kind: 'same' };
  const [row] = await db.query<{ rows: boolean }>(`SELECT EXISTS (SELECT 1 FROM "Contact") AS "rows"`);
  if (!row?.rows) {
    await recordRules(db, rules);
    return { kind: 'adopted' };
  }
  if (recorded.renormalizingTo !== null) {
    return {
      kind: 'refused',
      message:
        `refusing to start: a renormalisation of the table to ${describeRules(recorded.renormalizingTo)} has not finished; ` +
        `run \`identity-service repair --renormalize\` with those settings to finish it`,
    };
  }
  return {
    kind: 'refused',
    message:
      `refusing to start: the table's emails and phones are in the normal form of ${describeRules(recorded.rules)}, ` +
      `this process is set to ${describeRules(rules)}; start with the table's settings, or move the table to the new ones ` +
      `with \`identity-service repair --renormalize\` (docs/normal-forms.md)`,
  };
}
