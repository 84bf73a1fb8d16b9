// The one place where a HubError becomes an HTTP reply (CONTRACT.md's error shape).
import type { FastifyReply } from 'fastify';
import { ERRORS, type HubError } from '../errors.js';
import { SDK_ERROR_CODES, type SdkError } from './sdk-error-codes.js';
import { sdkJsonText } from './sdk-signature.js';

export function replyError(reply: FastifyReply, error: HubError): FastifyReply {
  const body: { code: string; message: string; details?: HubError['details'] } = { code: error.code, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  return reply.code(ERRORS[error.code].http).type('application/json').send({ error: body });
}

/**
 * How a /vxp call fails: the JSON FAIL object; for sendEdoc with an empty DocId (the SDK reads
 * DocId from every answer); for downloadEdoc with no body at all, since the SDK saves any body
 * as the document and reports SUCCESS when it is not empty. The FAIL object then travels in the
 * XroadVnpt-result header.
 */
export type SdkFailShape = 'json' | 'sendEdoc' | 'download';

/** The national SDK dialect's FAIL shape (/vxp), with the HTTP status of the hub code. */
export function replySdkError(reply: FastifyReply, error: SdkError, shape: SdkFailShape = 'json'): FastifyReply {
  const name = error.reason ?? error.code;
  // The dialect has no details field: where in the package each problem is goes into ErrorDesc.
  const details = (error.details ?? []).map((d) => [d.line === undefined ? '' : `line ${d.line}`, d.path, d.reason].filter(Boolean).join(' '));
  const desc = `${name}: ${error.message}${details.length > 0 ? ` (${details.join('; ')})` : ''}`;
  const body = { status: 'FAIL', ErrorCode: SDK_ERROR_CODES[name], ErrorDesc: desc, ...(shape === 'sendEdoc' ? { DocId: '' } : {}) };
  reply.code(ERRORS[error.code].http);
  if (shape === 'download') return reply.header('XroadVnpt-result', sdkJsonText(body)).send();
  return reply.type('application/json; charset=utf-8').send(sdkJsonText(body));
}
