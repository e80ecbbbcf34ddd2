/**
 * `erase --email … | --phone … | --contact … | --customer …`: the erasure the admin API runs
 * (src/identity/erasure.ts), from the command line. Prints what was erased by id and the customers
 * left: never an email or phone.
 */
import type { ChangeContext } from '../identity/governance.js';
import { NothingToEraseError, type ErasureOutcome, type ErasureService, type ErasureTarget } from '../identity/erasure.js';
import type { Normaliser } from '../identity/normalise.js';
import type { Parsed } from './blockCommand.js';

export interface EraseOptions {
  email?: string;
  phone?: string;
  contact?: number;
  customer?: number;
}

/** Exactly one target, its value normalised by the table's rules (as requests are). */
export function eraseTargetFrom(options: EraseOptions, normaliser: Normaliser): Parsed<ErasureTarget> {
  const given = (['email', 'phone', 'contact', 'customer'] as const).filter((name) => options[name] !== undefined);
  if (given.length !== 1) return { ok: false, message: 'give exactly one of --email, --phone, --contact or --customer.' };
  if (options.contact !== undefined) return { ok: true, value: { contactId: options.contact } };
  if (options.customer !== undefined) return { ok: true, value: { customerOf: options.customer } };
  const field = options.email !== undefined ? 'email' : 'phoneNumber';
  const normalised = normaliser.field(field, (options.email ?? options.phone) as string);
  if (!normalised.ok || normalised.value === null)
    return { ok: false, message: `--${given[0]}: ${field === 'email' ? 'not a valid email' : 'not a valid phone number'}.` };
  return { ok: true, value: field === 'email' ? { email: normalised.value } : { phoneNumber: normalised.value } };
}

type Out = Pick<NodeJS.WritableStream, 'write'>;

/** 0 when something was erased, 1 when nothing matched. */
export async function runErase(
  erasure: ErasureService,
  target: ErasureTarget,
  context: ChangeContext,
  { out, err }: { out: Out; err: Out },
): Promise<number> {
  try {
    out.write(formatErasure(await erasure.erase(target, context)));
    return 0;
  } catch (error) {
    if (!(error instanceof NothingToEraseError)) throw error;
    err.write('nothing erased: no live contact matches\n');
    return 1;
  }
}

export function formatErasure({ erasedContactIds, customers, splits, blockRulesRemoved }: ErasureOutcome): string {
  const lines = [`erased ${erasedContactIds.length} contact(s): ${erasedContactIds.join(', ')}`];
  lines.push(
    customers.length === 0
      ? 'nothing left of the customer(s)'
      : `customers left: ${customers.map((members) => `${members[0]} (${members.length} contact${members.length === 1 ? '' : 's'})`).join(', ')}`,
  );
  for (const split of splits) lines.push(`customer ${split.ownerId} split into ${split.into.join(', ')}`);
  if (blockRulesRemoved > 0) lines.push(`block rules removed with the erased values: ${blockRulesRemoved}`);
  return `${lines.join('\n')}\n`;
}
