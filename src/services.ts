/**
 * The use cases over one database, wired as the service runs them: the identify service with
 * the block list, the size cap and the event log (or, with governance off, the seed's plain
 * rules: the bench's baseline), and the governance service behind the admin API and the CLI.
 */
import type { GovernanceSettings } from './config.js';
import type { Database } from './db/database.js';
import { governanceStore, unmergeStore } from './db/governanceStore.js';
import { deliveryStore } from './db/deliveryStore.js';
import type { DeliverySettings } from './delivery/deliverer.js';
import { identifyStore, type IdentifyStoreOptions } from './db/identifyStore.js';
import { createErasureService, type ErasureService } from './identity/erasure.js';
import { BlocklistCache, createGovernanceService, type GovernanceService } from './identity/governance.js';
import { createIdentifyService, type IdentifyService, type IdentifyServiceOptions } from './identity/identifyService.js';
import {
  createNormaliser,
  NormalFormChangedError,
  PLAIN_RULES,
  sameRules,
  type NormalFormRules,
  type Normaliser,
} from './identity/normalise.js';
import { DEFAULT_MAX_CUSTOMER_CONTACTS } from './identity/reconcile.js';
import { createUnmergeService, type UnmergeService } from './identity/unmerge.js';

export interface Services {
  identifyService: IdentifyService;
  /** The rules requests, block rules and lookups are normalised by: the table's. */
  normaliser: Normaliser;
  /** Absent with governance off. */
  governance?: GovernanceService;
  blocklist?: BlocklistCache;
  /** Erasure (under the governance lock, like a block); absent with governance off. */
  erasure?: ErasureService;
  /** Unmerge and separations (admin API); absent with governance off. */
  unmerge?: UnmergeService;
}

export const DEFAULT_GOVERNANCE: GovernanceSettings = { enabled: true, maxCustomerContacts: DEFAULT_MAX_CUSTOMER_CONTACTS, preset: null };

export interface ServiceOptions extends Omit<IdentifyServiceOptions, 'governance'> {
  /** The normal-form rules the process is set to (default: the seed's); start-up checked they are the table's. */
  rules?: NormalFormRules;
  /** Told of every batched statement /identify sends (its metrics). */
  onBatch?: IdentifyStoreOptions['onBatch'];
}

export function createServices(db: Database, settings: GovernanceSettings = DEFAULT_GOVERNANCE, options: ServiceOptions = {}): Services {
  const { rules = PLAIN_RULES, onBatch, ...identifyOptions } = options;
  const batches = onBatch ? { onBatch } : {};
  const normaliser = createNormaliser(rules);
  if (!settings.enabled) {
    return { normaliser, identifyService: createIdentifyService(identifyStore(db, { eventLog: false, ...batches }), identifyOptions) };
  }
  const store = governanceStore(db);
  // Every reload of the list (on a version change) also learns whether the table's rules are
  // still this process's: after `repair --renormalize` they are not, and it must stop answering.
  const blocklist = new BlocklistCache(async () => {
    const state = await store.loadState();
    if (!sameRules(state.rules, rules)) throw new NormalFormChangedError(state.rules, rules);
    return state.blocklist;
  });
  const governance = createGovernanceService(store, { onChange: () => blocklist.refresh(), normaliser });
  const identifyService = createIdentifyService(identifyStore(db, batches), {
    ...identifyOptions,
    governance: { blocklist, limits: { maxCustomerContacts: settings.maxCustomerContacts }, quarantine: governance.quarantine },
  });
  const erasure = createErasureService(store, { onChange: () => blocklist.refresh() });
  // Separations are cached with the block list (same version): a change refreshes the same copy.
  const unmerge = createUnmergeService(unmergeStore(db), { onChange: () => blocklist.refresh() });
  return { normaliser, identifyService, governance, blocklist, erasure, unmerge };
}

/** Adds the configured preset's missing rules (BLOCKLIST_PRESET); the process that migrates does it. */
export async function addConfiguredPreset(db: Database, settings: GovernanceSettings, rules: NormalFormRules = PLAIN_RULES): Promise<void> {
  if (!settings.enabled || settings.preset === null) return;
  await createGovernanceService(governanceStore(db), { normaliser: createNormaliser(rules) }).applyPreset(settings.preset, {
    addedBy: `preset:${settings.preset}`,
  });
}

/** WEBHOOK_URLS into the endpoints table (docs/webhooks.md); like the preset, the process that migrates does it. */
export async function syncConfiguredWebhooks(db: Database, settings: DeliverySettings): Promise<void> {
  await deliveryStore(db).syncConfigured(settings.urls, settings.secret);
}
