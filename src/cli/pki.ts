// lgsp pki init|issue|revoke: the development PKI (a CA, agency certificates, a CRL) in a folder.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { fail, ok, type Result } from '../errors.js';
import { parseAgencyCode } from '../agency/code.js';
import { createCrl, createDevCa, issueCertificate, serialOf, type KeyAndCert, type RevokedEntry } from '../pki/dev-pki.js';
import { parseFlags, readText } from './flags.js';
import { reportError, reportSuccess, type ExitStatus, type Io } from './report.js';

const DAY_MS = 86_400_000;
const CRL_VALIDITY_DAYS = 7;
const Iso = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const Days = z.coerce.number().int().positive();

const InitFlags = z.object({
  dir: z.string().default('certs/dev'),
  name: z.string().min(1).default('LGSP Development CA'),
  days: Days.default(3650),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});
const IssueFlags = z.object({
  dir: z.string().default('certs/dev'),
  agency: z.string().refine((c) => parseAgencyCode(c).ok, { message: 'not an agency code of the form DDD.DD.DD.XNN' }),
  name: z.string().min(1).optional(),
  out: z.string().regex(/^[\w.-]+$/, 'a file base name').optional(),
  days: Days.default(365),
  'not-before': Iso.optional(),
  'not-after': Iso.optional(),
  'no-signing-usage': z.boolean().default(false),
  json: z.boolean().default(false),
});
const RevokeFlags = z.object({
  dir: z.string().default('certs/dev'),
  cert: z.string(),
  json: z.boolean().default(false),
});

const s = { type: 'string' } as const;
const b = { type: 'boolean' } as const;

export async function runPki(args: string[], io: Io, now: Date): Promise<ExitStatus> {
  const [sub, ...rest] = args;
  const json = args.includes('--json');
  let result: Result<{ body: Record<string, unknown>; lines: string[] }>;
  if (sub === 'init') {
    const parsed = parseFlags(rest, { dir: s, name: s, days: s, force: b, json: b }, InitFlags);
    result = parsed.ok ? init(parsed.value.flags, now) : parsed;
  } else if (sub === 'issue') {
    const parsed = parseFlags(rest, {
      dir: s, agency: s, name: s, out: s, days: s, 'not-before': s, 'not-after': s, 'no-signing-usage': b, json: b,
    }, IssueFlags);
    result = parsed.ok ? issue(parsed.value.flags, now) : parsed;
  } else if (sub === 'revoke') {
    const parsed = parseFlags(rest, { dir: s, cert: s, json: b }, RevokeFlags);
    result = parsed.ok ? await revoke(parsed.value.flags, now) : parsed;
  } else {
    result = fail('USAGE', 'usage: lgsp pki init|issue|revoke [flags] (see lgsp help)');
  }
  return result.ok ? reportSuccess(result.value.body, result.value.lines, json, io) : reportError(result.error, json, io);
}

const files = (dir: string) => ({
  caCert: path.join(dir, 'ca.cert.pem'),
  caKey: path.join(dir, 'ca.key.pem'),
  crl: path.join(dir, 'crl.pem'),
  revoked: path.join(dir, 'revoked.json'),
});

function init(flags: z.output<typeof InitFlags>, now: Date): Result<{ body: Record<string, unknown>; lines: string[] }> {
  const f = files(flags.dir);
  if (fs.existsSync(f.caCert) && !flags.force) {
    return fail('USAGE', `${f.caCert} exists already (use --force to replace the development CA)`);
  }
  const ca = createDevCa(flags.name, new Date(now.getTime() - DAY_MS), new Date(now.getTime() + flags.days * DAY_MS));
  const written = writeFiles([[f.caKey, ca.keyPem, 0o600], [f.caCert, ca.certPem, 0o644], [f.revoked, '[]\n', 0o644]]);
  if (!written.ok) return written;
  return ok({ body: { caFile: f.caCert, caKeyFile: f.caKey }, lines: [`development CA written to ${f.caCert} (key ${f.caKey})`] });
}

function issue(flags: z.output<typeof IssueFlags>, now: Date): Result<{ body: Record<string, unknown>; lines: string[] }> {
  const ca = readCa(flags.dir);
  if (!ca.ok) return ca;
  const notBefore = flags['not-before'] ?? new Date(now.getTime() - 60_000);
  const notAfter = flags['not-after'] ?? new Date(notBefore.getTime() + flags.days * DAY_MS);
  if (notAfter <= notBefore) return fail('USAGE', '--not-after must be later than --not-before');
  const issued = issueCertificate({
    ca: ca.value, commonName: flags.name ?? `Agency ${flags.agency}`, agency: flags.agency,
    notBefore, notAfter, signing: !flags['no-signing-usage'],
  });
  const base = path.join(flags.dir, flags.out ?? flags.agency);
  const written = writeFiles([[`${base}.key.pem`, issued.keyPem, 0o600], [`${base}.cert.pem`, issued.certPem, 0o644]]);
  if (!written.ok) return written;
  return ok({
    body: { agency: flags.agency, certFile: `${base}.cert.pem`, keyFile: `${base}.key.pem`, serialNumber: serialOf(issued.certPem) },
    lines: [`certificate for ${flags.agency} written to ${base}.cert.pem (key ${base}.key.pem)`],
  });
}

async function revoke(flags: z.output<typeof RevokeFlags>, now: Date): Promise<Result<{ body: Record<string, unknown>; lines: string[] }>> {
  const ca = readCa(flags.dir);
  if (!ca.ok) return ca;
  const certPem = readText(flags.cert);
  if (!certPem.ok) return certPem;
  const f = files(flags.dir);
  const listed = readText(f.revoked);
  const entries: RevokedEntry[] = listed.ok
    ? z.array(z.object({ serialNumber: z.string(), revokedAt: Iso })).parse(JSON.parse(listed.value))
    : [];
  const serialNumber = serialOf(certPem.value);
  if (!entries.some((e) => e.serialNumber === serialNumber)) entries.push({ serialNumber, revokedAt: now });
  const crl = await createCrl(ca.value, entries, now, new Date(now.getTime() + CRL_VALIDITY_DAYS * DAY_MS));
  const written = writeFiles([[f.revoked, JSON.stringify(entries, null, 2) + '\n', 0o644], [f.crl, crl, 0o644]]);
  if (!written.ok) return written;
  return ok({ body: { crlFile: f.crl, revoked: entries.length }, lines: [`revoked serial ${serialNumber}; CRL written to ${f.crl}`] });
}

function readCa(dir: string): Result<KeyAndCert> {
  const f = files(dir);
  const keyPem = readText(f.caKey);
  const certPem = readText(f.caCert);
  if (!keyPem.ok || !certPem.ok) return fail('USAGE', `no development CA in ${dir}: run "lgsp pki init --dir ${dir}" first`);
  return ok({ keyPem: keyPem.value, certPem: certPem.value });
}

function writeFiles(entries: [string, string, number][]): Result<void> {
  try {
    for (const [file, text, mode] of entries) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text, { mode });
    }
    return ok(undefined);
  } catch (err) {
    return fail('USAGE', `cannot write the PKI files: ${(err as Error).message}`);
  }
}
