// Agency authentication: "Authorization: Bearer <API key>", the key bound to one agency code.
// Keys are kept only as SHA-256 hashes, so a leaked configuration reveals no key.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { fail, ok, type Result } from '../errors.js';
import type { AdminRole } from '../config.js';

export type AgencyKeys = ReadonlyMap<string, string>; // key hash → agency code (live: agencies may be added)

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface AdminIdentity { name: string; roles: readonly AdminRole[] }
export type AdminTokens = ReadonlyMap<string, AdminIdentity>; // token hash → admin

/** The token of "Authorization: Bearer <token>", or null. */
export function bearerToken(request: FastifyRequest): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1] ?? null;
}

/**
 * Admin routes: a known admin token holding one of `roles`. An agency's API key is refused with
 * FORBIDDEN (it is a valid credential, just not for this), an unknown token with UNAUTHENTICATED.
 */
export function authenticateAdmin(
  request: FastifyRequest, admins: AdminTokens, agencies: AgencyKeys, roles: readonly AdminRole[],
): Result<AdminIdentity> {
  const token = bearerToken(request);
  if (token === null) return fail('UNAUTHENTICATED', 'missing "Authorization: Bearer <admin token>"');
  const hash = hashApiKey(token);
  const admin = admins.get(hash);
  if (admin === undefined) {
    return agencies.has(hash) ? fail('FORBIDDEN', 'an agency API key cannot reach admin routes') : fail('UNAUTHENTICATED', 'unknown admin token');
  }
  if (!admin.roles.some((r) => roles.includes(r))) return fail('FORBIDDEN', `this needs the ${roles.join(' or ')} role`);
  return ok(admin);
}

export function authenticateAgency(request: FastifyRequest, keys: AgencyKeys): Result<string> {
  const token = bearerToken(request);
  if (token === null) return fail('UNAUTHENTICATED', 'missing "Authorization: Bearer <API key>"');
  const agency = keys.get(hashApiKey(token));
  return agency === undefined ? fail('UNAUTHENTICATED', 'unknown API key') : ok(agency);
}
