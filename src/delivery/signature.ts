/**
 * Webhook signatures by the Standard Webhooks scheme (https://www.standardwebhooks.com/, the
 * `standardwebhooks` libraries, Svix): headers `webhook-id`, `webhook-timestamp` (Unix seconds)
 * and `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`. A secret
 * `whsec_<base64>` is the scheme's own form: the key is the base64 after the prefix. Any other
 * secret (WEBHOOK_SECRET may be a plain string) is its bytes, what the libraries call the `raw`
 * format. docs/webhooks.md has a verifier of ten lines, which a test runs against real deliveries.
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new endpoint's secret: 32 random bytes in the scheme's own form. */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

export function signingKey(secret: string): Buffer {
  return secret.startsWith(PREFIX) ? Buffer.from(secret.slice(PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

export function sign(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The headers of one delivery attempt, signed now. */
export function webhookHeaders(key: Buffer, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(key, id, timestamp, body),
  };
}
