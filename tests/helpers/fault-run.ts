// One fault run of the chaos suite, start to finish: the hub processes for the test file, the
// standard load both ways through them, the recipients' document systems reading and
// acknowledging, the fault the test injects in mid-run, then the count, recorded and asserted:
// nothing lost, no duplicate in any mailbox, nothing unexpected, no hub crashed.
import { afterAll, beforeAll, expect } from 'vitest';
import { createOtherBroker, ensureBrokerRunning, hasLocalBroker, type OtherBroker } from './broker-control.js';
import { standardFlows, startLoad, type Flow, type Load } from './chaos-load.js';
import { scaled } from './chaos-report.js';
import { startHubProcesses, type HubProcesses, type HubProcessesOptions } from './hub-processes.js';
import { countDeliveries, receiptsArrived, startMailboxReaders, type MailboxReaders, type Tally } from './mailbox-count.js';
import { AMQP_URL, eventually } from './network.js';

/** Fault runs script faults on the local broker; without one they are skipped. */
export const localBroker = await hasLocalBroker();

type UseOptions = HubProcessesOptions & { prepare?: () => Promise<void>; cleanUp?: () => Promise<void> };

/**
 * The hub processes of a test file: started before its tests, stopped after them, and the broker
 * left running whatever a test did to it. `prepare` runs first (e.g. to create a second broker).
 */
export function useHubProcesses(options: UseOptions = {}): () => HubProcesses {
  let hubs: HubProcesses | undefined;
  beforeAll(async () => {
    if (!localBroker) return;
    await options.prepare?.();
    hubs = await startHubProcesses(options);
  });
  afterAll(async () => {
    if (!localBroker) return;
    await ensureBrokerRunning();
    await hubs?.close();
    await options.cleanUp?.();
  });
  return () => {
    if (hubs === undefined) throw new Error('the hub processes did not start');
    return hubs;
  };
}

export interface FaultRun {
  hubs: HubProcesses;
  flows: Flow[];
  load: Load;
  readers: MailboxReaders;
  /** Packages in the run (scaled). */
  count: number;
}

export interface FaultRunOptions {
  name: string;
  /** Packages at LGSP_CHAOS_SCALE=1. */
  packages?: number;
  /** Whether the document systems acknowledge what they read (default: yes). */
  ack?: boolean;
  /** Submissions started per second (default: the load's own): slower where a fault takes long to set up. */
  ratePerSec?: number;
  /** Injects the fault(s) in mid-run and says which, by kind. */
  inject(run: FaultRun): Promise<Record<string, number>>;
}

const PACKAGES = 600;

export async function faultRun(hubs: HubProcesses, options: FaultRunOptions): Promise<FaultRun & { tally: Tally }> {
  const { flows, recipients } = standardFlows(hubs);
  const readers = startMailboxReaders(recipients, { ack: options.ack ?? true });
  const count = scaled(options.packages ?? PACKAGES, 30);
  let failed = false;
  const load = startLoad({ flows, count, ...(options.ratePerSec ? { ratePerSec: options.ratePerSec } : {}), abortIf: () => hubs.crashes()[0] ?? (failed ? 'the run failed' : undefined) });
  const run = { hubs, flows, load, readers, count };
  let tally: Tally;
  try {
    const faults = await options.inject(run);
    tally = await countDeliveries({ name: options.name, hubs, load, readers, faults });
  } catch (err) {
    failed = true; // ends the load, which would otherwise retry until its timeout
    throw err;
  } finally {
    if (!readers.stopped) await readers.stop();
  }
  expect(hubs.crashes()).toEqual([]);
  expect(tally.missing).toEqual([]);
  expect(tally).toMatchObject({ sent: count, lost: 0, duplicates: 0, unexpected: 0 });
  return { ...run, tally };
}

/**
 * A broker outage a third into the run: `down` takes the broker away, the clients must then be
 * refused at once with the code that says "retry later", and `up` brings it back.
 */
export function brokerOutage(kind: string, down: () => Promise<unknown>, up: () => Promise<unknown>): FaultRunOptions['inject'] {
  return async ({ load, count }) => {
    await load.reached(Math.floor(count / 3));
    await down();
    await eventually(async () => ((load.retries['503 UNAVAILABLE'] ?? 0) > 0 ? true : undefined), `a 503 UNAVAILABLE during the ${kind}`, 30_000);
    await up();
    return { [kind]: 1 };
  };
}

/** Every receipt back at the senders' hubs, in one of `states`. */
export function receiptsBack(run: FaultRun, states: readonly string[]): Promise<true> {
  return receiptsArrived(run.flows.map((f) => f.from), run.load.accepted, states, 60_000);
}

/**
 * Options for useHubProcesses that put the province hub on a second broker (a vhost): the
 * district and the province then talk through an outbox each and links that log in as a user
 * of their own, which `other().cut()` locks out.
 */
export function provinceOnOtherBroker(): { options: UseOptions; other: () => OtherBroker } {
  let other: OtherBroker | undefined;
  const get = () => {
    if (other === undefined) throw new Error('the other broker was not created');
    return other;
  };
  type HubEntry = { id: string; amqpUrl?: string };
  const withProvinceAt = (config: Record<string, unknown>, url: string) =>
    (config.hubs as HubEntry[]).map((h) => (h.id.startsWith('000.00.00.') ? { ...h, amqpUrl: url } : h));
  return {
    other: get,
    options: {
      prepare: async () => { other = await createOtherBroker(AMQP_URL); },
      cleanUp: async () => { await other?.remove(); },
      // The province's own queues on the other broker, its link back to the main one as the
      // link user; every other hub reaches the province as the link user.
      configFor: (hubId, config) => (hubId.startsWith('000.00.00.')
        ? { ...config, amqpUrl: get().linkBack, hubs: withProvinceAt(config, get().url) }
        : { ...config, hubs: withProvinceAt(config, get().linkTo) }),
    },
  };
}
