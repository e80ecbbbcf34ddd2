/** A real application over a scratch database, driven with Fastify's inject (no sockets). */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Database } from '../../src/db/database.js';
import { buildApp } from '../../src/http/app.js';
import type { ResponseFormat } from '../../src/http/routes/identify.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';

export function buildTestApp(db: Database, responseFormat: ResponseFormat = 'customer'): Promise<FastifyInstance> {
  return buildApp({ db, identifyService: createIdentifyService(db), responseFormat, logLevel: 'silent' });
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
  return db.query<StoredRow>(
    `SELECT "id", "email", "phoneNumber", "linkPrecedence", "linkedId" FROM "Contact" ORDER BY "id"`,
  );
}
