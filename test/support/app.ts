/** A real application over a scratch database, driven with Fastify's inject (no sockets). */
import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Database } from '../../src/db/database.js';
import { buildApp, type AppOptions } from '../../src/http/app.js';
import type { ResponseFormat } from '../../src/http/routes/identify.js';
import { createServices } from '../../src/services.js';
import type { ScratchDatabase } from './databases.js';

/**
 * `buildApp` for in-process tests: no shedding on event-loop lag unless a test asks for it. Their
 * PGlite runs on the test's own thread, so on a slow machine one long statement lags the loop
 * past the threshold and a correctness test would be answered 503 OVERLOADED; shedding has its
 * own suite (admission).
 */
export function buildInProcessApp(options: AppOptions): Promise<FastifyInstance> {
  return buildApp({ ...options, http: { maxEventLoopDelayMs: 0, ...options.http } });
}

/** The service as it runs by default (governance on, the size cap at its default), with the admin API open. */
export function buildTestApp(db: Database, responseFormat: ResponseFormat = 'customer'): Promise<FastifyInstance> {
  return buildInProcessApp({ db, ...createServices(db), responseFormat, logLevel: 'silent', http: { adminApiOpen: true } });
}

/**
 * Inside a suite: one app over the suite's scratch database for all its tests, and an empty
 * `Contact` table (ids from 1) before each test. Returns a getter for the app.
 */
export function useTestApp(scratch: () => ScratchDatabase): () => FastifyInstance {
  let app: FastifyInstance | undefined;
  before(async () => {
    app = await buildTestApp(scratch().db);
  });
  after(() => app?.close());
  beforeEach(() => scratch().reset());
  return () => {
    if (!app) throw new Error('the test app is not built yet');
    return app;
  };
}

export function postIdentify(app: FastifyInstance, body: unknown): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/identify', payload: body as object });
}

export interface StoredRow {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  linkPrecedence: string;
  linkedId: number | null;
}

/** The table as the examples show it: (id, email, phoneNumber, linkPrecedence, linkedId). */
export function storedRows(db: Database): Promise<StoredRow[]> {
  return db.query<StoredRow>(`SELECT "id", "email", "phoneNumber", "linkPrecedence", "linkedId" FROM "Contact" ORDER BY "id"`);
}

/** An answer in the error shape: this status, this code, and a message for people. */
export function assertError(response: Pick<LightMyRequestResponse, 'statusCode' | 'body' | 'json'>, status: number, code: string): void {
  assert.equal(response.statusCode, status, response.body);
  const { error } = response.json() as { error: { code: string; message: unknown } };
  assert.equal(error.code, code);
  assert.equal(typeof error.message, 'string');
  assert.ok((error.message as string).length > 0);
}

/**
 * Inside a suite: two apps over the suite's database for the admin API's access rules — one with
 * no admin keys (so refusing with 403 ADMIN_DISABLED), one with `keys` — and an empty table before
 * each test.
 */
export function useAdminAccessApps(
  scratch: () => ScratchDatabase,
  keys: { apiKeys: string[]; adminApiKeys: string[] },
): { closed: () => FastifyInstance; keyed: () => FastifyInstance } {
  let closed: FastifyInstance | undefined;
  let keyed: FastifyInstance | undefined;
  before(async () => {
    const services = createServices(scratch().db);
    closed = await buildInProcessApp({ db: scratch().db, ...services, responseFormat: 'customer', logLevel: 'silent' });
    keyed = await buildInProcessApp({ db: scratch().db, ...services, responseFormat: 'customer', logLevel: 'silent', http: keys });
  });
  after(async () => {
    await closed?.close();
    await keyed?.close();
  });
  beforeEach(() => scratch().reset());
  const built = (app: FastifyInstance | undefined) => {
    if (!app) throw new Error('the test apps are not built yet');
    return app;
  };
  return { closed: () => built(closed), keyed: () => built(keyed) };
}
