/**
 * One webhook request: POST `body` to `url` and answer its status, never reading the answer's body.
 *
 * node:http / node:https over keep-alive agents rather than `fetch`: measured on Node 20, a POST
 * through `fetch` (with the per-request abort signals it needs) cost the sending process about
 * 200 µs of CPU and one through node:http about 65 µs, and a process delivering 1,700 events a
 * second shares its cores with the /identify writes that make them (docs/webhooks.md).
 */
import http from 'node:http';
import https from 'node:https';

/** Idle sockets are unref'd by the agents, so they never keep a process alive. */
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/** What the request failed with: `timeout`, or the socket's error (its `code`, ECONNREFUSED, …). */
export class PostTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Resolves with the answer's status once the whole answer has arrived (and was thrown away);
 * rejects with PostTimeoutError after `timeoutMs` in all, with an AbortError when `signal` aborts,
 * or with the socket's error. Redirects are not followed (a 3xx is just a status).
 */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  { signal, timeoutMs }: { signal: AbortSignal; timeoutMs: number },
): Promise<number> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:'];
  return new Promise((resolve, reject) => {
    let settled = false;
    let timedOut = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      finish();
    };
    const failWith = (error: Error) => settle(() => reject(timedOut ? new PostTimeoutError(`no answer within ${timeoutMs} ms`) : error));
    const request = client.request(
      target,
      { method: 'POST', agent, signal, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.on('end', () => settle(() => resolve(response.statusCode ?? 0)));
        response.on('error', failWith);
        response.resume();
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy();
    }, timeoutMs);
    request.on('error', failWith);
    // Closed before the answer's end without an error (a destroyed request, a reset answer).
    request.on('close', () => failWith(new Error('connection closed')));
    request.end(body);
  });
}
