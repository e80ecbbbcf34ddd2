/**
 * The use cases over one database, wired as the service runs them: the identify service with
 * the block list, the size cap and the event log (or, with governance off, the seed's plain
 * rules: the bench's baseline), and the governance service behind the admin API and the CLI.
 */
import type { GovernanceSettings } from './config.js';
import type { Database } from './db/database.js';
import { governanceStore } from './db/governanceStore.js';
import { identifyStore } from './db/identifyStore.js';
import { BlocklistCache, createGovernanceService, type GovernanceService } from './identity/governance.js';
import { createIdentifyService, type IdentifyService, type IdentifyServiceOptions } from './identity/identifyService.js';
import { DEFAULT_MAX_CUSTOMER_CONTACTS } from './identity/reconcile.js';

export interface Services {
  identifyService: IdentifyService;
  /** Absent with governance off. */
  governance?: GovernanceService;
  blocklist?: BlocklistCache;
}

export const DEFAULT_GOVERNANCE: GovernanceSettings = { enabled: true, maxCustomerContacts: DEFAULT_MAX_CUSTOMER_CONTACTS, preset: null };

export function createServices(
  db: Database,
  settings: GovernanceSettings = DEFAULT_GOVERNANCE,
  options: Omit<IdentifyServiceOptions, 'governance'> = {},
): Services {
  if (!settings.enabled) return { identifyService: createIdentifyService(identifyStore(db, { eventLog: false }), options) };
  const store = governanceStore(db);
  const blocklist = new BlocklistCache(() => store.loadBlocklist());
  const governance = createGovernanceService(store, { onChange: () => blocklist.refresh() });
  const identifyService = createIdentifyService(identifyStore(db), {
    ...options,
    governance: { blocklist, limits: { maxCustomerContacts: settings.maxCustomerContacts }, quarantine: governance.quarantine },
  });
  return { identifyService, governance, blocklist };
}

/** Adds the configured preset's missing rules (BLOCKLIST_PRESET); the process that migrates does it. */
export async function addConfiguredPreset(db: Database, settings: GovernanceSettings): Promise<void> {
  if (!settings.enabled || settings.preset === null) return;
  await createGovernanceService(governanceStore(db)).applyPreset(settings.preset, { addedBy: `preset:${settings.preset}` });
}
