// kill -9 of the broker in the middle of a run, then a fresh start: quorum queues keep every
// confirmed message, the hubs reconnect by themselves and republish what was not confirmed, and
// the redelivered copies are absorbed by the mailbox dedupe. Nothing accepted is lost, no
// mailbox holds a duplicate, every receipt comes back. Kills the shared broker: run under
// flock -x /tmp/lgsp-broker.lock.
import { describe, it } from 'vitest';
import { killBroker, startBroker } from '../helpers/broker-control.js';
import { brokerOutage, faultRun, localBroker, receiptsBack, useHubProcesses } from '../helpers/fault-run.js';

const hubs = useHubProcesses();

describe.skipIf(!localBroker)('kill -9 of the broker in mid-run', () => {
  it('delivers every accepted package exactly once', async () => {
    await receiptsBack(await faultRun(hubs(), { name: 'broker-kill', inject: brokerOutage('broker-kill', killBroker, startBroker) }), ['acked']);
  });
});
