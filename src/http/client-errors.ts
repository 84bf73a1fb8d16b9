// Errors Node's HTTP layer finds before any route runs (a slow client's timeout, oversized or
// unparseable headers), answered in the CONTRACT.md error shape; then the connection is closed.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { ERRORS, type ErrorCode } from '../errors.js';

const CLIENT_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time; the connection is closed' },
  HPE_HEADER_OVERFLOW: { code: 'PAYLOAD_TOO_LARGE', message: 'the request headers are over the size limit' },
};
const MALFORMED = { code: 'MALFORMED_HTTP', message: 'not a valid HTTP/1.1 request' } as const;

/** fastify's clientErrorHandler: `this` is the fastify instance. */
export function answerClientError(this: { log: FastifyBaseLogger }, err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, message } = CLIENT_ERRORS[err.code ?? ''] ?? MALFORMED;
  this.log.debug({ code, cause: err.code }, 'client error');
  const status = ERRORS[code].http;
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroy();
}
