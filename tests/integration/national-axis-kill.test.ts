// Issue 17's proof of the way down, with a real crash: the province's top hub, as deployed (its
// own `lgsp start --config F --hub ID` process), takes a package from the stand-in national axis
// (tests/helpers/national-axis.ts) and is killed (SIGKILL, by the test hook
// LGSP_FAULT=exit-after-national-take:1) once the package is durable in the network and before it
// calls updateStatus. Started again without the hook, it is handed the same package again: the
// commune's mailbox holds it once, and the axis is told `done` once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docIdOf } from '../../src/pipeline/hop-pipeline.js';
import { signedDocument, type Agent } from '../helpers/agent.js';
import { startHubProcesses, type HubProcesses } from '../helpers/hub-processes.js';
import { startStandInAxis, type StandInAxis } from '../helpers/national-axis.js';
import { eventually } from '../helpers/network.js';
import { axisLink } from '../helpers/axis-link.js';

const MINISTRY = '000.00.00.G12';

let axis: StandInAxis | undefined;
let hubs: HubProcesses | undefined;
let ministry: Agent;

beforeAll(async () => {
  const systems = new Map([[MINISTRY, { secret: 'ministry-secret', owns: (c: string) => c.endsWith('.G12') }]]);
  axis = await startStandInAxis(systems, [{ id: MINISTRY, pid: '', code: MINISTRY, name: 'Bộ Nội vụ', mail: '', oldCode: '' }]);
  const link = axisLink(axis, { code: MINISTRY, name: 'Bộ Nội vụ' });
  hubs = await startHubProcesses({
    // Every hub knows the ministry's signing certificate (an agency no hub serves); the top hub links up.
    // The raw configuration demo/network.ts built (hubs and agencies arrays), as the hub's process reads it.
    configFor: (_hubId, config, net) => link.link(config as typeof config & { hubs: { id: string }[]; agencies: object[] }, net),
    envFor: (hubId): Record<string, string> => (hubId.startsWith('000.00.00.') ? { LGSP_FAULT: 'exit-after-national-take:1' } : {}),
  });
  ministry = link.ministry();
}, 120_000);
afterAll(async () => {
  // Every hub process this file started is stopped (close waits for each to exit), also on failure.
  await hubs?.close();
  await axis?.close();
}, 60_000);

describe('a hub killed between the durable write and updateStatus', () => {
  it('loses nothing and delivers nothing twice: the package is in the mailbox once and the axis is told done once', async () => {
    const h = hubs!;
    const a = axis!;
    const top = h.ids[0];
    const commune = h.agent('000.07.05.');
    const died = h.exited(top);
    const bytes = signedDocument(ministry, [commune], 'Ghi bền rồi bị giết trước khi báo xong');
    const nationalId = a.handOver({ from: MINISTRY, to: [commune.agency.code], messageType: 'edoc', bytes });

    expect(await died).toEqual({ code: null, signal: 'SIGKILL' });
    expect(a.requests.filter((q) => q.call === 'getEdoc' && q.signed.docId === nationalId).length).toBeGreaterThan(0);
    expect(a.requests.filter((q) => q.call === 'updateStatus')).toEqual([]);

    await h.start(top);
    await eventually(async () => a.updates.find((u) => u.docId === nationalId), 'updateStatus done after the restart', 30_000);
    // Taken again after the restart: the repeat is what the dedupe absorbs.
    expect(a.requests.filter((q) => q.call === 'getEdoc' && q.signed.docId === nationalId).length).toBeGreaterThan(1);
    const inMailbox = async () => {
      const r = await commune.request('GET', '/api/v1/edocs/received');
      return (r.json.items as { docId: string }[]).filter((i) => i.docId === docIdOf(bytes)).length;
    };
    await eventually(async () => ((await inMailbox()) > 0 ? true : undefined), 'the package in the commune\'s mailbox', 30_000);
    // Both copies (the one published before the kill, the one taken again) travel the tree: give a repeat time to land.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await inMailbox()).toBe(1);
    const download = await commune.request('GET', `/api/v1/edocs/${docIdOf(bytes)}`);
    expect(download.status).toBe(200);
    expect(download.bytes.equals(bytes)).toBe(true);
    expect(a.updates.filter((u) => u.docId === nationalId)).toEqual([{ systemId: top, docId: nationalId, status: 'done' }]);
    expect(h.crashes()).toEqual([]);
  }, 90_000);
});
