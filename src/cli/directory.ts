// lgsp agency close|move|import and lgsp hub retire: the agency directory after a restructuring
// (docs/directory.md), through a hub's admin API, so that every hub of the network applies it live.
import { z } from 'zod';
import { fail, type Result } from '../errors.js';
import { adminClient, answerOf, Connection, CONNECTION_OPTIONS } from './admin-client.js';
import { parseFlags, readInput } from './flags.js';
import { reportError, reportSuccess, type ExitStatus, type Io } from './report.js';

const s = { type: 'string' } as const;
const b = { type: 'boolean' } as const;
const Iso = z.iso.datetime({ offset: true });
const Json = { json: z.boolean().optional() };

type Outcome = Result<{ body: Record<string, unknown>; lines: string[] }>;

const report = (outcome: Outcome, json: boolean, io: Io) =>
  (outcome.ok ? reportSuccess(outcome.value.body, outcome.value.lines, json, io) : reportError(outcome.error, json, io));

export async function runAgency(args: string[], io: Io, env: NodeJS.ProcessEnv): Promise<ExitStatus> {
  const [sub, ...rest] = args;
  return report(await agencyCommand(sub, rest, env), args.includes('--json'), io);
}

export async function runHub(args: string[], io: Io, env: NodeJS.ProcessEnv): Promise<ExitStatus> {
  const [sub, ...rest] = args;
  return report(await hubCommand(sub, rest, env), args.includes('--json'), io);
}

async function agencyCommand(sub: string | undefined, rest: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  if (sub === 'close') {
    const p = parseFlags(rest, { ...CONNECTION_OPTIONS, into: s, from: s, json: b }, z.object({ ...Connection, into: z.string(), from: Iso.optional(), ...Json }));
    if (!p.ok) return p;
    const [code] = p.value.files;
    if (code === undefined || p.value.files.length > 1) return fail('USAGE', 'usage: lgsp agency close CODE --into CODE [--from ISO]');
    const client = adminClient(p.value.flags, env);
    if (!client.ok) return client;
    const { into, from } = p.value.flags;
    const r = await client.value.call('POST', `/api/admin/agencies/${encodeURIComponent(code)}/successor`, { successor: into, ...(from ? { from } : {}) });
    if (!r.ok) return r;
    return { ok: true, value: { body: r.value, lines: [`${code} is closed into ${into} from ${String(r.value.from)}: what is addressed to it goes to ${into}`] } };
  }
  if (sub === 'move') {
    const p = parseFlags(rest, { ...CONNECTION_OPTIONS, hub: s, json: b }, z.object({ ...Connection, hub: z.string(), ...Json }));
    if (!p.ok) return p;
    const [code] = p.value.files;
    if (code === undefined || p.value.files.length > 1) return fail('USAGE', 'usage: lgsp agency move CODE --hub HUB');
    const client = adminClient(p.value.flags, env);
    if (!client.ok) return client;
    const r = await client.value.call('POST', `/api/admin/agencies/${encodeURIComponent(code)}/move`, { hubId: p.value.flags.hub });
    if (!r.ok) return r;
    return { ok: true, value: { body: r.value, lines: [`${code} moved from hub ${String(r.value.from)} to hub ${p.value.flags.hub}; its waiting documents follow`] } };
  }
  if (sub === 'import') {
    const p = parseFlags(rest, { ...CONNECTION_OPTIONS, 'dry-run': b, json: b }, z.object({ ...Connection, 'dry-run': z.boolean().optional(), ...Json }));
    if (!p.ok) return p;
    const [file] = p.value.files;
    if (file === undefined || p.value.files.length > 1) return fail('USAGE', 'usage: lgsp agency import FILE.csv [--dry-run]');
    const csv = readInput(file);
    if (!csv.ok) return csv;
    const client = adminClient(p.value.flags, env);
    if (!client.ok) return client;
    const dryRun = p.value.flags['dry-run'] === true;
    const r = answerOf(z.object({ changes: z.array(z.string()), apiKeys: z.record(z.string(), z.string()) }).loose(),
      await client.value.call('POST', `/api/admin/agencies/import?dryRun=${dryRun}`, csv.value, 'text/csv'), 'POST /api/admin/agencies/import');
    if (!r.ok) return r;
    const { changes } = r.value;
    const keys = Object.entries(r.value.apiKeys);
    return { ok: true, value: { body: r.value, lines: [
      dryRun ? `${file}: ${changes.length} change(s) would be made (nothing applied):` : `${file}: ${changes.length} change(s) applied as one change:`,
      ...changes.map((c) => `  ${c}`),
      ...(keys.length === 0 ? [] : ['API keys of the new agencies (shown once):', ...keys.map(([code, key]) => `  ${code}  ${key}`)]),
    ] } };
  }
  return fail('USAGE', 'usage: lgsp agency close|move|import (see lgsp help)');
}

async function hubCommand(sub: string | undefined, rest: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  const p = parseFlags(rest, { ...CONNECTION_OPTIONS, into: s, json: b }, z.object({ ...Connection, into: z.string(), ...Json }));
  if (!p.ok) return p;
  const [id] = p.value.files;
  if (sub !== 'retire' || id === undefined || p.value.files.length > 1) return fail('USAGE', 'usage: lgsp hub retire ID --into PARENT');
  const client = adminClient(p.value.flags, env);
  if (!client.ok) return client;
  const r = answerOf(z.object({ agencies: z.array(z.string()), hubs: z.array(z.string()) }).loose(),
    await client.value.call('POST', `/api/admin/hubs/${encodeURIComponent(id)}/retire`, { into: p.value.flags.into }), 'POST /api/admin/hubs/:id/retire');
  if (!r.ok) return r;
  const { agencies, hubs } = r.value;
  return { ok: true, value: { body: r.value, lines: [
    `hub ${id} retired into ${p.value.flags.into}: ${agencies.length} agencies (${agencies.join(', ') || 'none'}) and ${hubs.length} child hubs (${hubs.join(', ') || 'none'}) moved`,
    `what waits in ${id} drains through ${p.value.flags.into}; once its queues are empty (lgsp console, /api/admin/queues), stop it and remove it from the configuration`,
  ] } };
}
