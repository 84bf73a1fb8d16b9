// lgsp sign FILE --key KEY.pem --cert CERT.pem [-o OUT] [--c14n exclusive|inclusive]
import fs from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { fail } from '../errors.js';
import { signPackage } from '../trust/sign.js';
import { readCertificates } from '../trust/x509.js';
import { parseFlags, readInput, readText } from './flags.js';
import { reportError, reportSuccess, type ExitStatus, type Io } from './report.js';

const Flags = z.object({
  key: z.string(),
  cert: z.string(),
  output: z.string().optional(),
  c14n: z.enum(['exclusive', 'inclusive']).default('exclusive'),
  json: z.boolean().default(false),
});

const OPTIONS = {
  key: { type: 'string' },
  cert: { type: 'string' },
  output: { type: 'string', short: 'o' },
  c14n: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export function runSign(args: string[], io: Io): ExitStatus {
  const json = args.includes('--json');
  const parsed = parseFlags(args, OPTIONS, Flags);
  if (!parsed.ok) return reportError(parsed.error, json, io);
  const { flags, files } = parsed.value;
  if (files.length !== 1) return reportError(fail('USAGE', 'usage: lgsp sign FILE --key KEY.pem --cert CERT.pem [-o OUT]').error, json, io);

  const keyPem = readText(flags.key);
  if (!keyPem.ok) return reportError(keyPem.error, json, io);
  let key;
  try {
    key = createPrivateKey(keyPem.value);
  } catch (err) {
    return reportError(fail('USAGE', `${flags.key} is not a readable private key: ${(err as Error).message}`).error, json, io);
  }
  const certPem = readText(flags.cert);
  if (!certPem.ok) return reportError(certPem.error, json, io);
  const certificates = readCertificates(certPem.value, flags.cert);
  if (!certificates.ok) return reportError(certificates.error, json, io);
  const bytes = readInput(files[0]!);
  if (!bytes.ok) return reportError(bytes.error, json, io);

  const signed = signPackage(bytes.value, { key, certificates: certificates.value }, flags.c14n);
  if (!signed.ok) return reportError(signed.error, json, io);
  if (flags.output === undefined) {
    process.stdout.write(signed.value);
    return 0;
  }
  try {
    fs.writeFileSync(flags.output, signed.value);
  } catch (err) {
    return reportError(fail('USAGE', `cannot write ${flags.output}: ${(err as Error).message}`).error, json, io);
  }
  return reportSuccess({ output: flags.output, bytes: signed.value.length }, [`signed package written to ${flags.output}`], json, io);
}
