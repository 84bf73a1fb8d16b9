// Agency authentication: "Authorization: Bearer <API key>", the key bound to one agency code.
// Keys are kept only as SHA-256 hashes, so a leaked configuration reveals no key.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { fail, ok, type Result } from '../errors.js';

export type AgencyKeys = ReadonlyMap<string, string>; // key hash → agency code

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function authenticateAgency(request: FastifyRequest, keys: AgencyKeys): Result<string> {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) return fail('UNAUTHENTICATED', 'missing "Authorization: Bearer <API key>"');
  const agency = keys.get(hashApiKey(match[1]!));
  return agency === undefined ? fail('UNAUTHENTICATED', 'unknown API key') : ok(agency);
}
