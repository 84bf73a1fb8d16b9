// The broker stops (rabbitmqctl stop_app) and starts again in the middle of a run. The hubs are
// not restarted: they reconnect by themselves, and while the broker is away they refuse new
// packages at once (503 UNAVAILABLE). Nothing accepted is lost, no mailbox holds a duplicate,
// and every receipt comes back. Stops the shared broker: run under flock -x /tmp/lgsp-broker.lock.
import { describe, it } from 'vitest';
import { startApp, stopApp } from '../helpers/broker-control.js';
import { brokerOutage, faultRun, localBroker, receiptsBack, useHubProcesses } from '../helpers/fault-run.js';

const hubs = useHubProcesses();

describe.skipIf(!localBroker)('broker stop and start in mid-run', () => {
  it('delivers every accepted package exactly once and refuses with 503 while the broker is away', async () => {
    await receiptsBack(await faultRun(hubs(), { name: 'broker-restart', inject: brokerOutage('broker-stop', stopApp, startApp) }), ['acked']);
  });
});
