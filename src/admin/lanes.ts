// Pausing and resuming a lane (a working queue's consumer), audited: the admin API and the
// console both act through this one object. A hub may run as several replicas, each with a
// consumer on every working queue: a pause holds the queue only if it holds every one of them. So
// the paused set is kept in the hub's ledger, the replica asked acts and audits, and it tells the
// others (a signed `hub.lane` change on the trust broadcast, admin/trust-lane.ts), on which each
// brings its consumers to the set the ledger holds; a replica that starts reads it first.
import { fail, ok, type Result } from '../errors.js';
import type { Ledger } from '../ledger/store.js';

/** What an operator may do to a lane; the bus's consumers are lanes. */
export interface Lane {
  pause(): Promise<void>;
  resume(): Promise<void>;
  paused(): boolean;
}

/** The working queues' lanes of this replica, held alike on every replica of the hub. */
export interface Lanes {
  consumers: ReadonlyMap<string, Lane>;
  /** Pauses or resumes a lane on every replica of the hub, audited once. */
  act(name: string, action: 'pause' | 'resume', actor: string): Promise<Result<{ paused: boolean }>>;
  /** The queues whose lanes are paused, as the hub's replicas share it. */
  paused(): Promise<ReadonlySet<string>>;
  /** Brings this replica's lanes to the paused set the ledger holds (another replica paused or resumed one). */
  follow(): Promise<void>;
}

export function hubLanes(deps: {
  /** Filled once the lanes run; a notice heard before then is caught up with by a `follow` after. */
  consumers: ReadonlyMap<string, Lane>;
  ledger: Pick<Ledger, 'pausedLanes' | 'setLanePaused' | 'audit'>;
  clock: () => Date;
  /** Tells the hub's other replicas that a lane was paused or resumed. */
  announce: (queue: string, paused: boolean, actor: string) => Promise<void>;
}): Lanes {
  const { consumers, ledger } = deps;
  // One step at a time: a pause drains what is in hand, and a resume meanwhile would race it.
  let last: Promise<unknown> = Promise.resolve();
  const serially = <T>(step: () => Promise<T>): Promise<T> => {
    const next = last.then(step);
    last = next.then(() => undefined, () => undefined); // the caller hears of a failure; the next step still runs
    return next;
  };
  const paused = async () => new Set(await ledger.pausedLanes());
  return {
    consumers,
    paused,
    act: (name, action, actor) => serially(async (): Promise<Result<{ paused: boolean }>> => {
      const lane = consumers.get(name);
      if (lane === undefined) return fail('NOT_FOUND', `${name} is not a working queue of this hub`);
      const pause = action === 'pause';
      await ledger.setLanePaused(name, pause, deps.clock().toISOString(), actor);
      await lane[action]();
      await ledger.audit(actor, `queue.${action}`, { queue: name });
      await deps.announce(name, pause, actor);
      return ok({ paused: pause });
    }),
    follow: () => serially(async () => {
      const held = await paused();
      for (const [name, lane] of consumers) {
        if (held.has(name) !== lane.paused()) await (held.has(name) ? lane.pause() : lane.resume());
      }
    }),
  };
}
