/**
 * Errors that never reach the error handler: the HTTP parser's (a header block too large, a
 * malformed request, a request that took too long) and Fastify's router's (a URL that does not
 * decode). They leave in the one error shape too, and, like every error, echo nothing the client
 * sent.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from './errors.js';

interface EdgeError {
  status: number;
  code: string;
  message: string;
}

function edgeErrorOf(code: string | undefined): EdgeError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, code: 'REQUEST_TIMEOUT', message: 'The request was not received in time.' };
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, code: 'HEADERS_TOO_LARGE', message: 'The request headers are too large.' };
  }
  return { status: 400, code: 'BAD_REQUEST', message: 'The request is not valid HTTP.' };
}

/** Fastify's `clientErrorHandler`: answers on the raw socket, then closes it. */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } = edgeErrorOf(error.code);
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Fastify's `frameworkErrors`: a URL that does not decode (`/customers/%zz`), and its kin. */
export function answerFrameworkError(_error: Error, _request: FastifyRequest, reply: FastifyReply): void {
  const body: ErrorBody = { error: { code: 'BAD_URL', message: 'The URL is not valid: check its percent-encoding.' } };
  void reply.code(400).send(body);
}
