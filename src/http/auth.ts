// Agency authentication: "Authorization: Bearer <API key>", the key bound to one agency code.
// Keys are kept only as SHA-256 hashes, so a leaked configuration reveals no key.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fail, ok, type Result } from '../errors.js';
import type { AdminRole } from '../config.js';
import { replyError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The calling agency, set by agencyCaller before the route's schemas are checked. */
    agency: string;
    /** The calling admin's name, set by adminCaller before the route's schemas are checked. */
    admin: string;
  }
}

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

/** The request fields agencyCaller and adminCaller fill in. */
export function decorateCallers(app: FastifyInstance): void {
  app.decorateRequest('agency', '');
  app.decorateRequest('admin', '');
}

/**
 * A route's onRequest hook: the caller is authenticated from its headers alone, before a body is
 * read or a schema checked, and the handler gets it as request.agency.
 */
export function agencyCaller(keys: AgencyKeys) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const agency = authenticateAgency(request, keys);
    if (!agency.ok) return replyError(reply, agency.error);
    request.agency = agency.value;
    return undefined;
  };
}

/** As agencyCaller, for an admin holding one of `roles`: the handler gets request.admin (the name). */
export function adminCaller(admins: AdminTokens, agencies: AgencyKeys, roles: readonly AdminRole[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const who = authenticateAdmin(request, admins, agencies, roles);
    if (!who.ok) return replyError(reply, who.error);
    request.admin = who.value.name;
    return undefined;
  };
}
