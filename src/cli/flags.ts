// CLI flags: node:util parseArgs reads them, a zod schema per command types and checks them.
import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import { fail, ok, type Result } from '../errors.js';

export interface Parsed<T> { flags: T; files: string[] }

export function parseFlags<S extends z.ZodType>(
  args: string[], options: NonNullable<ParseArgsConfig['options']>, schema: S,
): Result<Parsed<z.output<S>>> {
  let values: unknown;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true }));
  } catch (err) {
    return fail('USAGE', (err as Error).message);
  }
  const checked = schema.safeParse(values);
  if (!checked.success) {
    return fail('USAGE', checked.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return ok({ flags: checked.data, files: positionals });
}

export function readInput(file: string): Result<Buffer> {
  try {
    return ok(fs.readFileSync(file));
  } catch (err) {
    return fail('USAGE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function readText(file: string): Result<string> {
  const bytes = readInput(file);
  return bytes.ok ? ok(bytes.value.toString('utf8')) : bytes;
}
