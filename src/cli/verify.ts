// lgsp verify FILE --trust CA.pem [--trust more.pem] [--crl CRL.pem] [--allow-legacy] [--at ISO]
// The full hop check minus routing (and minus the agency binding, which needs a hub registry).
import { z } from 'zod';
import { fail, ok, type Result } from '../errors.js';
import { checkHop } from '../hop/check.js';
import { loadCrl, type RevocationList } from '../trust/crl.js';
import { buildTrustSnapshot, type TrustSnapshot } from '../trust/store.js';
import { derOf, readCertificates } from '../trust/x509.js';
import { parseFlags, readInput, readText } from './flags.js';
import { reportError, reportSuccess, type ExitStatus, type Io } from './report.js';
import { summarize } from './validate.js';

const Flags = z.object({
  trust: z.array(z.string()).min(1, 'at least one trusted CA file is required'),
  crl: z.array(z.string()).default([]),
  'allow-legacy': z.boolean().default(false),
  at: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
  json: z.boolean().default(false),
});

const OPTIONS = {
  trust: { type: 'string', multiple: true },
  crl: { type: 'string', multiple: true },
  'allow-legacy': { type: 'boolean' },
  at: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function runVerify(args: string[], io: Io, now: Date): Promise<ExitStatus> {
  const json = args.includes('--json');
  const parsed = parseFlags(args, OPTIONS, Flags);
  if (!parsed.ok) return reportError(parsed.error, json, io);
  const { flags, files } = parsed.value;
  if (files.length !== 1) return reportError(fail('USAGE', 'usage: lgsp verify FILE --trust CA.pem [--crl CRL.pem] [--allow-legacy] [--json]').error, json, io);

  const trust = await loadTrust(flags.trust, flags.crl);
  if (!trust.ok) return reportError(trust.error, json, io);
  const bytes = readInput(files[0]!);
  if (!bytes.ok) return reportError(bytes.error, json, io);

  const verdict = checkHop(bytes.value, {
    trust: trust.value, now: flags.at ?? now, allowLegacy: flags['allow-legacy'], requireSignature: true,
  });
  if (!verdict.ok) return reportError(verdict.error, json, io);
  const signer = verdict.signer!;
  const lines = [
    `verified ${verdict.kind} package from ${verdict.header.MessageHeader.From.OrganId}`,
    `signer: ${signer.subject.replaceAll('\n', ', ')}`,
    `fingerprint: ${signer.fingerprint}`,
  ];
  if (verdict.legacy.length > 0) lines.push(`legacy profile: ${verdict.legacy.join(', ')}`);
  return reportSuccess({ ...summarize(verdict.header), digest: verdict.digest, signer, legacy: verdict.legacy }, lines, json, io);
}

async function loadTrust(caFiles: string[], crlFiles: string[]): Promise<Result<TrustSnapshot>> {
  const anchors = [];
  for (const file of caFiles) {
    const text = readText(file);
    if (!text.ok) return text;
    const certs = readCertificates(text.value, file);
    if (!certs.ok) return certs;
    anchors.push(...certs.value);
  }
  const crls: RevocationList[] = [];
  for (const file of crlFiles) {
    const data = readInput(file);
    if (!data.ok) return data;
    const crl = await loadCrl(derOf(data.value), anchors);
    if (!crl.ok) return fail('USAGE', `${file}: ${crl.error.message}`);
    crls.push(crl.value);
  }
  return ok(buildTrustSnapshot({ anchors, crls }));
}
