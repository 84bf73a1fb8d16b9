// lgsp ledger export --before DATE --out DIR [--config FILE] [--hub ID]: archives, from a hub's
// ledger, the packages acknowledged before DATE (the start of that day in Asia/Ho_Chi_Minh), so
// that retention may remove their bytes (docs/statistics.md, "Retention").
import { z } from 'zod';
import { loadConfig } from '../config.js';
import { fail } from '../errors.js';
import { openLedger } from '../ledger/open.js';
import { createRootLogger } from '../logger.js';
import { exportArchive } from '../admin/archive.js';
import { dayStart, isRealDay } from '../stats/calendar.js';
import { parseFlags } from './flags.js';
import { reportError, reportSuccess, type ExitStatus, type Io } from './report.js';

const Flags = z.object({
  config: z.string().default('lgsp.config.json'),
  hub: z.string().optional(),
  before: z.string().refine(isRealDay, 'a calendar day YYYY-MM-DD'),
  out: z.string().min(1),
  json: z.boolean().default(false),
});

export async function runLedger(args: string[], io: Io, env: NodeJS.ProcessEnv, now: Date): Promise<ExitStatus> {
  const json = args.includes('--json');
  const [sub, ...rest] = args;
  if (sub !== 'export') return reportError(fail('USAGE', `unknown ledger command "${sub ?? ''}" (export)`).error, json, io);
  const parsed = parseFlags(rest, { config: { type: 'string' }, hub: { type: 'string' }, before: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } }, Flags);
  if (!parsed.ok) return reportError(parsed.error, json, io);
  const { flags } = parsed.value;
  const config = loadConfig(flags.config, { AMQP_URL: env.AMQP_URL });
  if (!config.ok) return reportError(config.error, json, io);
  const hubs = config.value.hubs.filter((h) => flags.hub === undefined || h.id === flags.hub);
  if (hubs.length !== 1) {
    return reportError(fail('USAGE', flags.hub === undefined ? `the configuration has ${config.value.hubs.length} hubs: name one with --hub` : `no hub ${flags.hub} in ${flags.config}`).error, json, io);
  }
  const hub = hubs[0]!;
  const ledger = await openLedger(config.value, hub, () => now, createRootLogger('warn'));
  if (!ledger.ok) return reportError(ledger.error, json, io);
  try {
    const manifest = await exportArchive(ledger.value, { hubId: hub.id, ackedBefore: dayStart(flags.before), outDir: flags.out, now });
    return reportSuccess({ hub: hub.id, out: flags.out, documents: manifest.documents.length },
      [`${manifest.documents.length} packages acknowledged before ${flags.before} written to ${flags.out} (manifest.json lists their SHA-256)`], flags.json, io);
  } finally {
    await ledger.value.close();
  }
}
