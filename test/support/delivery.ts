/** What the change-event tests share: an empty delivery state, fast settings, and the documented verifier. */
import { readFile } from 'node:fs/promises';
import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Database } from '../../src/db/database.js';
import { DEFAULT_DELIVERY_SETTINGS, type DeliverySettings } from '../../src/delivery/deliverer.js';
import { ChangeEvent } from '../../src/http/eventSchemas.js';

/** Settings for in-process tests: retries in tens of milliseconds, a short poll. */
export const FAST_DELIVERY: DeliverySettings = {
  ...DEFAULT_DELIVERY_SETTINGS,
  pollMs: 20,
  backoffBaseMs: 20,
  backoffCapMs: 200,
  timeoutMs: 500,
  leaseMs: 5_000,
};

/**
 * No endpoints, no dead letters, the watermark at 0: after `scratch.reset()`, which empties the
 * event log and restarts its ids (a log that only grows never needs this).
 */
export async function resetDelivery(db: Database): Promise<void> {
  await db.query('TRUNCATE "WebhookDeadLetter", "WebhookEndpoint" RESTART IDENTITY CASCADE');
  await db.query('UPDATE "EventWatermark" SET "safeThrough" = 0, "pendingThrough" = NULL, "pendingXid" = NULL');
}

type Verifier = (secret: string, headers: Record<string, string | string[] | undefined>, body: string) => boolean;

/** The Node verification snippet of docs/webhooks.md, as printed there, loaded as a module. */
export async function documentedVerifier(): Promise<Verifier> {
  const doc = await readFile(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
  const match = /<!-- snippet: verify-webhook[^>]*-->\n```js\n([\s\S]*?)\n```/.exec(doc);
  if (!match) throw new Error('docs/webhooks.md has no verify-webhook snippet');
  const module = (await import(`data:text/javascript;base64,${Buffer.from(match[1] as string).toString('base64')}`)) as {
    verifyWebhook: Verifier;
  };
  return module.verifyWebhook;
}

/** Checks a payload against the OpenAPI document's ChangeEvent (TypeBox checks formats only once they are registered). */
export function changeEventCheck(): (payload: unknown) => string | null {
  if (!FormatRegistry.Has('date-time'))
    FormatRegistry.Set('date-time', (value) => /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value)));
  const compiled = TypeCompiler.Compile(ChangeEvent);
  return (payload) => (compiled.Check(payload) ? null : JSON.stringify(payload));
}
