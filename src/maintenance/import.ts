/**
 * `import`: a file's checkouts into the table as if each had been sent to /identify at its own
 * time (docs/import.md). The checkouts are cut into chunks of whole connected components of their
 * values (lines of different chunks share no email or phone), and each chunk is one transaction
 * under the repair's locks (the governance lock exclusively, then the table in EXCLUSIVE mode:
 * /identify writes wait for at most one chunk, lookups read committed states): read the live rows
 * and logged merges of every customer holding a value of the chunk, replay them with the chunk's
 * checkouts (`identity/replay.ts`), write the difference, log it, and move the checkpoint on.
 */
import type { Database, Queryable } from '../db/database.js';
import { addRule, loadBlocklist, markGoverned } from '../db/governanceStore.js';
import {
  advanceImportRun,
  analyzeForImport,
  appendImportEvents,
  insertImportedRows,
  lockForImport,
  placeExistingRows,
  readCustomersHolding,
  finishImportRun,
  readImportRun,
  readLoggedMerges,
  reserveContactIds,
  startImportRun,
  type ImportEvent,
  type ImportedRow,
  type RowPlacement,
} from '../db/importQueries.js';
import { OVER_MERGE_REASON } from '../identity/blocklist.js';
import { DisjointSets } from '../identity/disjointSets.js';
import type { IdentifierField } from '../identity/normalise.js';
import { replay, type ExistingRow, type ImportedCheckout, type ReplayResult } from '../identity/replay.js';
import { formatMicros, type Checkouts } from './importFile.js';
import { silentProgress, type Progress } from './progress.js';

export const DEFAULT_CHUNK_SIZE = 10_000;

export interface ImportOptions {
  /** Replay every chunk and roll it back. */
  dryRun: boolean;
  /** Checkouts per chunk (whole components, so a chunk may be larger). */
  chunkSize: number;
  /** The size cap (MAX_CUSTOMER_CONTACTS); 0: none. */
  maxCustomerContacts: number;
  progress?: Progress;
  /** Test hook (IDENTITY_IMPORT_STOP_AFTER): commit this many chunks, then stop as a crash would. */
  stopAfterChunks?: number;
}

export const COUNT_NAMES = [
  'inserted',
  'customersJoined',
  'primariesChanged',
  'relinked',
  'redundant',
  'merges',
  'unchanged',
  'blocked',
  'separated',
  'quarantined',
] as const;
export type ImportCounts = Record<(typeof COUNT_NAMES)[number], number>;

export interface ImportResult {
  counts: ImportCounts;
  chunks: number;
  /** Chunks a previous run had committed, skipped. */
  resumedAt: number;
  /** The same file was imported completely before: nothing was done. */
  alreadyImported: Date | null;
  /** The run stopped early (the test hook): the chunks committed by then; null when it ran to the end. */
  stopped: number | null;
}

const zeroCounts = (): ImportCounts => Object.fromEntries(COUNT_NAMES.map((name) => [name, 0])) as ImportCounts;

/** A dry run's chunk rolls back through this. */
class RollBack extends Error {
  constructor(readonly counts: ImportCounts) {
    super('dry run');
  }
}

export async function importCheckouts(db: Database, checkouts: Checkouts, digest: string, options: ImportOptions): Promise<ImportResult> {
  const progress = options.progress ?? silentProgress;
  const chunks = chunkByComponents(checkouts, options.chunkSize);
  const key = `${digest}:${options.chunkSize}`;
  const run = await readImportRun(db, key);
  const counts = zeroCounts();
  if (run?.finishedAt) {
    Object.assign(counts, run.counts);
    return { counts, chunks: chunks.length, resumedAt: run.chunksDone, alreadyImported: run.finishedAt, stopped: null };
  }
  const resumedAt = options.dryRun ? 0 : (run?.chunksDone ?? 0);
  if (resumedAt > 0) Object.assign(counts, run?.counts);
  // A dry run's rows are rolled back: any free ids will do.
  const idBase = options.dryRun
    ? await db.transaction(async (tx) => {
        await lockForImport(tx);
        return reserveContactIds(tx, 1);
      })
    : (run?.idBase ??
      (await db.transaction(async (tx) => {
        await lockForImport(tx);
        return (await startImportRun(tx, key, chunks.length, checkouts.length)).idBase;
      })));
  const rank = rankByTime(checkouts);
  const idOf = (index: number) => idBase + (rank[index] as number);

  progress.start('importing', checkouts.length);
  progress.advance(chunks.slice(0, resumedAt).reduce((sum, chunk) => sum + chunk.length, 0));
  // Rows inserted when the statistics were last brought up to date (-1: not yet): again each time they double.
  let analyzedAt = -1;
  for (let index = resumedAt; index < chunks.length; index++) {
    const analyze = analyzedAt < 0 || (counts.inserted > 0 && counts.inserted >= 2 * analyzedAt);
    if (analyze) analyzedAt = counts.inserted;
    if (options.stopAfterChunks !== undefined && index - resumedAt >= options.stopAfterChunks) {
      progress.finish();
      return { counts, chunks: chunks.length, resumedAt, alreadyImported: null, stopped: index };
    }
    const chunk = chunks[index] as number[];
    const chunkCounts = await db
      .transaction(async (tx) => {
        await lockForImport(tx);
        if (analyze) await analyzeForImport(tx);
        const done = await applyChunk(tx, checkouts, chunk, idBase, idOf, options.maxCustomerContacts);
        if (options.dryRun) throw new RollBack(done);
        const total = addCounts(counts, done, zeroCounts());
        await advanceImportRun(tx, key, total, index === chunks.length - 1);
        return done;
      })
      .catch((error: unknown) => {
        if (error instanceof RollBack) return error.counts;
        throw error;
      });
    addCounts(counts, chunkCounts, counts);
    progress.advance(chunk.length);
  }
  // A file without one good line has no chunk to finish the run with.
  if (chunks.length === 0 && !options.dryRun) await finishImportRun(db, key);
  progress.finish();
  return { counts, chunks: chunks.length, resumedAt, alreadyImported: null, stopped: null };
}

function addCounts(a: ImportCounts, b: ImportCounts, into: ImportCounts): ImportCounts {
  for (const name of COUNT_NAMES) into[name] = a[name] + b[name];
  return into;
}

/**
 * The checkouts' indexes in chunks of whole connected components (by email and phone), each chunk
 * at least `size` checkouts unless it is the last; components in the order of their first line, so
 * the same file cut the same way gives the same chunks (the checkpoint counts on it).
 */
export function chunkByComponents(checkouts: Checkouts, size: number): number[][] {
  const sets = new DisjointSets(checkouts.length);
  // One map a field, keyed by the values themselves: no key strings made for a million lines.
  const link = (firstHolder: Map<string, number>, value: string | null | undefined, index: number) => {
    if (value == null) return;
    const first = firstHolder.get(value);
    if (first === undefined) firstHolder.set(value, index);
    else sets.union(first, index);
  };
  const emails = new Map<string, number>();
  const phones = new Map<string, number>();
  for (let index = 0; index < checkouts.length; index++) {
    link(emails, checkouts.emails[index], index);
    link(phones, checkouts.phones[index], index);
  }
  emails.clear();
  phones.clear();
  const components = new Map<number, number[]>();
  for (let index = 0; index < checkouts.length; index++) {
    const root = sets.find(index);
    const members = components.get(root);
    if (members === undefined) components.set(root, [index]);
    else members.push(index);
  }
  const chunks: number[][] = [];
  let current: number[] = [];
  for (const members of components.values()) {
    for (const index of members) current.push(index);
    if (current.length >= size) {
      chunks.push(current);
      current = [];
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Each checkout's place in (createdAt, line) order: its row's id is the run's base plus that. */
function rankByTime(checkouts: Checkouts): Int32Array {
  // Indexes are in line order and the sort is stable: ties stay in line order.
  const order = Array.from({ length: checkouts.length }, (_, index) => index);
  const { createdAt } = checkouts;
  order.sort((a, b) => (createdAt[a] as number) - (createdAt[b] as number));
  const rank = new Int32Array(checkouts.length);
  for (const [position, index] of order.entries()) rank[index] = position;
  return rank;
}

async function applyChunk(
  tx: Queryable,
  checkouts: Checkouts,
  chunk: readonly number[],
  idBase: number,
  idOf: (index: number) => number,
  maxCustomerContacts: number,
): Promise<ImportCounts> {
  const emails = new Set<string>();
  const phones = new Set<string>();
  const lines: ImportedCheckout[] = chunk.map((index) => {
    const email = checkouts.emails[index] ?? null;
    const phoneNumber = checkouts.phones[index] ?? null;
    if (email !== null) emails.add(email);
    if (phoneNumber !== null) phones.add(phoneNumber);
    return { line: checkouts.lines[index] as number, email, phoneNumber, createdAt: checkouts.createdAt[index] as number, id: idOf(index) };
  });
  const idOfLine = new Map(lines.map((line) => [line.line, line.id]));
  const blocklist = await loadBlocklist(tx);
  const rows = await readCustomersHolding(tx, [...emails], [...phones]);
  // /identify's merges come after the rows the table held before the run, before the run's own.
  const merges = await readLoggedMerges(
    tx,
    rows.map((row) => row.id),
    idBase - 0.5,
  );
  const result = replay({ rows, merges, checkouts: lines, blocklist, limits: { maxCustomerContacts } });
  const counts = await writeReplay(tx, rows, result, (line) => idOfLine.get(line) as number);
  counts.unchanged = lines.length - result.blockedLines.length - counts.inserted - counts.merges + existingMerges(result);
  counts.blocked = result.blockedLines.length;
  counts.separated = result.separatedLines.length;
  return counts;
}

/** Merge-only checkouts that were existing rows (made redundant), not lines: `unchanged` counts lines only. */
function existingMerges(result: ReplayResult): number {
  return result.merges.filter((merge) => merge.source.kind === 'existing').length;
}

/** Writes the table the replay says, and its events; what it did, counted. */
async function writeReplay(
  tx: Queryable,
  existing: readonly ExistingRow[],
  result: ReplayResult,
  idOfLine: (line: number) => number,
): Promise<ImportCounts> {
  const counts = zeroCounts();
  const before = new Map(existing.map((row) => [row.id, row]));
  const ids = result.rows.map((row) => (row.source.kind === 'existing' ? row.source.id : idOfLine(row.source.line)));
  const idAt = (index: number) => ids[index] as number;

  const inserts: ImportedRow[] = [];
  const placements: RowPlacement[] = [];
  const groups = new Map<number, { newIds: number[]; relinked: number[]; redundant: number[]; owners: Set<number>; promoted: boolean }>();
  const fieldsBefore = new Map<number, Set<string>>();
  const newFields = new Map<number, Set<IdentifierField>>();
  for (const [index, row] of result.rows.entries()) {
    const primaryId = idAt(row.primary);
    const linkedId = row.primary === index ? null : primaryId;
    let group = groups.get(primaryId);
    if (group === undefined)
      groups.set(primaryId, (group = { newIds: [], relinked: [], redundant: [], owners: new Set(), promoted: false }));
    if (row.source.kind === 'line') {
      inserts.push({ id: idAt(index), email: row.email, phoneNumber: row.phoneNumber, linkedId, createdAt: formatMicros(row.createdAt) });
      group.newIds.push(idAt(index));
      continue;
    }
    const stored = before.get(row.source.id) as ExistingRow;
    if (!row.redundant) {
      const held = fieldsBefore.get(primaryId) ?? new Set();
      if (stored.email !== null) held.add(`e${stored.email}`);
      if (stored.phoneNumber !== null) held.add(`p${stored.phoneNumber}`);
      fieldsBefore.set(primaryId, held);
    }
    group.owners.add(stored.linkedId ?? stored.id);
    const inPlace = linkedId === null ? stored.linkedId === null && stored.linkPrecedence === 'primary' : stored.linkedId === linkedId;
    if (row.redundant) {
      placements.push({ id: stored.id, linkedId: linkedId ?? stored.linkedId, redundant: true });
      group.redundant.push(stored.id);
    } else if (!inPlace) {
      placements.push({ id: stored.id, linkedId, redundant: false });
      if (linkedId === null) group.promoted = true;
      else group.relinked.push(stored.id);
    }
  }
  for (const row of result.rows) {
    if (row.source.kind !== 'line') continue;
    const primaryId = idAt(row.primary);
    const held = fieldsBefore.get(primaryId);
    const fields = newFields.get(primaryId) ?? new Set();
    if (row.email !== null && !held?.has(`e${row.email}`)) fields.add('email');
    if (row.phoneNumber !== null && !held?.has(`p${row.phoneNumber}`)) fields.add('phoneNumber');
    newFields.set(primaryId, fields);
  }

  await insertImportedRows(tx, inserts);
  await placeExistingRows(tx, placements);

  const events: ImportEvent[] = [];
  for (const { field, value } of result.quarantined) {
    const rule = await addRule(tx, { field, match: 'exact', value }, OVER_MERGE_REASON, 'size-cap');
    if (rule === null) continue;
    counts.quarantined++;
    events.push({
      type: 'identifier.quarantined',
      customerIds: [],
      detail: { ruleId: rule.id, field, match: 'exact', reason: OVER_MERGE_REASON, cause: 'import' },
    });
  }
  // A quarantine changed the block list: every customer of the chunk carries its version, so that
  // lookups elsewhere reading them reload their list (migrations/0009), as after any block.
  if (counts.quarantined > 0) await markGoverned(tx, ids);
  for (const [primaryId, group] of groups) {
    const absorbed = [...group.owners].filter((owner) => owner !== primaryId);
    const changed = group.newIds.length > 0 || group.relinked.length > 0 || group.redundant.length > 0 || group.promoted;
    if (!changed && absorbed.length === 0) continue;
    if (group.owners.size === 0) {
      events.push({ type: 'customer.created', customerIds: [primaryId], contactIds: group.newIds, detail: { cause: 'import' } });
      counts.inserted += group.newIds.length;
      continue;
    }
    if (group.owners.size > 1) {
      events.push({
        type: 'customer.merged',
        customerIds: [primaryId, ...absorbed],
        contactIds: group.relinked,
        detail: { survivor: primaryId, absorbed, cause: 'import' },
      });
      counts.customersJoined += group.owners.size - 1;
    } else if (group.relinked.length > 0 || group.promoted) {
      events.push({
        type: 'customer.relinked',
        customerIds: [primaryId, ...absorbed],
        contactIds: group.relinked,
        detail: { promoted: group.promoted, cause: 'import' },
      });
    }
    if (absorbed.length > 0 || group.promoted) counts.primariesChanged += absorbed.length > 0 ? absorbed.length : 1;
    if (group.newIds.length > 0) {
      events.push({
        type: 'customer.updated',
        customerIds: [primaryId],
        contactIds: group.newIds,
        detail: { new: [...(newFields.get(primaryId) ?? [])], cause: 'import' },
      });
    }
    if (group.redundant.length > 0) {
      events.push({ type: 'contact.redundant', customerIds: [primaryId], contactIds: group.redundant, detail: { cause: 'import' } });
    }
    counts.inserted += group.newIds.length;
    counts.relinked += group.relinked.length;
    counts.redundant += group.redundant.length;
  }

  // Checkouts that joined customers without a row: the link graph needs their two values.
  const primaryByValue = new Map<string, number>();
  for (const row of result.rows) {
    if (row.redundant) continue;
    if (row.email !== null) primaryByValue.set(`e${row.email}`, idAt(row.primary));
    if (row.phoneNumber !== null) primaryByValue.set(`p${row.phoneNumber}`, idAt(row.primary));
  }
  for (const merge of result.merges) {
    const primaryId = primaryByValue.get(`e${merge.email}`) ?? primaryByValue.get(`p${merge.phoneNumber}`);
    if (primaryId === undefined) continue;
    counts.merges++;
    events.push({
      type: 'customer.merged',
      customerIds: [primaryId],
      email: merge.email,
      phoneNumber: merge.phoneNumber,
      detail: {
        survivor: primaryId,
        absorbed: [],
        cause: 'import',
        checkoutAt: merge.createdAt,
        // Where a later chunk or import replays it among rows of its time (LoggedMerge.order).
        ...(merge.source.kind === 'line'
          ? { line: merge.source.line, reservedId: idOfLine(merge.source.line) }
          : { contactId: merge.source.id }),
      },
    });
  }
  await appendImportEvents(tx, events);
  return counts;
}
