// The one place where a HubError becomes an HTTP reply (CONTRACT.md's error shape).
import type { FastifyReply } from 'fastify';
import { ERRORS, type HubError } from '../errors.js';

export function replyError(reply: FastifyReply, error: HubError): FastifyReply {
  const body: { code: string; message: string; details?: HubError['details'] } = { code: error.code, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  return reply.code(ERRORS[error.code].http).type('application/json').send({ error: body });
}
