// A closed agency's key on the national SDK dialect (/vxp), as on /api/v1 (docs/directory.md):
// it no longer sends, reads what it had during directory.closedKeyGrace, and after that is
// unknown. The /vxp secret is the agency's API key, so it follows the same rule. The client is
// JavaSdkService, which calls as the real SDK does.
import { describe, expect, it } from 'vitest';
import { eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';
import { expectSdkFail, JavaSdkService } from '../helpers/sdk-client.js';

const DAY = 86_400_000;
let n: TestNetwork;
let commune: Agent, school: Agent, otherCommune: Agent, district: Agent;

useTestNetwork({}, (started, a) => { n = started; ({ commune, school, otherCommune, district } = a); });

const sdkOf = (a: Agent) => new JavaSdkService(`${a.url}/vxp`, a.agency.code, a.agency.apiKey);
const close = (a: Agent, successor: Agent, from: Date) =>
  n.admin(0, 'POST', `/api/admin/agencies/${a.agency.code}/successor`, { successor: successor.agency.code, from: from.toISOString() });
/** Resolves once the agency's own hub answers its API key with `status` on /api/v1. */
const apiKeyAnswers = (a: Agent, status: number) => eventually(async () =>
  ((await a.request('GET', '/api/v1/edocs/received')).status === status ? true : undefined), `${a.agency.code}'s API key answered ${status}`);

describe('a closed agency on /vxp', () => {
  it('reads during its key\'s grace period and is unknown after it, as on /api/v1', async () => {
    // Both keys sign in on /vxp before the closures.
    for (const a of [school, otherCommune]) expect(await sdkOf(a).countReceiveEdoc({})).toMatchObject({ status: 'OK', count: 0 });

    // Closed now: within the grace period it still reads, and may no longer send.
    expect((await close(school, commune, new Date())).status).toBe(200);
    await eventually(async () => ((await school.submit(n.document(school, [district], 'Sau khi giải thể'))).status === 403 ? true : undefined), 'the school closed at its hub');
    const inGrace = sdkOf(school);
    expect(await inGrace.countReceiveEdoc({})).toMatchObject({ status: 'OK', count: 0 });
    expect(await inGrace.getSentEdocList({})).toMatchObject({ status: 'OK' });
    expect(await inGrace.sendEdoc({ from: school.agency.code, servicetype: 'eDoc', messagetype: 'edoc' }, n.document(school, [district], 'Qua SDK sau khi giải thể')))
      .toMatchObject({ status: 'FAIL', errorCode: '24', docId: '' });

    // Closed 31 days ago (the grace period is 30 days): /api/v1 no longer knows the key, nor does /vxp.
    expect((await close(otherCommune, district, new Date(Date.now() - 31 * DAY))).status).toBe(200);
    await apiKeyAnswers(otherCommune, 401);
    const expired = sdkOf(otherCommune);
    expect(await expired.countReceiveEdoc({})).toMatchObject({ status: 'FAIL', errorCode: '10', errorDesc: expect.stringMatching(/^UNAUTHENTICATED: /) });
    expectSdkFail(expired.wire.at(-1)!.reply, 401, '10', 'UNAUTHENTICATED');
    expect(await expired.getSentEdocList({})).toMatchObject({ status: 'FAIL', errorCode: '10' });
    expect(await expired.getReceivedEdocList({})).toMatchObject({ status: 'FAIL', errorCode: '10' });
    const download = await expired.downloadEdoc({ docId: '0'.repeat(32) });
    expect(download.status).toBe('FAIL');
    expectSdkFail(download.reply, 401, '10', 'UNAUTHENTICATED');
  });
});
