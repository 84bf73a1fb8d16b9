// A crash between the mailbox write and the ack: the province hub runs with the test fault hook
// LGSP_FAULT=exit-after-mailbox-write:N (read by `lgsp start` only) and kills itself with SIGKILL
// right after its Nth mailbox write, before the broker has the ack. Started again, it gets the
// unacknowledged messages back: the dedupe must absorb the ones already stored (no duplicate in
// any mailbox), and the receipts must still reach the senders. The document systems only read
// here, so that "delivered" (not "acked") is what the receipts must show.
import { describe, expect, it } from 'vitest';
import { scaled } from '../helpers/chaos-report.js';
import { faultRun, localBroker, receiptsBack, useHubProcesses } from '../helpers/fault-run.js';

const PACKAGES = 600;
// The province stores one package in two (the commune's, for its department): crash a third in.
const CRASH_AT_WRITE = Math.floor(scaled(PACKAGES, 30) / 6);
const hubs = useHubProcesses({
  envFor: (hubId): Record<string, string> => (hubId.startsWith('000.00.00.') ? { LGSP_FAULT: `exit-after-mailbox-write:${CRASH_AT_WRITE}` } : {}),
});

describe.skipIf(!localBroker)('a crash between the mailbox write and the ack', () => {
  it('absorbs the redelivery: each package once in its mailbox, and every receipt back', async () => {
    const run = await faultRun(hubs(), {
      name: 'crash-after-mailbox-write',
      packages: PACKAGES,
      ack: false,
      async inject({ hubs: h }) {
        const province = h.ids[0];
        expect(await h.exited(province)).toEqual({ code: null, signal: 'SIGKILL' });
        await h.start(province);
        return { 'crash-after-mailbox-write': 1 };
      },
    });
    // The stored message(s) came back after the restart and were absorbed, not stored again.
    expect(run.tally.absorbed).toBeGreaterThan(0);
    await receiptsBack(run, ['delivered']);
  });
});
