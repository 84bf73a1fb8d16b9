// lgsp start [--config FILE]: runs every hub of a configuration until SIGINT/SIGTERM.
import type { Logger } from 'pino';
import { createRootLogger } from '../logger.js';
import { z } from 'zod';
import { loadConfig, type Config } from '../config.js';
import { startHub, type HubEnv, type RunningHub } from '../hub.js';
import { fail, type Result } from '../errors.js';
import { parseFlags } from './flags.js';
import { reportError, type ExitStatus, type Io } from './report.js';

const Flags = z.object({
  config: z.string().default('lgsp.config.json'),
  /** Run only these hubs of the configuration (one process per hub scales across cores). */
  hub: z.array(z.string()).optional(),
  /** One replica of the one hub named by --hub, serving HTTP on this port instead of the configured one (docs/replicas.md). */
  port: z.string().regex(/^\d{1,5}$/, 'a port number').transform(Number).pipe(z.number().int().min(0).max(65535)).optional(),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Errors as one JSON line on stdout ({ ok: false, code, message }). */
  json: z.boolean().default(false),
}).refine((f) => f.port === undefined || f.hub?.length === 1, { message: 'goes with exactly one --hub (a replica of that hub)', path: ['port'] });

export async function runStart(args: string[], io: Io, env: NodeJS.ProcessEnv): Promise<ExitStatus> {
  const parsed = parseFlags(args, { config: { type: 'string' }, hub: { type: 'string', multiple: true }, port: { type: 'string' }, 'log-level': { type: 'string' }, json: { type: 'boolean' } }, Flags);
  if (!parsed.ok) return reportError(parsed.error, args.includes('--json'), io);
  const { json } = parsed.value.flags;
  const fault = Fault.safeParse(env.LGSP_FAULT || undefined);
  if (!fault.success) return reportError(fail('USAGE', fault.error.issues.map((i) => i.message).join('; ')).error, json, io);
  const config = loadConfig(parsed.value.flags.config, { AMQP_URL: env.AMQP_URL, AMQP_URLS: env.AMQP_URLS, LGSP_BROKER_USER_SECRET: env.LGSP_BROKER_USER_SECRET });
  if (!config.ok) return reportError(config.error, json, io);
  const only = parsed.value.flags.hub;
  const unknown = only?.filter((id) => !config.value.hubs.some((h) => h.id === id)) ?? [];
  if (unknown.length > 0) return reportError(fail('USAGE', `no hub ${unknown.join(', ')} in ${parsed.value.flags.config}`).error, json, io);
  const log = createRootLogger(parsed.value.flags['log-level']);
  const { port } = parsed.value.flags;
  const hubs = await startHubs(port === undefined ? config.value : onPort(config.value, only![0]!, port), log, only, faultHooks(fault.data, log));
  if (!hubs.ok) return reportError(hubs.error, json, io);
  await untilSignal(log);
  await stopHubs(hubs.value);
  return 0;
}

/** The configuration with hub `hubId` on `port`: a replica beside others of the same hub on one machine. */
function onPort(config: Readonly<Config>, hubId: string, port: number): Readonly<Config> {
  return { ...config, hubs: config.hubs.map((h) => (h.id === hubId ? { ...h, port } : h)) };
}

/**
 * Test hooks, never for production, read here from the environment only so that no configuration
 * file can set them. Each kills this process (SIGKILL: no clean-up) at the Nth time it reaches a
 * point where a crash must lose and duplicate nothing:
 *   exit-after-mailbox-write:N   after a mailbox write, before that message is acknowledged to
 *                                the broker (the chaos suite: the redelivery is absorbed)
 *   exit-after-national-take:N   after a package taken from the national axis is durable in the
 *                                network, before updateStatus (the axis hands it again: absorbed)
 */
const FAULT_POINTS = { 'exit-after-mailbox-write': 'afterMailboxWrite', 'exit-after-national-take': 'afterNationalTake' } as const;
const Fault = z.string().regex(/^(exit-after-mailbox-write|exit-after-national-take):[1-9]\d*$/, 'LGSP_FAULT must be exit-after-mailbox-write:N or exit-after-national-take:N (N ≥ 1)')
  .transform((s) => {
    const [point, n] = s.split(':') as [keyof typeof FAULT_POINTS, string];
    return { hook: FAULT_POINTS[point], at: Number(n) };
  }).optional();

function faultHooks(fault: z.output<typeof Fault>, log: Logger): FaultHooks {
  if (fault === undefined) return {};
  log.warn({ fault }, 'test fault hook armed: this process kills itself at that point');
  let reached = 0;
  return { [fault.hook]: () => { if (++reached === fault.at) process.kill(process.pid, 'SIGKILL'); } };
}

type FaultHooks = Pick<HubEnv, (typeof FAULT_POINTS)[keyof typeof FAULT_POINTS]>;

/** Starts the hubs in order; if one cannot start, those started before it are closed and its error returned. */
export async function startHubs(config: Readonly<Config>, log: Logger, only?: readonly string[], hooks: FaultHooks = {}): Promise<Result<RunningHub[]>> {
  const running: RunningHub[] = [];
  for (const hub of config.hubs.filter((h) => only === undefined || only.includes(h.id))) {
    const started = await startHub(config, hub, { log, clock: () => new Date(), ...hooks });
    if (!started.ok) {
      await stopHubs(running);
      return started;
    }
    running.push(started.value);
  }
  return { ok: true, value: running };
}

export async function stopHubs(hubs: readonly RunningHub[]): Promise<void> {
  for (const h of [...hubs].reverse()) await h.close();
}

/** Resolves on the first SIGINT or SIGTERM: the caller then drains and closes. */
export function untilSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping: draining in-flight work');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
