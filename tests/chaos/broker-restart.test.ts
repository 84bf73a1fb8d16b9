// The broker stops (rabbitmqctl stop_app) and starts again in the middle of a run. The hubs are
// not restarted: they reconnect by themselves, and while the broker is away they refuse new
// packages at once (503 UNAVAILABLE). Nothing accepted is lost, no mailbox holds a duplicate,
// and every receipt comes back. Stops the shared broker: run under flock -x /tmp/lgsp-broker.lock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBrokerRunning, hasLocalBroker, startApp, stopApp } from '../helpers/broker-control.js';
import { scaled } from '../helpers/chaos-report.js';
import { standardFlows, startLoad } from '../helpers/chaos-load.js';
import { startHubProcesses, type HubProcesses } from '../helpers/hub-processes.js';
import { countDeliveries, receiptsArrived, startMailboxReaders } from '../helpers/mailbox-count.js';
import { eventually } from '../helpers/network.js';

const local = await hasLocalBroker();
let hubs: HubProcesses;

beforeAll(async () => {
  if (local) hubs = await startHubProcesses();
});
afterAll(async () => {
  if (!local) return;
  await ensureBrokerRunning(); // whatever happened, leave the broker running
  await hubs?.close();
});

describe.skipIf(!local)('broker stop and start in mid-run', () => {
  it('delivers every accepted package exactly once and refuses with 503 while the broker is away', async () => {
    const { flows, recipients } = standardFlows(hubs);
    const readers = startMailboxReaders(recipients);
    const count = scaled(600, 30);
    const load = startLoad({ flows, count, abortIf: () => hubs.crashes()[0] });

    await load.reached(Math.floor(count / 3));
    await stopApp();
    // The clients are refused at once, with the code that says "retry later".
    await eventually(async () => ((load.retries['503 UNAVAILABLE'] ?? 0) > 0 ? true : undefined), 'a 503 UNAVAILABLE while the broker is down', 30_000);
    await startApp();

    const tally = await countDeliveries({ name: 'broker-restart', hubs, load, readers, faults: { 'broker-stop': 1 } });
    expect(hubs.crashes()).toEqual([]);
    expect(tally.missing).toEqual([]);
    expect(tally).toMatchObject({ lost: 0, duplicates: 0, unexpected: 0 });
    expect(tally.sent).toBe(count);
    await receiptsArrived(flows.map((f) => f.from), load.accepted, ['acked'], 60_000);
  });
});
