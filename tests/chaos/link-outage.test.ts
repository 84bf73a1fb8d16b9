// A link outage between two hubs on different brokers (here two vhosts of the local broker): the
// links between the district and the province lose their access and their connections for a
// while, in mid-run. Both hubs keep accepting packages, which wait in their outboxes (the
// district's toward the province, the province's toward the district); once the links are back
// the outboxes drain. Nothing accepted is lost, no mailbox holds a duplicate, every receipt
// comes back. At full scale the outage outlasts DELIVERY_LIMIT confirm timeouts, which once
// dead-lettered the packages a link held as poison.
import { describe, it } from 'vitest';
import { DEFAULT_CONFIRM_TIMEOUT_MS as CONFIRM_TIMEOUT_MS } from '../../src/config.js';
import { DELIVERY_LIMIT, hubQueues } from '../../src/bus/topology.js';
import { connectionsOf, queueDepth } from '../helpers/broker-control.js';
import { scaled } from '../helpers/chaos-report.js';
import { faultRun, localBroker, provinceOnOtherBroker, receiptsBack, useHubProcesses } from '../helpers/fault-run.js';
import { eventually } from '../helpers/network.js';

// The fault's duration (a WAN outage lasts minutes), not a wait for a state: about 3 minutes
// at full scale, under a minute in CI.
const OUTAGE_MS = scaled((DELIVERY_LIMIT + 1) * CONFIRM_TIMEOUT_MS, CONFIRM_TIMEOUT_MS);
const { options, other } = provinceOnOtherBroker();
const hubs = useHubProcesses(options);

describe.skipIf(!localBroker)('a link outage between two hubs, then recovery', () => {
  it('fills both outboxes, drains them, and delivers every accepted package exactly once', async () => {
    const run = await faultRun(hubs(), {
      name: 'link-outage',
      // The cut is several rabbitmqctl calls (seconds each on a busy machine): at the default rate
      // the load once ended before the links were down, and nothing waited in the outboxes.
      ratePerSec: 4,
      async inject({ hubs: h, load, count }) {
        const [province, district, commune] = h.ids;
        const outboxes = () => Promise.all([
          queueDepth('/', hubQueues(district).outbox(province)),
          queueDepth(other().vhost, hubQueues(province).outbox(district)),
        ]);
        // What a failure to fill needs to be told apart: a link the cut missed, or a hub behind.
        const whyNotFilling = async () => [
          `link user's connections after the cut: ${JSON.stringify(await connectionsOf(other().user))}`,
          `ingress depths (commune, district): ${await queueDepth('/', hubQueues(commune).ingress)}, ${await queueDepth('/', hubQueues(district).ingress)}`,
          ...h.ids.map((id) => `log of ${id}:\n${h.logTail(id)}`),
        ].join('\n');
        await load.reached(Math.floor(count / 4));
        await other().cut();
        // At least half the load comes after the cut (a check of the run itself, not of the hubs).
        if (load.accepted.length > count / 2) throw new Error(`the cut took until ${load.accepted.length} of ${count} packages were accepted: too few left to wait in the outboxes`);
        const outage = new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
        // Packages are still accepted on both sides of the cut, and wait in the outboxes.
        await load.reached(Math.floor((count * 3) / 4));
        let depths: number[] = [];
        await eventually(async () => {
          depths = await outboxes();
          return depths.every((n) => n > 0) ? true : undefined;
        }, 'both outboxes filling', 60_000).catch(async (err: Error) => {
          throw new Error(`${err.message} (district→province, province→district: ${depths.join(', ')})\n${await whyNotFilling()}`);
        });
        await outage;
        await other().restore();
        await eventually(async () => ((await outboxes()).every((n) => n === 0) ? true : undefined), 'both outboxes drained', 120_000);
        return { 'link-outage': 1 };
      },
    });
    await receiptsBack(run, ['acked']);
  });
});
