// Pausing and resuming a lane (a working queue's consumer), audited: the admin API and the
// console both act through this one function.
import { fail, ok, type Result } from '../errors.js';

/** What an operator may do to a lane; the bus's consumers are lanes. */
export interface Lane {
  pause(): Promise<void>;
  resume(): Promise<void>;
  paused(): boolean;
}

/** The working queues' lanes, and the audit log their pausing is written to. */
export interface Lanes {
  consumers: ReadonlyMap<string, Lane>;
  audit: (actor: string, action: string, detail: Record<string, unknown>) => Promise<void>;
}

export async function actOnLane(lanes: Lanes, name: string, action: 'pause' | 'resume', actor: string): Promise<Result<Lane>> {
  const lane = lanes.consumers.get(name);
  if (lane === undefined) return fail('NOT_FOUND', `${name} is not a working queue of this hub`);
  await lane[action]();
  await lanes.audit(actor, `queue.${action}`, { queue: name });
  return ok(lane);
}
