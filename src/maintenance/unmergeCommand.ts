/**
 * `unmerge`, `separations` and `unseparate`: the admin API's unmerge and separations
 * (src/identity/unmerge.ts) from the command line, under the same governance lock. Prints ids,
 * never an email or phone.
 */
import type { ChangeContext } from '../identity/governance.js';
import { separationView, type Separation } from '../identity/separations.js';
import {
  ContactsNotInCustomerError,
  StillLinkedError,
  UnmergeNotFoundError,
  type UnmergeOutcome,
  type UnmergeService,
  type UnmergeTarget,
} from '../identity/unmerge.js';
import { formatSplits, type Parsed } from './blockCommand.js';
import { count, formatTable } from './table.js';

type Out = Pick<NodeJS.WritableStream, 'write'>;

export interface UnmergeOptions {
  merge?: number;
  contacts?: [number, number];
}

/** Exactly one of the merge's event id and a contact of each side, as the admin API's body. */
export function unmergeTargetFrom({ merge, contacts }: UnmergeOptions): Parsed<UnmergeTarget> {
  if ((merge === undefined) === (contacts === undefined)) return { ok: false, message: 'give exactly one of --merge or --contacts.' };
  if (contacts !== undefined && contacts[0] === contacts[1]) return { ok: false, message: '--contacts: give two different contacts.' };
  return { ok: true, value: merge !== undefined ? { mergeEventId: merge } : { contactIds: contacts as [number, number] } };
}

/** 0 when the merge was undone; 1 when nothing was written, with the reason (as the API's 404, 400 and 409 say it). */
export async function runUnmerge(
  unmerge: UnmergeService,
  contactId: number,
  target: UnmergeTarget,
  context: ChangeContext,
  { out, err }: { out: Out; err: Out },
): Promise<number> {
  try {
    out.write(formatUnmerge(await unmerge.unmerge(contactId, target, context)));
    return 0;
  } catch (error) {
    if (!(error instanceof UnmergeNotFoundError || error instanceof ContactsNotInCustomerError || error instanceof StillLinkedError)) {
      throw error;
    }
    err.write(`unmerge: ${error.message}${error instanceof StillLinkedError ? '' : ' Nothing was written.'}\n`);
    return 1;
  }
}

export function formatUnmerge({ mergeEventId, into: [a, b], separation, splits }: UnmergeOutcome): string {
  return (
    `merge ${mergeEventId} undone: customers ${a} and ${b}\n` +
    `separation ${separation.id} keeps them apart (\`identity-service unseparate ${separation.id}\` removes it)\n` +
    formatSplits(splits)
  );
}

export async function runSeparations(unmerge: UnmergeService, { json = false }: { json?: boolean }, out: Out): Promise<number> {
  const { version, separations } = await unmerge.separations();
  out.write(
    json ? `${JSON.stringify({ version, separations: separations.map(separationView) })}\n` : formatSeparations(version, separations),
  );
  return 0;
}

export function formatSeparations(version: number, separations: readonly Separation[]): string {
  if (separations.length === 0) return `no separations: requests may join any customers (block list version ${version})\n`;
  const table = formatTable(
    [
      { header: 'id', align: 'right' },
      { header: 'contacts' },
      { header: 'mergeEventId', align: 'right' },
      { header: 'addedBy' },
      { header: 'createdAt' },
    ],
    separations.map((separation) => {
      const shown = separationView(separation);
      return [String(shown.id), shown.contactIds.join(', '), String(shown.mergeEventId ?? '–'), shown.addedBy, shown.createdAt];
    }),
  );
  const noun = separations.length === 1 ? 'separation' : 'separations';
  return `${table.join('\n')}\n${count(separations.length)} ${noun} (block list version ${version})\n`;
}

/** 0 when removed; 1 when no separation has the id. Joins nothing by itself: the next request carrying both sides may. */
export async function runUnseparate(
  unmerge: UnmergeService,
  id: number,
  context: ChangeContext,
  { out, err }: { out: Out; err: Out },
): Promise<number> {
  const removed = await unmerge.removeSeparation(id, context);
  if (removed === null) {
    err.write(`unseparate: no separation has id ${id} (\`identity-service separations\` lists them)\n`);
    return 1;
  }
  out.write(
    `separation ${removed.id} removed: contacts ${removed.contactIds.join(' and ')} may be joined again by the next request that carries both\n`,
  );
  return 0;
}
