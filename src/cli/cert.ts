// lgsp cert list|add|rotate|retire|revoke and lgsp crl import|fetch, through a hub's admin API.
import { z } from 'zod';
import { fail, type Result } from '../errors.js';
import { isPem } from '../trust/x509.js';
import { adminClient, answerOf, Connection, CONNECTION_OPTIONS } from './admin-client.js';
import { parseFlags, readInput, readText } from './flags.js';
import { reportError, reportSuccess, type ExitStatus, type Io } from './report.js';

/** What `lgsp cert list` prints of GET /api/admin/certs. */
const CertList = z.object({
  items: z.array(z.object({ fingerprint: z.string(), agency: z.string(), state: z.string(), notAfter: z.string(), subject: z.string() }).loose()),
}).loose();

const Iso = z.iso.datetime({ offset: true });
const DAY_MS = 86_400_000;
const s = { type: 'string' } as const;
const b = { type: 'boolean' } as const;

type Outcome = Result<{ body: Record<string, unknown>; lines: string[] }>;

export async function runCert(args: string[], io: Io, env: NodeJS.ProcessEnv, now: Date): Promise<ExitStatus> {
  const [sub, ...rest] = args;
  const json = args.includes('--json');
  const outcome = await certCommand(sub, rest, env, now);
  return outcome.ok ? reportSuccess(outcome.value.body, outcome.value.lines, json, io) : reportError(outcome.error, json, io);
}

export async function runHubKey(args: string[], io: Io, env: NodeJS.ProcessEnv): Promise<ExitStatus> {
  const [sub, ...rest] = args;
  const json = args.includes('--json');
  const outcome = await hubKeyCommand(sub, rest, env);
  return outcome.ok ? reportSuccess(outcome.value.body, outcome.value.lines, json, io) : reportError(outcome.error, json, io);
}

async function hubKeyCommand(sub: string | undefined, rest: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  if (sub !== 'rotate') return fail('USAGE', 'usage: lgsp hub-key rotate --key KEY.pem --cert CERT.pem [--url HUB] [--token TOKEN]');
  const p = parseFlags(rest, { ...CONNECTION_OPTIONS, key: s, cert: s, json: b }, z.object({ ...Connection, key: z.string(), cert: z.string(), json: z.boolean().optional() }));
  if (!p.ok) return p;
  const keyPem = readText(p.value.flags.key);
  if (!keyPem.ok) return keyPem;
  const certPem = readText(p.value.flags.cert);
  if (!certPem.ok) return certPem;
  const client = adminClient(p.value.flags, env);
  if (!client.ok) return client;
  const r = answerOf(z.object({ fingerprint: z.string(), trustedBy: z.array(z.string()) }).loose(),
    await client.value.call('POST', '/api/admin/hub-key/rotate', { keyPem: keyPem.value, certPem: certPem.value }), 'POST /api/admin/hub-key/rotate');
  if (!r.ok) return r;
  return { ok: true, value: { body: r.value, lines: [`the hub now seals with ${r.value.fingerprint} (trusted by ${r.value.trustedBy.join(', ')})`] } };
}

export async function runCrl(args: string[], io: Io, env: NodeJS.ProcessEnv): Promise<ExitStatus> {
  const [sub, ...rest] = args;
  const json = args.includes('--json');
  const outcome = await crlCommand(sub, rest, env);
  return outcome.ok ? reportSuccess(outcome.value.body, outcome.value.lines, json, io) : reportError(outcome.error, json, io);
}

async function certCommand(sub: string | undefined, rest: string[], env: NodeJS.ProcessEnv, now: Date): Promise<Outcome> {
  if (sub === 'list') {
    const p = parseFlags(rest, { ...CONNECTION_OPTIONS, agency: s, expiring: s, json: b },
      z.object({ ...Connection, agency: z.string().optional(), expiring: z.string().regex(/^\d+d$/, 'days, e.g. 60d').optional(), json: z.boolean().optional() }));
    if (!p.ok) return p;
    const client = adminClient(p.value.flags, env);
    if (!client.ok) return client;
    const query = new URLSearchParams();
    if (p.value.flags.agency) query.set('agency', p.value.flags.agency);
    if (p.value.flags.expiring) query.set('expiring', p.value.flags.expiring);
    const r = answerOf(CertList, await client.value.call('GET', `/api/admin/certs?${query}`), 'GET /api/admin/certs');
    if (!r.ok) return r;
    const { items } = r.value;
    return { ok: true, value: { body: r.value, lines: items.length === 0 ? ['no certificates'] : items.map((c) => `${c.agency}  ${c.state.padEnd(8)}  until ${c.notAfter}  ${c.fingerprint}  ${c.subject}`) } };
  }
  if (sub === 'add' || sub === 'rotate') {
    const p = parseFlags(rest, { ...CONNECTION_OPTIONS, agency: s, cert: s, 'retire-others-at': s, overlap: s, json: b }, z.object({
      ...Connection, agency: z.string(), cert: z.string(), 'retire-others-at': Iso.optional(),
      overlap: z.string().regex(/^\d+d$/, 'days, e.g. 7d').default('7d'), json: z.boolean().optional(),
    }));
    if (!p.ok) return p;
    const f = p.value.flags;
    const pem = readText(f.cert);
    if (!pem.ok) return pem;
    const client = adminClient(f, env);
    if (!client.ok) return client;
    // rotate: the new certificate now, the old ones retiring after the overlap.
    const retireOthersAt = f['retire-others-at'] ?? (sub === 'rotate' ? new Date(now.getTime() + Number.parseInt(f.overlap, 10) * DAY_MS).toISOString() : undefined);
    const r = await client.value.call('POST', '/api/admin/certs', { agency: f.agency, pem: pem.value, ...(retireOthersAt ? { retireOthersAt } : {}) });
    if (!r.ok) return r;
    return { ok: true, value: { body: { ...r.value, ...(retireOthersAt ? { retireOthersAt } : {}) }, lines: [
      `registered ${String(r.value.fingerprint)} for ${f.agency}`, ...(retireOthersAt ? [`its other certificates retire at ${retireOthersAt}`] : []),
    ] } };
  }
  if (sub === 'retire' || sub === 'revoke') {
    const p = parseFlags(rest, { ...CONNECTION_OPTIONS, at: s, reason: s, json: b },
      z.object({ ...Connection, at: Iso.optional(), reason: z.string().optional(), json: z.boolean().optional() }));
    if (!p.ok) return p;
    const [fingerprint] = p.value.files;
    if (fingerprint === undefined) return fail('USAGE', `usage: lgsp cert ${sub} FINGERPRINT [--url URL] [--token TOKEN]`);
    const client = adminClient(p.value.flags, env);
    if (!client.ok) return client;
    const body = sub === 'retire' ? (p.value.flags.at ? { at: p.value.flags.at } : {}) : (p.value.flags.reason ? { reason: p.value.flags.reason } : {});
    const r = await client.value.call('POST', `/api/admin/certs/${fingerprint.toLowerCase().replaceAll(':', '')}/${sub}`, body);
    if (!r.ok) return r;
    return { ok: true, value: { body: r.value, lines: [`${sub === 'retire' ? 'retired' : 'revoked'} ${fingerprint}`] } };
  }
  return fail('USAGE', 'usage: lgsp cert list|add|rotate|retire|revoke (see lgsp help)');
}

async function crlCommand(sub: string | undefined, rest: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  const p = parseFlags(rest, { ...CONNECTION_OPTIONS, json: b }, z.object({ ...Connection, json: z.boolean().optional() }));
  if (!p.ok) return p;
  const [source] = p.value.files;
  if ((sub !== 'import' && sub !== 'fetch') || source === undefined) return fail('USAGE', 'usage: lgsp crl import FILE | lgsp crl fetch URL [--url HUB] [--token TOKEN]');
  let data: Buffer;
  if (sub === 'import') {
    const read = readInput(source);
    if (!read.ok) return read;
    data = read.value;
  } else {
    try {
      const res = await fetch(source);
      if (!res.ok) return fail('UNAVAILABLE', `${source} answered ${res.status}`);
      data = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      return fail('UNAVAILABLE', `cannot fetch ${source}: ${(err as Error).message}`);
    }
  }
  const client = adminClient(p.value.flags, env);
  if (!client.ok) return client;
  const r = await client.value.call('POST', '/api/admin/crls', data, isPem(data) ? 'application/x-pem-file' : 'application/pkix-crl');
  if (!r.ok) return r;
  return { ok: true, value: { body: r.value, lines: [`CRL of ${String(r.value.issuer)} imported: ${String(r.value.revoked)} revoked`] } };
}
