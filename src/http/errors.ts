// The one place where a HubError becomes an HTTP reply (CONTRACT.md's error shape).
import type { FastifyReply } from 'fastify';
import { ERRORS, type HubError } from '../errors.js';
import { SDK_ERROR_CODES, type SdkError } from './sdk-error-codes.js';

export function replyError(reply: FastifyReply, error: HubError): FastifyReply {
  const body: { code: string; message: string; details?: HubError['details'] } = { code: error.code, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  return reply.code(ERRORS[error.code].http).type('application/json').send({ error: body });
}

/** The national SDK dialect's FAIL shape (/vxp), with the HTTP status of the hub code. */
export function replySdkError(reply: FastifyReply, error: SdkError): FastifyReply {
  const name = error.reason ?? error.code;
  // The dialect has no details field: where in the package each problem is goes into ErrorDesc.
  const details = (error.details ?? []).map((d) => [d.line === undefined ? '' : `line ${d.line}`, d.path, d.reason].filter(Boolean).join(' '));
  const desc = `${name}: ${error.message}${details.length > 0 ? ` (${details.join('; ')})` : ''}`;
  return reply.code(ERRORS[error.code].http).type('application/json')
    .send({ status: 'FAIL', ErrorCode: SDK_ERROR_CODES[name], ErrorDesc: desc });
}
