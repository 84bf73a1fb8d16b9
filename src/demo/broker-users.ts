// A broker user per hub for a network on one broker (docs/security.md, "Broker users"): the
// network's topology is declared once with an administrator's connection, then each hub connects
// as `lgsp-<hub id>`, whose permissions reach only its own queues, its neighbours' ingress and the
// network's broadcast exchange. Users are made with rabbitmqctl on the broker host.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import type { BrokerPermissions } from '../bus/topology.js';
import { brokerUserOf, declareTopology, planPermissions, withCredentials } from '../bus/provision.js';
import { hubPlans, type HubPlan } from '../bus/plan.js';
import type { DemoHub } from './network.js';

export interface BrokerUser { hubId: string; user: string; password: string; permissions: BrokerPermissions }

/** Each hub's place on the one broker of a demo network (every neighbour beside it). */
function plansOf(hubs: readonly (DemoHub & { upstream?: unknown })[]): HubPlan[] {
  // A plan compares hubs' brokers only with each other: on one broker, any address will do.
  return hubPlans({ amqpUrl: 'amqp://demo-broker', hubs, agencies: [] }, hubs.map((h) => h.id));
}

/** A user, a fresh password and the permissions for each hub. */
export function brokerUsersFor(hubs: readonly DemoHub[]): BrokerUser[] {
  return plansOf(hubs).map((p) => ({
    // Hex, not base64url: rabbitmqctl reads an argument starting with '-' as an option (1 in 64 passwords did).
    hubId: p.hubId, user: brokerUserOf(p.hubId), password: randomBytes(18).toString('hex'), permissions: planPermissions(p),
  }));
}

/** Declares every hub's queues and exchanges with an administrator's connection (the hubs' users may not). */
export async function provisionNetwork(adminUrl: string, hubs: readonly (DemoHub & { upstream?: unknown })[]): Promise<void> {
  await declareTopology(adminUrl, plansOf(hubs));
}

const rabbitmqctl = (...args: string[]) => execFileSync('rabbitmqctl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const existingUsers = () => new Set(rabbitmqctl('list_users', '--quiet', '--no-table-headers').split('\n').map((l) => l.split('\t')[0]));

/** Creates (or resets the password of) each user and sets its permissions on vhost `/`, with rabbitmqctl. */
export function createBrokerUsers(users: readonly BrokerUser[]): Result<void> {
  try {
    const existing = existingUsers();
    for (const u of users) {
      if (existing.has(u.user)) rabbitmqctl('change_password', u.user, u.password);
      else rabbitmqctl('add_user', u.user, u.password);
      rabbitmqctl('set_permissions', '-p', '/', u.user, u.permissions.configure, u.permissions.write, u.permissions.read);
    }
    return ok(undefined);
  } catch (err) {
    return fail('UNAVAILABLE', `cannot create broker users with rabbitmqctl: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Removes those of the users that exist (a test's clean-up, also after a half-done creation). */
export function deleteBrokerUsers(users: readonly BrokerUser[]): void {
  const existing = existingUsers();
  for (const u of users) if (existing.has(u.user)) rabbitmqctl('delete_user', u.user);
}

/** The broker URL with a user's credentials. */
export function withUser(amqpUrl: string, user: BrokerUser): string {
  return withCredentials(amqpUrl, user.user, user.password);
}
