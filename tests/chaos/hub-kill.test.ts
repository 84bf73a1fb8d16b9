// kill -9 of each hub's process in turn in the middle of a run, each started again on the same
// ledger and queues: the district (in transit), the province (a destination and a sender), the
// commune (where the load comes in over HTTP). What a dead hub held unacknowledged comes back
// from its queues and the mailbox dedupe absorbs what it had already stored; clients whose
// submission died with the hub submit again. Nothing accepted is lost, no mailbox holds a duplicate.
import { describe, expect, it } from 'vitest';
import { faultRun, localBroker, receiptsBack, useHubProcesses } from '../helpers/fault-run.js';

const hubs = useHubProcesses();

describe.skipIf(!localBroker)('kill -9 of a hub process in mid-run, and a restart', () => {
  it('delivers every accepted package exactly once', async () => {
    const run = await faultRun(hubs(), {
      name: 'hub-kill',
      async inject({ hubs: h, load, count }) {
        const [province, district, commune] = h.ids;
        for (const [i, hub] of [district, province, commune].entries()) {
          await load.reached(Math.floor((count * (i + 1)) / 4));
          expect(await h.kill(hub, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
          await h.start(hub);
        }
        return { 'hub-kill': 3 };
      },
    });
    await receiptsBack(run, ['acked']);
  });
});
