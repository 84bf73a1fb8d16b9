// Route schemas: every route declares its path, query, body and answers in zod; fastify's type
// provider (fastify-type-provider-zod) types each handler from them, and openapi.ts makes the
// OpenAPI documents from the same schemas. Validation keeps the hub's error shape and wording
// (parseInput): a bad part is SCHEMA_INVALID naming each field, and on routes whose config says
// `badPathIsNotFound` a malformed path id is NOT_FOUND (it names no document of the caller's).
import type { FastifyError, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { ERRORS, fail, type ErrorCode, type HubError } from '../errors.js';
import { parseInput } from './input.js';
import { DELIVERY_STATES } from '../ledger/store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A path parameter that fails its schema is NOT_FOUND rather than SCHEMA_INVALID. */
    badPathIsNotFound?: boolean;
  }
}

/** The error shape of docs/errors.md. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.array(z.object({ line: z.number().int().optional(), path: z.string().optional(), reason: z.string() })).optional(),
  }),
}).describe('The error shape of docs/errors.md: a stable code, a message naming what and where, and details for a package.');

/** Schemas more than one API shares. */
export const DocId = z.string().regex(/^[0-9a-f]{32}$/, 'a 32-character doc id');
export const HopEntry = z.object({
  hub: z.string(), at: z.string(), verdict: z.enum(['accepted', 'rejected']),
  checks: z.record(z.string(), z.string()).describe('each check: ok or the error code'), ms: z.number().optional(),
});
export const RecipientState = z.object({ organId: z.string(), delivery: z.enum(DELIVERY_STATES), status: z.string().optional() });

/** A query's filters that were given (the ledger's queries take absent filters as absent keys). */
export function givenOnly<T extends Record<string, unknown>>(query: T): T {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as T;
}

/** Raw bytes in an answer (a package). */
export const Bytes = z.custom<Buffer>((v) => Buffer.isBuffer(v)).meta({ type: 'string', format: 'binary' });

/** The error answers a route can give, by HTTP status (codes sharing a status share the entry). */
export function errorsOf(...codes: ErrorCode[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(codes.map((c) => [ERRORS[c].http, ErrorBody]));
}

/** Any agency call: its key, then its rate; UNAVAILABLE while the hub shuts down or fails. */
export const AGENCY_ERRORS: readonly ErrorCode[] = ['UNAUTHENTICATED', 'RATE_LIMITED', 'UNAVAILABLE'];
/** Any admin call: its token and role; UNAVAILABLE while the hub shuts down or fails. */
export const ADMIN_ERRORS: readonly ErrorCode[] = ['UNAUTHENTICATED', 'FORBIDDEN', 'UNAVAILABLE'];

const PARTS: Record<string, string> = { querystring: 'query', params: 'path', body: 'body', headers: 'headers' };

/** A route part checked by its zod schema, worded as parseInput words it. */
export const zodValidator: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => (data: unknown) => {
  // fastify hands an absent body over as null; the schemas (and their defaults) expect undefined.
  const parsed = parseInput(schema, httpPart === 'body' && data === null ? undefined : data, PARTS[httpPart ?? ''] ?? String(httpPart));
  return parsed.ok ? { value: parsed.value } : { error: Object.assign(new Error(parsed.error.message), { hubError: parsed.error }) };
};

/** Answers are serialised as fastify does without a schema: the schemas document them. */
export const jsonSerializer = () => (data: unknown) => JSON.stringify(data);

/** The HubError of a failed route schema, or null for any other error. */
export function validationError(err: FastifyError & { hubError?: HubError }, request: FastifyRequest): HubError | null {
  if (err.hubError === undefined) return null;
  if (err.validationContext === 'params' && request.routeOptions.config.badPathIsNotFound === true) return fail('NOT_FOUND', err.hubError.message).error;
  return err.hubError;
}
