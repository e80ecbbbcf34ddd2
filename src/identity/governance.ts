/**
 * The governance use cases: block and unblock identifiers, quarantine the one that would take a
 * customer past the size cap, and list what an operator needs to decide. Every change to the
 * block list regroups the customers it affects (`regroup.ts`) in the same transaction, holding
 * the governance lock exclusively, so no /identify write overlaps it and the table's invariants
 * hold at every moment.
 */
import { Blocklist, OVER_MERGE_REASON, checkRule, screen, type BlockRule, type BlockRuleSpec } from './blocklist.js';
import { PRESETS, type PresetName } from './blocklistPreset.js';
import type { Identifiers, LinkedContact } from './contact.js';
import { PLAIN_NORMALISER, type Normaliser } from './normalise.js';
import { decide, type DecisionLimits } from './reconcile.js';
import { regroup, type RegroupResult } from './regroup.js';
import type { GovernanceStore, GovernanceTransaction, NewEvent, Suspect } from './store.js';

export interface ChangeContext {
  /** Who or what made the change: recorded with a rule. */
  addedBy: string;
  requestId?: string | null;
}

export interface BlockOutcome {
  rule: BlockRule;
  /** False when the same rule was there already: nothing changed. */
  created: boolean;
  /** Customers that fell apart, by their old owner, into the primaries of the pieces. */
  splits: RegroupResult['splits'];
}

export interface UnblockOutcome {
  rule: BlockRule;
  merges: RegroupResult['merges'];
}

/** The rule is not one the block list can hold; `message` says why without repeating the value. */
export class InvalidRuleError extends Error {
  override name = 'InvalidRuleError';
}

export interface GovernanceService {
  list(): Promise<Blocklist>;
  block(spec: BlockRuleSpec, reason: string, context: ChangeContext): Promise<BlockOutcome>;
  /** Adds the preset's rules that are missing, in one transaction; the outcome of each rule. */
  applyPreset(name: PresetName, context: ChangeContext): Promise<BlockOutcome[]>;
  /** Null when no rule has this id. */
  unblock(id: number, context: ChangeContext): Promise<UnblockOutcome | null>;
  /**
   * Blocks the identifier of `request` that would take a customer past the cap, if, decided
   * again under the lock, the request still would. Racing requests all call this; the first
   * blocks, the others find it done.
   */
  quarantine(request: Identifiers, limits: DecisionLimits, requestId: string | null): Promise<void>;
  suspects(limit: number): Promise<Suspect[]>;
}

export interface GovernanceServiceOptions {
  /** Called after every change to the block list commits: this process's copy is refreshed at once. */
  onChange?: () => Promise<unknown>;
  /** Exact rules are stored in the normal form of these rules (default: the seed's). */
  normaliser?: Normaliser;
}

export function createGovernanceService(
  store: GovernanceStore,
  { onChange, normaliser = PLAIN_NORMALISER }: GovernanceServiceOptions = {},
): GovernanceService {
  const changing = <T>(work: (tx: GovernanceTransaction) => Promise<T>): Promise<T> =>
    store.exclusive(work).then(async (result) => {
      await onChange?.();
      return result;
    });
  return {
    list: () => store.loadBlocklist(),
    block: (spec, reason, context) => {
      const checked = checkRule(spec, normaliser);
      if (!checked.ok) return Promise.reject(new InvalidRuleError(checked.message));
      return changing((tx) => blockIn(tx, checked.rule, reason, context, 'identifier.blocked'));
    },
    applyPreset: (name, context) =>
      changing(async (tx) => {
        const outcomes: BlockOutcome[] = [];
        for (const { reason, ...spec } of PRESETS[name]) {
          // The preset is written in the seed's normal form; exact values are stored in the table's.
          const checked = checkRule(spec, normaliser);
          if (!checked.ok) throw new Error(`the preset's rule for ${spec.field} is invalid: ${checked.message}`);
          outcomes.push(await blockIn(tx, checked.rule, reason, context, 'identifier.blocked'));
        }
        return outcomes;
      }),
    unblock: (id, context) => changing((tx) => unblockIn(tx, id, context)),
    quarantine: (request, limits, requestId) =>
      changing(async (tx) => {
        const usable = screen(request, await tx.loadBlocklist()).usable;
        if (usable === null) return;
        const decision = decide(usable, await tx.findCustomers(usable), limits);
        if (decision.kind !== 'quarantine') return;
        const value = usable[decision.field] as string;
        await blockIn(
          tx,
          { field: decision.field, match: 'exact', value },
          OVER_MERGE_REASON,
          { addedBy: 'size-cap', requestId },
          'identifier.quarantined',
        );
      }),
    suspects: (limit) => store.suspects(limit),
  };
}

async function blockIn(
  tx: GovernanceTransaction,
  spec: BlockRuleSpec,
  reason: string,
  { addedBy, requestId = null }: ChangeContext,
  eventType: string,
): Promise<BlockOutcome> {
  const before = await tx.loadBlocklist();
  const rule = await tx.addRule(spec, reason, addedBy);
  if (rule === null) {
    const existing = before.rules.find((r) => r.field === spec.field && r.match === spec.match && r.value === spec.value);
    if (existing === undefined) throw new Error('the rule exists but is not in the block list');
    return { rule: existing, created: false, splits: [] };
  }
  const after = new Blocklist(before.version + 1, [...before.rules, rule]);
  const result = await regroupAffected(tx, spec, before, after, false);
  const affected = result.customers.map((members) => members[0] as number);
  await tx.applyRegroup(
    result.writes,
    [{ type: eventType, customerIds: affected, detail: ruleDetail(rule) }, ...regroupEvents(result, eventType)],
    requestId,
  );
  await tx.markGoverned(result.customers.flat());
  return { rule, created: true, splits: result.splits };
}

async function unblockIn(tx: GovernanceTransaction, id: number, { requestId = null }: ChangeContext): Promise<UnblockOutcome | null> {
  const before = await tx.loadBlocklist();
  const rule = await tx.removeRule(id);
  if (rule === null) return null;
  const after = new Blocklist(
    before.version + 1,
    before.rules.filter((r) => r.id !== id),
  );
  const result = await regroupAffected(tx, rule, before, after, true);
  const affected = result.customers.map((members) => members[0] as number);
  await tx.applyRegroup(
    result.writes,
    [{ type: 'identifier.unblocked', customerIds: affected, detail: ruleDetail(rule) }, ...regroupEvents(result, 'identifier.unblocked')],
    requestId,
  );
  await tx.markGoverned(result.customers.flat());
  return { rule, merges: result.merges };
}

async function regroupAffected(
  tx: GovernanceTransaction,
  rule: BlockRuleSpec,
  before: Blocklist,
  after: Blocklist,
  viaMerges: boolean,
): Promise<RegroupResult> {
  const rows = await tx.rowsOfCustomersMatching(rule, { viaMerges });
  const merges = await tx.mergesOf(rows.map((row) => row.id));
  return regroup({ rows, merges, before, after });
}

/**
 * Regroups `rows` (every live row of the customers concerned) by the block list in force: what
 * `repair --renormalize` calls after rewriting values, so that customers that now share one
 * are joined by the same rules as a block or an unblock.
 */
export async function regroupRows(tx: GovernanceTransaction, rows: readonly LinkedContact[], cause: string): Promise<RegroupResult> {
  const list = await tx.loadBlocklist();
  const merges = await tx.mergesOf(rows.map((row) => row.id));
  const result = regroup({ rows, merges, before: list, after: list });
  await tx.applyRegroup(result.writes, regroupEvents(result, cause), null);
  await tx.markGoverned(result.customers.flat());
  return result;
}

/** A rule's event says which rule, never its value (it may be someone's email). */
function ruleDetail(rule: BlockRule): Record<string, unknown> {
  return { ruleId: rule.id, field: rule.field, match: rule.match, reason: rule.reason };
}

/** The events of a regroup: one per customer split, one per customers joined; `cause` says what made it. */
export function regroupEvents(result: RegroupResult, cause: string): NewEvent[] {
  return [
    ...result.splits.map((split) => ({
      type: 'customer.split',
      customerIds: [...split.into, ...(split.into.includes(split.ownerId) ? [] : [split.ownerId])],
      detail: { into: split.into, cause },
    })),
    ...result.merges.map((merge) => ({
      type: 'customer.merged',
      customerIds: [merge.survivorId, ...merge.absorbedOwnerIds],
      detail: { survivor: merge.survivorId, absorbed: merge.absorbedOwnerIds, cause },
    })),
  ];
}

/**
 * The process's copy of the block list. /identify decides with it and every statement it runs
 * says which version that was, so a change made by another process is noticed on the next write
 * or read, and the copy refreshed (`latest`). The read API has no such check: for it the copy is
 * reloaded when older than `maxAgeMs` (`current`). Loads are shared: many requests noticing at once cost one query.
 */
export class BlocklistCache {
  private list: Blocklist | null = null;
  private loadedAt = 0;
  private running: Promise<Blocklist> | null = null;
  private queued: Promise<Blocklist> | null = null;

  constructor(
    private readonly load: () => Promise<Blocklist>,
    private readonly maxAgeMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The list as last loaded, however old (loaded the first time): for /identify, whose every
   * statement checks the version itself, so an age limit would only add a query a second.
   */
  /** The copy held, without waiting: null before the first load. Lets the hot path skip a promise. */
  get held(): Blocklist | null {
    return this.list;
  }

  latest(): Promise<Blocklist> {
    return this.list === null ? this.refresh() : Promise.resolve(this.list);
  }

  /** The list as last loaded; loaded again first if it is older than `maxAgeMs` (the read API, which checks no version). */
  async current(): Promise<Blocklist> {
    if (this.list !== null && this.now() - this.loadedAt < this.maxAgeMs) return this.list;
    return this.refresh();
  }

  /**
   * Loads the list again. A load already under way may have read the list before the caller's
   * reason to refresh, so callers arriving meanwhile share one more load, started after it:
   * at most one load runs and one waits, however many requests ask.
   */
  refresh(): Promise<Blocklist> {
    if (this.queued) return this.queued;
    if (this.running) {
      this.queued = this.running.then(
        () => this.startLoad(),
        () => this.startLoad(),
      );
      return this.queued;
    }
    return this.startLoad();
  }

  private startLoad(): Promise<Blocklist> {
    this.queued = null;
    const startedAt = this.now();
    const running = this.load().then((list) => {
      if (this.list === null || list.version >= this.list.version) {
        this.list = list;
        this.loadedAt = startedAt;
      }
      return this.list;
    });
    this.running = running;
    void running.then(
      () => this.settle(running),
      () => this.settle(running),
    );
    return running;
  }

  private settle(load: Promise<Blocklist>): void {
    if (this.running === load) this.running = null;
  }
}
