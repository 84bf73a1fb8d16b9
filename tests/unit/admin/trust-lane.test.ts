// The trust lane as an idempotent receiver, last writer wins per subject (issue 14 item 5), on
// real parts: SQLite ledgers, trust states, hub signers of a dev PKI. A signed change published
// again after a newer one is refused with STALE_CHANGE and dead-lettered, and hubs that get the
// same changes in any order end in the same state: the newest change of each subject.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, X509Certificate } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubError } from '../../../src/errors.js';
import type { TrustChange, TrustChangeBody } from '../../../src/admin/trust-changes.js';
import { createTrustLane } from '../../../src/admin/trust-lane.js';
import { createTrustState, seedTrustStore } from '../../../src/admin/trust-state.js';
import { createHubSigner, type HubSigner } from '../../../src/hop/seal.js';
import { openSqliteLedger } from '../../../src/ledger/sqlite.js';
import type { Ledger } from '../../../src/ledger/store.js';
import { createDevCa, issueEcCertificate, type KeyAndCert } from '../../../src/pki/dev-pki.js';
import { fingerprintOf } from '../../../src/trust/x509.js';

const HUBS = ['000.00.00.H41', '000.00.05.H41', '000.07.05.H41', '000.08.05.H41'] as const;
const [TOP, DISTRICT, COMMUNE, OTHER] = HUBS;
const DAY = 86_400_000;
const at = (minutes: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + minutes * 60_000).toISOString();
const log = pino({ level: 'silent' });

let signers: Map<string, HubSigner>;
let hubCerts: Map<string, string>;
let extraCa: KeyAndCert;
const dirs: string[] = [];
const ledgers: Ledger[] = [];

beforeAll(async () => {
  const now = Date.now();
  const ca = createDevCa('Hubs CA', new Date(now - DAY), new Date(now + 365 * DAY));
  extraCa = createDevCa('Another CA', new Date(now - DAY), new Date(now + 365 * DAY));
  const issued = await Promise.all(HUBS.map((id) => issueEcCertificate({ ca, commonName: id, agency: id, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) })));
  hubCerts = new Map(HUBS.map((id, i) => [id, issued[i]!.certPem]));
  signers = new Map(HUBS.map((id, i) => {
    const s = createHubSigner(id, issued[i]!.keyPem, new X509Certificate(issued[i]!.certPem));
    if (!s.ok) throw new Error(s.error.message);
    return [id, s.value];
  }));
});
afterAll(async () => {
  for (const l of ledgers.splice(0)) await l.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Message { body: Buffer; headers: Record<string, string> }

/** A ledger every hub's seal certificate is known to, as configuration seeds it. */
async function ledgerOf(dir: string): Promise<Ledger> {
  const ledger = openSqliteLedger(dir, () => new Date());
  ledgers.push(ledger);
  for (const [id, pem] of hubCerts) await ledger.addHubCertificate(id, fingerprintOf(new X509Certificate(pem)), pem, at(0));
  return ledger;
}

/** A replica of hub `id` on the ledger in `dir` (a new one if absent): its lane, what it broadcast and dead-lettered. */
async function replicaOf(id: string, replica = 'a', dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-lane-'))) {
  dirs.push(dir);
  const ledger = await ledgerOf(dir);
  const trust = await createTrustState({ ledger, log, failClosed: false, outsideSenders: () => ({ accept: 'none', codeAttribute: 'OU', network: { hubs: [], agencies: [] } }) });
  const sent: Message[] = [];
  const dead: HubError[] = [];
  const lane = createTrustLane({
    hubId: id, replica, ledger, trust, signer: signers.get(id)!, clock: () => new Date(), log,
    reloadAgencies: async () => {}, recheckExpiry: async () => {},
    broadcast: async (body, headers) => { sent.push({ body, headers }); },
    confirmed: async () => {}, keyActivated: async () => {}, lanesChanged: async () => {},
  });
  return {
    dir, ledger, lane, sent, dead,
    /** Makes a change here, as the admin API does; answers what it broadcast. */
    make: async (body: TrustChangeBody, minutes: number) => {
      const made = await lane.change({ ...body, actor: 'admin', at: at(minutes), origin: id } as TrustChange);
      if (!made.ok) throw new Error(made.error.message);
      return sent.at(-1)!;
    },
    receive: (m: Message) => lane.receive(m.body, m.headers, async (reason) => { dead.push(reason); }),
    /** The trusted CAs, as this replica's memory holds them (the snapshot checks use). */
    cas: () => trust.anchors().map(fingerprintOf),
  };
}

const extraFp = () => fingerprintOf(new X509Certificate(extraCa.certPem));
const caAdd = (): TrustChangeBody => ({ kind: 'ca.add', fingerprint: extraFp(), pem: extraCa.certPem });
const caRemove = (): TrustChangeBody => ({ kind: 'ca.remove', fingerprint: extraFp() });
const permutations = <T>(xs: readonly T[]): T[][] => (xs.length <= 1 ? [[...xs]] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));

describe('the trust lane, an idempotent receiver', () => {
  it('dead-letters a signed ca.add published again after its ca.remove, and the CA stays removed on every replica', async () => {
    const top = await replicaOf(TOP);
    const district = await replicaOf(DISTRICT);
    const sibling = await replicaOf(DISTRICT, 'b', district.dir); // a second replica on the district's ledger
    const fp = extraFp();
    const added = await top.make(caAdd(), 1);
    await district.receive(added);
    await sibling.lane.refresh(added.body, added.headers);
    expect([district.cas(), sibling.cas()]).toEqual([expect.arrayContaining([fp]), expect.arrayContaining([fp])]);
    const removed = await top.make(caRemove(), 2);
    await district.receive(removed);
    await sibling.lane.refresh(removed.body, removed.headers);
    expect([district.cas(), sibling.cas()]).toEqual([expect.not.arrayContaining([fp]), expect.not.arrayContaining([fp])]);

    // The replay: the very bytes and headers of the ca.add, on the hub's queue and on a replica's.
    await district.receive(added);
    await sibling.lane.refresh(added.body, added.headers);
    expect(district.dead).toEqual([expect.objectContaining({ code: 'STALE_CHANGE', message: expect.stringContaining(`ca:${fp}`) })]);
    expect((await district.ledger.trustedCas()).map((c) => c.fingerprint)).not.toContain(fp);
    expect([district.cas(), sibling.cas()]).toEqual([expect.not.arrayContaining([fp]), expect.not.arrayContaining([fp])]);
    // At the origin too: its other replica refuses it (the origin claimed its changes when it made them).
    const topSibling = await replicaOf(TOP, 'b', top.dir);
    await topSibling.lane.refresh(added.body, added.headers);
    expect((await top.ledger.trustedCas()).map((c) => c.fingerprint)).not.toContain(fp);
  });

  it('seeds the configuration\'s CA at every start until an operator removes it; a restart does not bring it back', async () => {
    const top = await replicaOf(TOP);
    const fp = extraFp();
    const material = { anchors: [new X509Certificate(extraCa.certPem)], crls: [], seed: [], hubCertificates: new Map() };
    const seeded = async () => { await seedTrustStore(top.ledger, material, new Date()); return (await top.ledger.trustedCas()).map((c) => c.fingerprint); };
    expect(await seeded()).toContain(fp);
    expect(await seeded()).toContain(fp); // a second start seeds it again, idempotently
    await top.make(caRemove(), 2);
    expect(await seeded()).not.toContain(fp);
  });

  it('applies the same change again (a redelivery, a sibling replica after the first): each replica\'s memory follows', async () => {
    const top = await replicaOf(TOP);
    const district = await replicaOf(DISTRICT);
    const sibling = await replicaOf(DISTRICT, 'b', district.dir);
    const added = await top.make(caAdd(), 1);
    await district.receive(added);
    await district.receive(added);
    await sibling.lane.refresh(added.body, added.headers);
    const fp = extraFp();
    expect(district.dead).toEqual([]);
    expect([district.cas(), sibling.cas()]).toEqual([expect.arrayContaining([fp]), expect.arrayContaining([fp])]);
  });

  it('converges: hubs that get the same changes in any order all end with the newest change of each subject', async () => {
    // Two hubs change one CA, one of them twice; a third hub's ca.add made at the same minute as a
    // removal, so that the digest decides between them.
    const top = await replicaOf(TOP);
    const district = await replicaOf(DISTRICT);
    const other = await replicaOf(OTHER);
    const changes = [await top.make(caAdd(), 1), await district.make(caRemove(), 2), await top.make(caAdd(), 3)];
    const fp = extraFp();
    for (const order of permutations(changes)) {
      const hub = await replicaOf(COMMUNE);
      for (const m of order) await hub.receive(m);
      expect(hub.cas(), `order ${order.map((m) => changes.indexOf(m)).join(',')}`).toContain(fp);
      expect(hub.dead.every((e) => e.code === 'STALE_CHANGE')).toBe(true);
    }
    const tied = [await other.make(caRemove(), 4), await top.make(caAdd(), 4)];
    const digest = (m: Message) => createHash('sha256').update(m.body).digest('hex');
    const winner = digest(tied[0]!) > digest(tied[1]!) ? 'removed' : 'added';
    for (const order of permutations(tied)) {
      const hub = await replicaOf(COMMUNE);
      for (const m of [...changes, ...order]) await hub.receive(m);
      expect(hub.cas().includes(fp) ? 'added' : 'removed').toBe(winner);
    }
  });

  it('refuses to make a change older than the one its hub holds for that subject: nothing applied, nothing broadcast', async () => {
    const top = await replicaOf(TOP);
    const district = await replicaOf(DISTRICT);
    // The district's clock runs ahead: its removal holds the CA's subject when the top hub makes an add.
    await top.receive(await district.make(caAdd(), 10));
    await top.receive(await district.make(caRemove(), 20));
    const sent = top.sent.length;
    const made = await top.lane.change({ ...caAdd(), actor: 'admin', at: at(15), origin: TOP } as TrustChange);
    expect(made).toMatchObject({ ok: false, error: { code: 'STALE_CHANGE' } });
    expect(top.sent).toHaveLength(sent);
    expect(top.cas()).not.toContain(extraFp());
  });

  it('applies of a plan the parts no newer change holds', async () => {
    const top = await replicaOf(TOP);
    const district = await replicaOf(DISTRICT);
    const hub = await replicaOf(COMMUNE);
    const code = (n: number) => `000.0${n}.05.H41`;
    const plan = await top.make({
      kind: 'agency.plan', add: [],
      changes: [{ code: code(1), successor: null, from: null, hubId: DISTRICT }, { code: code(2), successor: null, from: null, hubId: DISTRICT }],
    }, 1);
    const move = await district.make({ kind: 'agency.move', code: code(2), hubId: COMMUNE }, 2);
    for (const m of [move, plan]) await hub.receive(m);
    expect(hub.dead).toEqual([]);
    expect(await hub.ledger.directoryEntries()).toEqual([
      { code: code(1), successor: null, from: null, hubId: DISTRICT }, { code: code(2), successor: null, from: null, hubId: COMMUNE },
    ]);
    // Both parts held by newer changes: the plan again is refused whole.
    await hub.receive(await district.make({ kind: 'agency.move', code: code(1), hubId: COMMUNE }, 3));
    await hub.receive(plan);
    expect(hub.dead).toEqual([expect.objectContaining({ code: 'STALE_CHANGE' })]);
  });
});
