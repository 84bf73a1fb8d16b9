// zod at the HTTP boundary: query strings, paths and JSON bodies become typed values or a
// SCHEMA_INVALID error naming each field.
import type { z } from 'zod';
import { fail, type HubError } from '../errors.js';

export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: string): { ok: true; value: z.output<T> } | { ok: false; error: HubError } {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, value: r.data }
    : fail('SCHEMA_INVALID', `invalid ${where}: ${r.error.issues.map((i) => `${i.path.join('.') || where}: ${i.message}`).join('; ')}`);
}
