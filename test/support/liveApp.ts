/** The real application on a socket (a random loopback port), for clients that need one: browsers. */
import type { FastifyInstance } from 'fastify';
import type { AppOptions } from '../../src/http/app.js';
import { createServices } from '../../src/services.js';
import { buildInProcessApp } from './app.js';

export interface LiveApp {
  app: FastifyInstance;
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
}

export async function listenOnRandomPort(options: Pick<AppOptions, 'db'> & Partial<AppOptions>): Promise<LiveApp> {
  const app = await buildInProcessApp({
    ...createServices(options.db),
    responseFormat: 'customer',
    logLevel: 'silent',
    ...options,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the app is not listening on a TCP port');
  return { app, baseUrl: `http://127.0.0.1:${address.port}` };
}

/** POST /identify over HTTP; rejects unless the service answers 200. */
export async function identifyOver(
  baseUrl: string,
  body: { email?: string; phoneNumber?: string },
  headers: Record<string, string> = {},
): Promise<void> {
  const response = await fetch(`${baseUrl}/identify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`POST /identify answered ${response.status}: ${await response.text()}`);
}
