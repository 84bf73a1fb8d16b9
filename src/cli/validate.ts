// lgsp validate FILE: XSD and edXML rules.
import { z } from 'zod';
import { fail } from '../errors.js';
import { parsePackage } from '../edxml/package.js';
import type { PackageHeader } from '../edxml/header.js';
import { parseFlags, readInput } from './flags.js';
import { reportError, reportSuccess, type ExitStatus, type Io } from './report.js';

const Flags = z.object({ json: z.boolean().default(false) });

export function runValidate(args: string[], io: Io): ExitStatus {
  const parsed = parseFlags(args, { json: { type: 'boolean' } }, Flags);
  if (!parsed.ok) return reportError(parsed.error, args.includes('--json'), io);
  const { flags, files } = parsed.value;
  if (files.length !== 1) return reportError(fail('USAGE', 'usage: lgsp validate FILE [--json]').error, flags.json, io);
  const bytes = readInput(files[0]!);
  if (!bytes.ok) return reportError(bytes.error, flags.json, io);
  const pkg = parsePackage(bytes.value);
  if (!pkg.ok) return reportError(pkg.error, flags.json, io);
  pkg.value.doc.dispose();
  const summary = summarize(pkg.value.header);
  return reportSuccess(summary, [`valid ${summary.kind} package from ${summary.from} to ${summary.to.join(', ')}`], flags.json, io);
}

export function summarize(header: PackageHeader): { kind: string; from: string; to: string[]; subject?: string; statusCode?: string } {
  const from = header.MessageHeader.From.OrganId;
  if (header.kind === 'status') {
    const h = header.MessageHeader;
    return { kind: 'status', from, to: [h.ResponseFor.OrganId], statusCode: h.StatusCode };
  }
  const h = header.MessageHeader;
  return { kind: 'edoc', from, to: h.To.map((t) => t.OrganId), subject: h.Subject };
}
