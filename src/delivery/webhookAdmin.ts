/**
 * The admin use cases of webhooks: endpoints (from WEBHOOK_URLS, or added and removed through
 * the admin API), their dead letters, and redelivery.
 */
import { newSecret } from './signature.js';
import type { DeadLetter, DeliveryStore, Endpoint } from './store.js';

export const MAX_URL_LENGTH = 2000;

export class InvalidWebhookUrlError extends Error {
  override name = 'InvalidWebhookUrlError';
}

/**
 * An endpoint URL: absolute http(s), without credentials (they would travel in every request; a secret belongs
 * in the signature), at most MAX_URL_LENGTH characters. The message never repeats the URL.
 */
export function checkWebhookUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidWebhookUrlError('url must be an absolute http:// or https:// URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new InvalidWebhookUrlError('url must be an absolute http:// or https:// URL.');
  if (parsed.username !== '' || parsed.password !== '') throw new InvalidWebhookUrlError('url must not hold a user name or password.');
  if (url.length > MAX_URL_LENGTH) throw new InvalidWebhookUrlError(`url must be at most ${MAX_URL_LENGTH} characters.`);
  return url;
}

export type RemoveOutcome = { kind: 'removed'; endpoint: Endpoint } | { kind: 'notFound' } | { kind: 'configured' };

export interface WebhookAdmin {
  list(): Promise<Endpoint[]>;
  /** Adds an endpoint that gets the events from now on, with a new secret (shown once); null if the URL has one already. */
  add(url: string): Promise<{ endpoint: Endpoint; secret: string } | null>;
  /** Endpoints from WEBHOOK_URLS are removed by removing them there. */
  remove(id: number): Promise<RemoveOutcome>;
  /** Null when there is no such endpoint. */
  deadLetters(id: number, after: string, limit: number): Promise<DeadLetter[] | null>;
  /** Null when the endpoint has no dead letter for this event. */
  redeliver(id: number, eventId: string): Promise<DeadLetter | null>;
}

export interface WebhookAdminOptions {
  /** Called after a change the local deliverer should act on at once (an endpoint added, a redelivery). */
  onChange?: () => void;
}

export function createWebhookAdmin(store: DeliveryStore, { onChange }: WebhookAdminOptions = {}): WebhookAdmin {
  const exists = async (id: number) => (await store.listEndpoints()).some((endpoint) => endpoint.id === id);
  return {
    list: () => store.listEndpoints(),
    async add(url) {
      const secret = newSecret();
      const endpoint = await store.addEndpoint(checkWebhookUrl(url), secret, 'admin');
      if (endpoint === null) return null;
      onChange?.();
      return { endpoint, secret };
    },
    async remove(id) {
      const endpoint = (await store.listEndpoints()).find((candidate) => candidate.id === id);
      if (endpoint === undefined) return { kind: 'notFound' };
      if (endpoint.source === 'config') return { kind: 'configured' };
      const removed = await store.removeEndpoint(id);
      return removed === null ? { kind: 'notFound' } : { kind: 'removed', endpoint: removed };
    },
    async deadLetters(id, after, limit) {
      if (!(await exists(id))) return null;
      return store.deadLetters(id, after, limit);
    },
    async redeliver(id, eventId) {
      const deadLetter = await store.redeliver(id, eventId);
      if (deadLetter !== null) onChange?.();
      return deadLetter;
    },
  };
}
