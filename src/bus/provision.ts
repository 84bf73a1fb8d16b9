// A broker made ready for hubs on users of their own (docs/security.md, "Broker users"): an
// administrator's connection declares the hubs' queues and exchanges (their users may not), and
// RabbitMQ's management API gives each hub a user whose permissions reach only its own queues,
// its neighbours' ingress and its network's broadcast. `lgsp broker users` and `lgsp demo` use it.
import { z } from 'zod';
import { fail, ok, type Result } from '../errors.js';
import { redactUrl } from '../config.js';
import type { HubPlan } from './plan.js';

// The demo reaches it through here (it does not read the configuration module).
export { brokerUserOf, withCredentials } from '../config.js';
import { assertBroadcast, trustExchange } from './broadcast.js';
import { withConnection } from './connection.js';
import { managementCall } from './management.js';
import { assertTopology, brokerPermissions, type BrokerPermissions } from './topology.js';

/** The permissions a hub's user needs on its broker. */
export function planPermissions(plan: HubPlan): BrokerPermissions {
  return brokerPermissions(plan.hubId, plan.direct, trustExchange(plan.root));
}

/** Declares each hub's queues and exchanges with an administrator's connection (what exists is left as it is). */
export async function declareTopology(adminUrl: string, plans: readonly HubPlan[]): Promise<void> {
  await withConnection(adminUrl, async (conn) => {
    const open = () => conn.createChannel();
    for (const p of plans) {
      await assertTopology(open, p.hubId, p.outboxFor, p.direct);
      await assertBroadcast(open, p.hubId, p.root);
    }
  });
}

/** Whether the management API answers and takes its URL's credentials: checked before anything is changed. */
export async function checkManagement(managementUrl: string): Promise<Result<void>> {
  return answered(managementUrl, 'GET /api/whoami', () => managementCall(managementUrl, '/api/whoami'));
}

/** Creates the user, or sets its password if it exists, and sets its permissions on `vhost` (encoded, as vhostOf gives it). */
export async function putBrokerUser(managementUrl: string, vhost: string, user: { name: string; password: string; permissions: BrokerPermissions }): Promise<Result<void>> {
  const name = encodeURIComponent(user.name);
  const created = await answered(managementUrl, `PUT /api/users/${name}`,
    () => managementCall(managementUrl, `/api/users/${name}`, { method: 'PUT', body: { password: user.password, tags: '' } }));
  if (!created.ok) return created;
  return answered(managementUrl, `PUT /api/permissions/${vhost}/${name}`,
    () => managementCall(managementUrl, `/api/permissions/${vhost}/${name}`, { method: 'PUT', body: user.permissions }));
}

const ManagementError = z.object({ reason: z.string() });

/** A call's outcome as a coded error naming the call and the API (never its credentials, nor a body sent). */
async function answered(managementUrl: string, call: string, send: () => Promise<Response>): Promise<Result<void>> {
  const where = `RabbitMQ's management API at ${redactUrl(managementUrl)}`;
  let res: Response;
  try {
    res = await send();
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    return fail('UNAVAILABLE', `${where} does not answer (${call}): ${cause}`);
  }
  if (res.ok) return ok(undefined);
  // RabbitMQ says why in {"error", "reason"}; anything else is left out rather than echoed.
  const said = ManagementError.safeParse(await res.json().catch(() => undefined));
  const reason = said.success ? said.data.reason.slice(0, 200) : undefined;
  return fail('UNAVAILABLE', res.status === 401
    ? `${where} refused the administrator's credentials (${call}: 401${reason === undefined ? '' : `, ${reason}`})`
    : `${where} answered ${res.status} to ${call}${reason === undefined ? '' : `: ${reason}`}`);
}
