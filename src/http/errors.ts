/**
 * Errors are part of the API: every failure leaves as `{"error":{"code","message"}}`. One error
 * type for what we mean to say, and one handler that maps everything else onto it.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { classifyDatabaseError } from '../db/errors.js';
import { NormalFormChangedError } from '../identity/normalise.js';
import { createOutageLog } from './outageLog.js';
import { MAX_SUSPECTS, RULE_MESSAGE } from './adminSchemas.js';
import { BODY_TOO_LARGE_MESSAGE, CONTACT_ID_MESSAGE, PAGE_MESSAGE } from './schemas.js';
import { UNMERGE_MESSAGE } from './unmergeSchemas.js';

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Headers the answer must carry, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
    /** Fields a program needs beside the code, sent inside `error` (e.g. the two customers' ids). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/**
 * 409 NEEDS_REPAIR: the customers a request touches have links the service does not decide on
 * (a chain or a cycle, left by another writer). Not the caller's fault and not transient: an
 * operator runs `repair`. The ids are logged at error level so that the alert says which.
 */
export function brokenLinksError(contactIds: readonly number[]): AppError {
  return new AppError(
    409,
    'NEEDS_REPAIR',
    `The links of contacts ${contactIds.join(', ')} are broken (a chain or a cycle); nothing was written. An operator must run \`identity-service repair\`.`,
    {},
    { contactIds: [...contactIds] },
  );
}

/** 422 BLOCKED_IDENTIFIER: every identifier of the request is blocked. Names the fields, never the values. */
export function blockedIdentifierError(fields: readonly string[]): AppError {
  const which = fields.length > 1 ? `${fields.join(' and ')} are` : `${fields[0] ?? 'the identifier'} is`;
  return new AppError(
    422,
    'BLOCKED_IDENTIFIER',
    `The request's ${which} blocked (a value that identifies no one), and it has no other identifier; nothing was written.`,
  );
}

export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

/** Fastify's own client errors, renamed to our codes and told in our words. */
const FASTIFY_CODES: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The body must be sent as application/json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', message: BODY_TOO_LARGE_MESSAGE },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', message: 'The body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', message: 'The body is empty; send a JSON object.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH', message: 'Content-Length does not match the body.' },
};

/**
 * Schema failures name the field that is wrong, so clients can fix the right thing. The schemas
 * check types and shapes only; the rules of each value are the normaliser's, with its own words.
 */
const PAGE_ERROR = { code: 'INVALID_PAGE', message: PAGE_MESSAGE };
const RULE_ERROR = { code: 'INVALID_RULE', message: RULE_MESSAGE };
const UNMERGE_ERROR = { code: 'INVALID_UNMERGE', message: UNMERGE_MESSAGE };
const FIELD_ERRORS: Record<string, { code: string; message: string }> = {
  '/email': { code: 'INVALID_EMAIL', message: 'email must be a string or null.' },
  '/phoneNumber': { code: 'INVALID_PHONE_NUMBER', message: 'phoneNumber must be a string, a non-negative integer or null.' },
  '/id': { code: 'INVALID_CONTACT_ID', message: CONTACT_ID_MESSAGE },
  '/contactsOffset': PAGE_ERROR,
  '/contactsLimit': PAGE_ERROR,
  // The admin API's block rules.
  '/field': RULE_ERROR,
  '/match': RULE_ERROR,
  '/value': RULE_ERROR,
  '/reason': RULE_ERROR,
  '/ruleId': { code: 'INVALID_RULE_ID', message: 'The rule id must be a positive integer.' },
  '/name': { code: 'UNKNOWN_PRESET', message: 'The only preset is `recommended`.' },
  '/limit': { code: 'INVALID_LIMIT', message: `limit must be 1 to ${MAX_SUSPECTS}.` },
  // Unmerge and separations (admin API).
  '/mergeEventId': UNMERGE_ERROR,
  '/contactIds': UNMERGE_ERROR,
  '/contactIds/0': UNMERGE_ERROR,
  '/contactIds/1': UNMERGE_ERROR,
  '/separationId': { code: 'INVALID_SEPARATION_ID', message: 'The separation id must be a positive integer.' },
};

export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const [first] = fastifyError.validation;
    // A missing required field is reported at its parent; the field's own message says what it needs.
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const fieldError = FIELD_ERRORS[missing === undefined ? (first?.instancePath ?? '') : `${first?.instancePath ?? ''}/${missing}`];
    if (fieldError) return new AppError(400, fieldError.code, fieldError.message);
    return new AppError(400, 'INVALID_BODY', 'The body must be a JSON object.');
  }
  const renamed = FASTIFY_CODES[fastifyError.code ?? ''];
  const status = fastifyError.statusCode ?? 500;
  if (renamed) return new AppError(status, renamed.code, renamed.message);
  // Fastify's own words may quote the request; ours never do.
  if (status >= 400 && status < 500) return new AppError(status, 'BAD_REQUEST', 'The request is not valid.');
  if (error instanceof NormalFormChangedError) {
    return new AppError(503, 'NORMAL_FORM_CHANGED', "The table's matching rules changed; this process must be restarted with them.");
  }
  const failure = classifyDatabaseError(error);
  if (failure === 'unavailable') {
    return new AppError(503, 'DATABASE_UNAVAILABLE', 'The database is not reachable; try again shortly.', { 'retry-after': '1' });
  }
  if (failure === 'busy') {
    return new AppError(503, 'DATABASE_BUSY', 'Every database connection stayed busy for the whole wait; try again shortly.', {
      'retry-after': '1',
    });
  }
  return new AppError(500, 'INTERNAL_ERROR', 'An unexpected error occurred.');
}

/** Answers that show the database worked: a 2xx of a route that reads or writes it. */
const DATABASE_ROUTES = new Set(['/identify', '/customers/lookup', '/customers/:id', '/ready']);
const OUTAGE_CODES = new Set(['DATABASE_UNAVAILABLE', 'DATABASE_BUSY']);

export function registerErrorHandling(app: FastifyInstance): void {
  const outage = createOutageLog(app.log);
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode < 300 && DATABASE_ROUTES.has(request.routeOptions.url ?? '')) outage.succeeded();
    done();
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (OUTAGE_CODES.has(appError.code)) outage.failed(appError.code, error);
    else if (appError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    if (appError.code === 'NEEDS_REPAIR')
      request.log.error({ contactIds: appError.details.contactIds }, 'broken links: run `identity-service repair`');
    const body: ErrorBody = { error: { ...appError.details, code: appError.code, message: appError.message } };
    return reply.status(appError.statusCode).headers(appError.headers).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    // Nothing of the request is repeated: its query string may hold an email or a phone number.
    const body: ErrorBody = { error: { code: 'NOT_FOUND', message: 'There is no such route.' } };
    return reply.status(404).send(body);
  });
}
