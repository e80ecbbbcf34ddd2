/**
 * A webhook receiver for the tests: node:http on 127.0.0.1 (a random port), recording every
 * request it answers. It can be told to answer 2xx (`ok`), 500 (`fail`), never answer (`stall`,
 * until the sender's timeout), or refuse connections (`refuse`: it stops listening, and listens
 * again on the same port when told anything else).
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ReceiverMode = 'ok' | 'fail' | 'stall' | 'refuse';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** Milliseconds since the receiver started. */
  at: number;
  /** The status it was answered with (null: stalled, never answered). */
  status: number | null;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** The bodies answered 2xx, parsed. */
  accepted(): { id: string; type: string; [key: string]: unknown }[];
  setMode(mode: ReceiverMode): Promise<void>;
  /** Waits until `predicate` holds (checked every 20 ms), or fails after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver({
  delayMs = 0,
  status = 204,
}: { delayMs?: number; status?: number } = {}): Promise<WebhookReceiver> {
  const started = Date.now();
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const stalled = new Set<ServerResponse>();
  let mode: ReceiverMode = 'ok';
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const record: ReceivedRequest = {
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now() - started,
        status: null,
      };
      requests.push(record);
      if (mode === 'stall') {
        stalled.add(response);
        return;
      }
      const answer = () => {
        record.status = mode === 'fail' ? 500 : status;
        response.writeHead(record.status, { 'content-type': 'text/plain' }).end(mode === 'fail' ? 'a body the sender must not keep' : '');
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const stopListening = async () => {
    for (const response of stalled) response.destroy();
    stalled.clear();
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    accepted: () => requests.filter((r) => r.status !== null && r.status < 300).map((r) => JSON.parse(r.body)),
    async setMode(next) {
      if (next === 'refuse') await stopListening();
      else if (!server.listening) {
        server.listen(port, '127.0.0.1');
        await once(server, 'listening');
      }
      if (next !== 'stall') {
        for (const response of stalled) response.destroy();
        stalled.clear();
      }
      mode = next;
    },
    async waitFor(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: stopListening,
  };
}
