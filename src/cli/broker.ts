// lgsp broker users --config F [--hub ID …]: makes a broker ready for the hubs of a configuration
// on users of their own (docs/security.md, "Broker users"). With an administrator's access from
// the environment, it declares the hubs' queues and exchanges, then creates or updates user
// `lgsp-<hub id>` for each, with the password `lgsp start` derives from the same
// LGSP_BROKER_USER_SECRET and the permissions that reach only the hub's own queues, its
// neighbours' ingress and its network's broadcast. docker-compose.yml runs it before the hubs.
import { z } from 'zod';
import { brokerPasswordOf, brokerUserOf, BrokerUserSecret, loadConfig, redactUrl, withCredentials } from '../config.js';
import { fail, ok, type Result } from '../errors.js';
import { vhostOf } from '../bus/management.js';
import { checkManagement, declareTopology, planPermissions, putBrokerUser } from '../bus/provision.js';
import { hubPlans } from '../bus/plan.js';
import { parseFlags } from './flags.js';
import { reportError, reportSuccess, type ExitStatus, type Io } from './report.js';

const Flags = z.object({
  config: z.string().default('lgsp.config.json'),
  /** Only these hubs of the configuration (those of one broker, where the network spans several). */
  hub: z.array(z.string()).optional(),
  json: z.boolean().default(false),
});

// Messages name what is wrong, never the value: these variables carry secrets.
const notSet = (what: string) => ({ error: (issue: { input: unknown }) => (issue.input === undefined ? `not set (${what})` : `must be ${what}`) });
/** Refines an administrator's URL: one of `schemes`, parsable, naming a user (the first problem only). */
const adminUrl = (schemes: RegExp, what: string) => (url: string, ctx: z.RefinementCtx) => {
  const problem = !schemes.test(url) ? `must be ${what}` : !URL.canParse(url) ? 'must be a URL' : new URL(url).username === '' ? 'names no user' : null;
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
};
const AdminEnv = z.object({
  LGSP_BROKER_USER_SECRET: z.string(notSet('the secret every hub\'s broker password is derived from')).pipe(BrokerUserSecret),
  LGSP_BROKER_ADMIN_URL: z.string(notSet('an administrator\'s amqp:// URL of the broker')).superRefine(adminUrl(/^amqps?:\/\//, 'an amqp:// or amqps:// URL')),
  RABBITMQ_MANAGEMENT_URL: z.string(notSet('the broker\'s management API, http://user:password@host:15672')).superRefine(adminUrl(/^https?:\/\//, 'an http:// or https:// URL')),
  /** The administrator's password for both URLs, so that it needs no URL-encoding. */
  LGSP_BROKER_ADMIN_PASSWORD: z.string().optional(),
});

export interface BrokerAdmin { secret: string; adminUrl: string; managementUrl: string }

/** The administrator's access and the secret, from the environment (an empty variable counts as not set, but for the secret). */
export function brokerAdminFromEnv(env: NodeJS.ProcessEnv): Result<BrokerAdmin> {
  const given = (name: string) => env[name] || undefined;
  const parsed = AdminEnv.safeParse({
    LGSP_BROKER_USER_SECRET: env.LGSP_BROKER_USER_SECRET, LGSP_BROKER_ADMIN_URL: given('LGSP_BROKER_ADMIN_URL'),
    RABBITMQ_MANAGEMENT_URL: given('RABBITMQ_MANAGEMENT_URL'), LGSP_BROKER_ADMIN_PASSWORD: given('LGSP_BROKER_ADMIN_PASSWORD'),
  });
  if (!parsed.success) return fail('USAGE', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const e = parsed.data;
  const password = e.LGSP_BROKER_ADMIN_PASSWORD;
  const admin = (url: string) => (password === undefined ? url : withCredentials(url, decodeURIComponent(new URL(url).username), password));
  return ok({ secret: e.LGSP_BROKER_USER_SECRET, adminUrl: admin(e.LGSP_BROKER_ADMIN_URL), managementUrl: admin(e.RABBITMQ_MANAGEMENT_URL) });
}

export async function runBroker(args: string[], io: Io, env: NodeJS.ProcessEnv): Promise<ExitStatus> {
  const json = args.includes('--json');
  const [sub, ...rest] = args;
  if (sub !== 'users') return reportError(fail('USAGE', `unknown broker command "${sub ?? ''}" (users)`).error, json, io);
  const parsed = parseFlags(rest, { config: { type: 'string' }, hub: { type: 'string', multiple: true }, json: { type: 'boolean' } }, Flags);
  if (!parsed.ok) return reportError(parsed.error, json, io);
  const { flags } = parsed.value;
  const access = brokerAdminFromEnv(env);
  if (!access.ok) return reportError(access.error, json, io);
  // The hubs' brokers as `lgsp start` reads them, to tell neighbours beside a hub from those elsewhere.
  const config = loadConfig(flags.config, { AMQP_URL: env.AMQP_URL, AMQP_URLS: env.AMQP_URLS });
  if (!config.ok) return reportError(config.error, json, io);
  const unknown = flags.hub?.filter((id) => !config.value.hubs.some((h) => h.id === id)) ?? [];
  if (unknown.length > 0) return reportError(fail('USAGE', `no hub ${unknown.join(', ')} in ${flags.config}`).error, json, io);
  const done = await provision(access.value, hubPlans(config.value, flags.hub ?? config.value.hubs.map((h) => h.id)));
  if (!done.ok) return reportError(done.error, json, io);
  const { vhost, users } = done.value;
  return reportSuccess({ broker: redactUrl(access.value.adminUrl), vhost, users }, [
    `queues and exchanges of ${users.length} hubs declared on ${redactUrl(access.value.adminUrl)}; their broker users, on vhost ${vhost}:`,
    ...users.flatMap((u) => [`  ${u.user}`, `    configure ${u.permissions.configure}`, `    write     ${u.permissions.write}`, `    read      ${u.permissions.read}`]),
    'each hub connects as its user when lgsp start has the same LGSP_BROKER_USER_SECRET',
  ], flags.json, io);
}

/** The management API checked, then the topology, then the users: a refused administrator changes nothing. */
async function provision(access: BrokerAdmin, plans: ReturnType<typeof hubPlans>) {
  const reachable = await checkManagement(access.managementUrl);
  if (!reachable.ok) return reachable;
  try {
    await declareTopology(access.adminUrl, plans);
  } catch (err) {
    return fail('UNAVAILABLE', `cannot declare the hubs' queues on ${redactUrl(access.adminUrl)}: ${(err as Error).message}`);
  }
  const vhost = vhostOf(access.adminUrl);
  const users = plans.map((p) => ({ hubId: p.hubId, user: brokerUserOf(p.hubId), permissions: planPermissions(p) }));
  for (const u of users) {
    const put = await putBrokerUser(access.managementUrl, vhost, { name: u.user, password: brokerPasswordOf(access.secret, u.hubId), permissions: u.permissions });
    if (!put.ok) return fail('UNAVAILABLE', `broker user ${u.user}: ${put.error.message}`);
  }
  return ok({ vhost: decodeURIComponent(vhost), users });
}
