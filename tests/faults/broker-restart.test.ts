// The broker stops and starts in the middle of a run. The hubs are not restarted: they
// reconnect by themselves, nothing accepted is lost, and no mailbox holds a duplicate.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';

const hasBroker = spawnSync('rabbitmqctl', ['-q', 'status'], { encoding: 'utf8' }).status === 0;
const rabbitmqctl = (...args: string[]) => {
  const r = spawnSync('rabbitmqctl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rabbitmqctl ${args.join(' ')}: ${r.stderr}`);
};

let n: TestNetwork;
let commune: Agent, department: Agent;

beforeAll(async () => {
  if (!hasBroker) return;
  n = await startTestNetwork();
  commune = n.agent('000.07.05.');
  department = n.agent('000.00.12.');
}, 60_000);
afterAll(async () => {
  if (!hasBroker) return;
  rabbitmqctl('start_app'); // whatever happened, leave the broker running
  await n?.close();
});

/** Submits until the hub accepts it: a 503 during the outage means "retry later". */
async function submitUntilAccepted(bytes: Buffer): Promise<string> {
  return eventually(async () => {
    const r = await commune.submit(bytes).catch(() => undefined);
    return r !== undefined && (r.status === 202 || r.status === 200) ? r.json.docId as string : undefined;
  }, 'acceptance', 90_000);
}

describe.skipIf(!hasBroker)('broker restart in the middle of a run', () => {
  it('delivers every accepted package exactly once', async () => {
    const packages = Array.from({ length: 36 }, (_, i) => n.document(commune, [department], `Gói ${i}`));
    const accepted: Promise<string>[] = packages.slice(0, 12).map(submitUntilAccepted);
    await Promise.all(accepted);

    rabbitmqctl('stop_app');
    // While the broker is away the hub answers at once: 503 UNAVAILABLE, nothing accepted.
    const refused = await eventually(async () => {
      const r = await commune.submit(n.document(commune, [department], 'Khi broker ngừng'));
      return r.status === 503 ? r : undefined;
    }, 'a 503 while the broker is down', 20_000);
    expect(refused.json.error.code).toBe('UNAVAILABLE');
    const during = packages.slice(12, 24).map(submitUntilAccepted); // these wait for the broker
    await new Promise((r) => setTimeout(r, 1500));
    rabbitmqctl('start_app');
    accepted.push(...during, ...packages.slice(24).map(submitUntilAccepted));
    const docIds = await Promise.all(accepted);
    expect(new Set(docIds).size).toBe(36);

    const inbox = await eventually(async () => {
      const items = (await department.request('GET', '/api/v1/edocs/received?limit=1000')).json?.items as { docId: string }[] | undefined;
      return items !== undefined && docIds.every((id) => items.some((i) => i.docId === id)) ? items : undefined;
    }, 'all 36 packages in the inbox', 90_000);
    const mine = inbox.filter((i) => docIds.includes(i.docId));
    expect(mine).toHaveLength(36); // each exactly once

    await eventually(async () => {
      const sent = (await commune.request('GET', '/api/v1/edocs/sent?limit=1000')).json?.items as { docId: string; recipients: { delivery: string }[] }[] | undefined;
      return sent !== undefined && docIds.every((id) => sent.find((s) => s.docId === id)?.recipients[0]?.delivery === 'delivered') ? true : undefined;
    }, 'every delivered receipt', 90_000);
  });
});
