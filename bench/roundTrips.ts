/**
 * Round trips per request, counted rather than inferred: the use cases exactly as the service
 * wires them (`createServices`, src/services.ts) over a `Database` that records every statement,
 * one request at a time, in process (no HTTP). pg sends a prepared statement's messages together,
 * so a statement is one round trip; a transaction adds two (BEGIN, COMMIT).
 */
import type { Database, Queryable } from '../src/db/database.js';
import { RECOMMENDED_PRESET } from '../src/identity/blocklistPreset.js';
import { normaliseIdentifiers } from '../src/identity/normalise.js';
import { DEFAULT_GOVERNANCE, addConfiguredPreset, createServices } from '../src/services.js';
import { phoneOf } from './seed.js';
import { nextBody, type Body, type WorkloadState } from './workloads.js';

export interface StatementCount {
  workload: string;
  governance: 'on' | 'off';
  requests: number;
  /** The distinct numbers of statements one request took, block list loads aside. */
  statements: number[];
  /** The distinct outcomes the requests had, and the fields screened out as blocked. */
  outcomes: string[];
  /** Loads of the block list: the cache's, at most one a second per process, not one per request. */
  blocklistLoads: number;
}

/** A returning customer's phone sent with an email the preset blocks: screened in memory, then one read. */
export const BLOCKED_LOOKUP = 'lookup, blocked email';
export const BLOCKED_EMAIL = RECOMMENDED_PRESET.find((rule) => rule.field === 'email' && rule.match === 'exact')?.value ?? 'test@test.com';

/**
 * Counts the statements of `requests` requests of each workload with governance `on` (the
 * recommended preset's rules in force) and `off`.
 */
export async function countStatements(db: Database, state: WorkloadState, requests = 20): Promise<StatementCount[]> {
  await addConfiguredPreset(db, { ...DEFAULT_GOVERNANCE, preset: 'recommended' });
  const seen: string[] = [];
  const counts: StatementCount[] = [];
  for (const governance of ['on', 'off'] as const) {
    const { identifyService } = createServices(counting(db, seen), { ...DEFAULT_GOVERNANCE, enabled: governance === 'on' });
    const workloads: ('lookup' | 'new' | 'extend' | 'merge' | typeof BLOCKED_LOOKUP)[] = ['lookup', 'new', 'extend', 'merge'];
    if (governance === 'on') workloads.splice(1, 0, BLOCKED_LOOKUP);
    for (const workload of workloads) {
      const count: StatementCount = { workload, governance, requests, statements: [], outcomes: [], blocklistLoads: 0 };
      for (let i = 0; i < requests; i++) {
        const body =
          workload === BLOCKED_LOOKUP ? { email: BLOCKED_EMAIL, phoneNumber: phoneOf(10 * i + 2) as string } : nextBody(workload, state);
        seen.length = 0;
        const result = await identifyService.identify(identifiers(body));
        const loads = seen.filter((sql) => sql.includes('"BlockedIdentifier"')).length;
        count.blocklistLoads += loads;
        addOnce(count.statements, seen.length - loads);
        addOnce(count.outcomes, [result.outcome, ...result.ignored.map((field) => `${field} ignored`)].join(', '));
      }
      counts.push(count);
    }
  }
  return counts;
}

function identifiers(body: Body) {
  const normalised = normaliseIdentifiers(body);
  if (!normalised.ok) throw new Error(`the bench sent an invalid request: ${normalised.message}`);
  return normalised.value;
}

function addOnce<T>(list: T[], value: T): void {
  if (!list.includes(value)) list.push(value);
}

/** `db`, recording the text of every statement run through it (BEGIN and COMMIT of a transaction too) in `seen`. */
function counting(db: Database, seen: string[]): Database {
  const recorded = (on: Queryable): Queryable => ({
    query<Row>(sql: string, params?: readonly unknown[]) {
      seen.push(sql);
      return on.query<Row>(sql, params);
    },
    exec(sql: string) {
      seen.push(sql);
      return on.exec(sql);
    },
  });
  return {
    ...recorded(db),
    kind: db.kind,
    stats: () => db.stats(),
    readCommitted: recorded(db.readCommitted),
    transaction<T>(work: (tx: Queryable) => Promise<T>) {
      seen.push('BEGIN');
      return db.transaction((tx) => work(recorded(tx))).finally(() => seen.push('COMMIT'));
    },
    close: () => db.close(),
  };
}
