/**
 * One webhook request (src/delivery/post.ts) against a receiver on this machine: what it answers
 * for each way a receiver can answer, or not.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postWebhook, PostTimeoutError } from '../../src/delivery/post.js';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

describe('a webhook request', () => {
  let server: Server;
  let base: string;
  let handler: Handler = (_request, _body, response) => response.writeHead(204).end();
  const received: { headers: IncomingMessage['headers']; body: string; method: string | undefined; port: number | undefined }[] = [];

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body, method: request.method, port: request.socket.remotePort });
        handler(request, body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const post = (path = '/hook', options: { signal?: AbortSignal; timeoutMs?: number } = {}) =>
    postWebhook(`${base}${path}`, { 'content-type': 'application/json', 'webhook-id': '7' }, '{"id":"7"}', {
      signal: options.signal ?? new AbortController().signal,
      timeoutMs: options.timeoutMs ?? 2_000,
    });

  it('POSTs the body with its headers and a content-length, and answers the status', async () => {
    handler = (_request, _body, response) => response.writeHead(204).end();
    assert.equal(await post(), 204);
    const last = received.at(-1);
    assert.equal(last?.method, 'POST');
    assert.equal(last?.body, '{"id":"7"}');
    assert.equal(last?.headers['webhook-id'], '7');
    assert.equal(last?.headers['content-length'], '10');
  });

  it('reads and throws away an answer with a body, then reuses the connection', async () => {
    handler = (_request, _body, response) => response.writeHead(200).end('x'.repeat(100_000));
    assert.equal(await post(), 200);
    assert.equal(await post(), 200);
    const [first, second] = received.slice(-2);
    assert.equal(second?.port, first?.port, 'both requests went over one kept-alive connection');
  });

  it('does not follow a redirect: a 3xx is the answer', async () => {
    handler = (_request, _body, response) => response.writeHead(307, { location: '/elsewhere' }).end();
    assert.equal(await post(), 307);
  });

  it('fails with a timeout when no answer comes in time', async () => {
    handler = () => {}; // never answers
    await assert.rejects(post('/hook', { timeoutMs: 100 }), PostTimeoutError);
  });

  it('fails with a timeout when the answer starts but does not end in time', async () => {
    handler = (_request, _body, response) => {
      response.writeHead(200);
      response.write('partial');
    };
    await assert.rejects(post('/hook', { timeoutMs: 100 }), PostTimeoutError);
  });

  it('fails with the socket error code when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(
      postWebhook(`http://127.0.0.1:${port}/hook`, {}, '{}', { signal: new AbortController().signal, timeoutMs: 2_000 }),
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    );
  });

  it('stops when its signal aborts', async () => {
    handler = () => {};
    const stop = new AbortController();
    const pending = post('/hook', { signal: stop.signal, timeoutMs: 5_000 });
    setTimeout(() => stop.abort(), 50);
    await assert.rejects(pending, (error: Error) => error.name === 'AbortError');
  });
});
