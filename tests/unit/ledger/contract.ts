// The ledger contract: what any Ledger must do, written against the interface only. The SQLite
// ledger runs it (sqlite.test.ts); any other implementation (PostgreSQL) must pass it unchanged.
// `open` may be called several times for one store: two handles on one store stand for two
// processes sharing it, and states must never move backwards whatever order their writes land in.
import { afterEach, describe, expect, it } from 'vitest';
import type { HopRecord } from '../../../src/hop/trace.js';
import type { CertRecord, DeliveryState, Ledger } from '../../../src/ledger/store.js';

export interface LedgerFactory {
  /** A fresh, empty store; `handle()` opens another handle on that same store. */
  create(): Promise<{ ledger: Ledger; handle(): Promise<Ledger>; remove(): Promise<void> }>;
}

const T0 = Date.parse('2026-11-01T00:00:00Z');
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const hop = (hub: string, minutes: number, verdict: HopRecord['verdict'] = 'accepted'): HopRecord =>
  ({ hub, at: iso(minutes), verdict, checks: { schema: 'ok' }, ms: 1.5 });
const docId = (n: number) => n.toString(16).padStart(32, '0');
const fingerprint = (n: number) => n.toString(16).padStart(64, '0');
const cert = (n: number, agency: string): CertRecord => ({
  fingerprint: fingerprint(n), agency, pem: `PEM ${n}`, subject: `CN=${agency}`, notBefore: iso(0), notAfter: iso(60 * 24 * 365),
  state: 'active', addedAt: iso(1), addedBy: 'config',
});

export function describeLedgerContract(name: string, factory: LedgerFactory): void {
  describe(`the ledger contract: ${name}`, () => {
    const opened: { remove(): Promise<void> }[] = [];
    const handles: Ledger[] = [];
    afterEach(async () => {
      for (const h of handles.splice(0)) await h.close();
      for (const o of opened.splice(0)) await o.remove();
    });
    const fresh = async () => {
      const store = await factory.create();
      opened.push(store);
      handles.push(store.ledger);
      return {
        ledger: store.ledger,
        another: async () => {
          const h = await store.handle();
          handles.push(h);
          return h;
        },
      };
    };
    const submit = (ledger: Ledger, n: number, sender = 'A', recipients = ['B', 'C'], extra: { documentId?: string; subject?: string } = {}) =>
      ledger.recordSubmission({ docId: docId(n), kind: 'edoc', sender, digest: `d${n}`, submittedAt: iso(n), ...extra }, recipients, hop('H1', n));

    it('records a submission once, with its recipients queued and its first hop', async () => {
      const { ledger } = await fresh();
      expect(await submit(ledger, 1, 'A', ['B', 'C'], { subject: 'Công văn', documentId: '12/UBND' })).toBe('new');
      expect(await submit(ledger, 1)).toBe('existing');
      expect(await ledger.submission(docId(1))).toMatchObject({
        docId: docId(1), kind: 'edoc', sender: 'A', subject: 'Công văn', documentId: '12/UBND',
        recipients: [{ organId: 'B', delivery: 'queued' }, { organId: 'C', delivery: 'queued' }],
      });
      expect(await ledger.submission(docId(99))).toBeNull();
      expect(await ledger.trace(docId(1))).toEqual([hop('H1', 1)]);
      expect(await ledger.findByDocumentId('A', '12/UBND')).toBe(docId(1));
      expect(await ledger.findByDocumentId('B', '12/UBND')).toBeNull();
      await submit(ledger, 2);
      expect((await ledger.sent('A', 10)).map((s) => s.docId)).toEqual([docId(2), docId(1)]);
      expect((await ledger.sent('A', 1)).map((s) => s.docId)).toEqual([docId(2)]);
    });

    it('withdraws a submission the broker did not take, leaving no trace of it', async () => {
      const { ledger } = await fresh();
      await submit(ledger, 1);
      await submit(ledger, 2);
      await ledger.withdrawSubmission(docId(1));
      expect(await ledger.submission(docId(1))).toBeNull();
      expect(await ledger.trace(docId(1))).toEqual([]);
      expect((await ledger.sent('A', 10)).map((s) => s.docId)).toEqual([docId(2)]);
      expect(await submit(ledger, 1)).toBe('new');
    });

    it('moves a recipient\'s delivery state forward only, and keeps its business status', async () => {
      const { ledger } = await fresh();
      await submit(ledger, 1);
      const state = async () => (await ledger.submission(docId(1)))!.recipients.find((r) => r.organId === 'B')!;
      await ledger.updateRecipients(docId(1), ['B'], { delivery: 'delivered' });
      await ledger.updateRecipients(docId(1), ['B'], { delivery: 'in_transit' });
      expect(await state()).toEqual({ organId: 'B', delivery: 'delivered' });
      await ledger.updateRecipients(docId(1), ['B'], { status: '03' });
      expect(await state()).toEqual({ organId: 'B', delivery: 'delivered', status: '03' });
      await ledger.updateRecipients(docId(1), ['B'], { delivery: 'acked' }, [hop('H2', 5)]);
      await ledger.updateRecipients(docId(1), ['B'], { delivery: 'queued' });
      expect(await state()).toEqual({ organId: 'B', delivery: 'acked', status: '03' });
      expect((await ledger.trace(docId(1))).map((h) => h.hub)).toEqual(['H1', 'H2']);
      await ledger.updateRecipients(docId(1), ['nobody'], { delivery: 'acked' });
      expect((await ledger.submission(docId(1)))!.recipients.map((r) => r.organId)).toEqual(['B', 'C']);
    });

    it('never moves a delivery state back when two processes write in any order', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      await submit(ledger, 1, 'A', ['B']);
      const steps: DeliveryState[] = ['in_transit', 'delivered', 'acked'];
      // Every interleaving of the three steps across the two handles, many times over.
      for (let round = 0; round < 20; round++) {
        await Promise.all([...steps, ...steps].reverse().map((delivery, i) =>
          (i % 2 === 0 ? ledger : other).updateRecipients(docId(1), ['B'], { delivery })));
      }
      expect((await other.submission(docId(1)))!.recipients).toEqual([{ organId: 'B', delivery: 'acked' }]);
    });

    it('answers calls made together as if they had been made one after another', async () => {
      const { ledger } = await fresh();
      // Several writes of each kind in one turn: a ledger may write them together (group commit),
      // the first perhaps alone and the others in one statement, a repeat beside its original.
      expect(await Promise.all([submit(ledger, 3, 'A', ['B']), submit(ledger, 1, 'A', ['B', 'C']), submit(ledger, 1, 'A', ['B', 'C']), submit(ledger, 2, 'A', ['B'])]))
        .toEqual(['new', 'new', 'existing', 'new']);
      // Each copy's bytes differ (in length too), so that a statement carrying several cannot mix them up.
      const bytes = (n: number, agency: string) => Buffer.from(`<edXML n="${n}" for="${agency.repeat(n + 1)}"/>`);
      const delivery = (n: number, agency: string) => ({ docId: docId(n), agency, kind: 'edoc' as const, sender: 'A', originHub: 'H1', bytes: bytes(n, agency), receivedAt: iso(3) });
      expect(await Promise.all([
        ledger.deliver(delivery(2, 'B'), []),
        ledger.deliver(delivery(1, 'B'), [hop('H2', 3)]), ledger.deliver(delivery(1, 'B'), [hop('H2', 4)]), ledger.deliver(delivery(1, 'C'), [hop('H3', 3)]),
      ])).toEqual(['stored', 'stored', 'duplicate', 'stored']);
      for (const [agency, n] of [['B', 1], ['C', 1], ['B', 2]] as const) {
        expect(Buffer.compare((await ledger.download(agency, docId(n))) as Buffer, bytes(n, agency))).toBe(0);
      }
      // The trace of a duplicate is not written; each stored copy's is.
      expect(await ledger.trace(docId(1))).toEqual([hop('H1', 1), hop('H2', 3), hop('H3', 3)]);
      const recorded = { outcome: 'recorded', originHub: 'H1', sender: 'A' };
      expect(await Promise.all([
        ledger.ack('B', docId(2), 'done', undefined), ledger.ack('B', docId(1), 'done', undefined), ledger.ack('B', docId(1), 'fail', 'late'),
        ledger.ack('B', docId(1), 'done', undefined), ledger.ack('D', docId(1), 'done', undefined), ledger.ack('C', docId(1), 'fail', 'not ours'),
      ])).toEqual([recorded, recorded, { outcome: 'conflict', held: 'done' }, { outcome: 'repeated', originHub: 'H1', sender: 'A' }, null, recorded]);
      expect(await ledger.mailboxEntries(docId(1))).toMatchObject([{ agency: 'B', ackResult: 'done' }, { agency: 'C', ackResult: 'fail' }]);
      await Promise.all([
        ledger.updateRecipients(docId(2), ['B'], { delivery: 'failed', status: '02' }),
        ledger.updateRecipients(docId(1), ['B'], { delivery: 'delivered' }),
        ledger.updateRecipients(docId(1), ['B'], { delivery: 'acked' }),
        ledger.updateRecipients(docId(1), ['B', 'C'], { delivery: 'in_transit', status: '03' }, [hop('H4', 5)]),
        ledger.updateRecipients(docId(1), ['B'], { status: '04' }),
        ledger.appendTrace(docId(3), [hop('H5', 6)]),
        ledger.appendTrace(docId(2), [hop('H5', 6)]),
        ledger.appendTrace(docId(2), [hop('H6', 7, 'rejected')]),
      ]);
      expect((await ledger.submission(docId(1)))!.recipients).toEqual([
        { organId: 'B', delivery: 'acked', status: '04' }, { organId: 'C', delivery: 'in_transit', status: '03' }]);
      expect((await ledger.submission(docId(2)))!.recipients).toEqual([{ organId: 'B', delivery: 'failed', status: '02' }]);
      expect(await ledger.trace(docId(1))).toContainEqual(hop('H4', 5));
      expect(await ledger.trace(docId(2))).toEqual([hop('H1', 2), hop('H5', 6), hop('H6', 7, 'rejected')]);
    });

    it('stores a package once per recipient (the idempotent receiver) and gives back its exact bytes', async () => {
      const { ledger } = await fresh();
      const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
      const delivery = { docId: docId(1), agency: 'B', kind: 'edoc' as const, sender: 'A', originHub: 'H1', bytes, receivedAt: iso(3), subject: 'S' };
      expect(await ledger.deliver(delivery, [hop('H2', 3)])).toBe('stored');
      expect(await ledger.deliver({ ...delivery, receivedAt: iso(4) }, [hop('H2', 4)])).toBe('duplicate');
      expect(await ledger.deliver({ ...delivery, agency: 'C' }, [])).toBe('stored');
      expect(Buffer.compare((await ledger.download('B', docId(1))) as Buffer, bytes)).toBe(0);
      expect(await ledger.download('D', docId(1))).toBeNull();
      expect(await ledger.received('B', undefined, 10)).toEqual([{ docId: docId(1), kind: 'edoc', from: 'A', subject: 'S', receivedAt: iso(3) }]);
      expect(await ledger.received('B', 'status', 10)).toEqual([]);
      expect(await ledger.countReceived('B', undefined)).toBe(1);
      expect(await ledger.isRecipient('B', docId(1))).toBe(true);
      expect(await ledger.isRecipient('D', docId(1))).toBe(false);
      expect(await ledger.trace(docId(1))).toEqual([hop('H2', 3)]);
      expect(await ledger.ack('B', docId(1), 'done', undefined)).toEqual({ outcome: 'recorded', originHub: 'H1', sender: 'A' });
      expect(await ledger.received('B', undefined, 10)).toEqual([]);
      expect(await ledger.countReceived('B', undefined)).toBe(0);
      expect(await ledger.ack('D', docId(1), 'done', undefined)).toBeNull();
      expect(await ledger.mailboxEntries(docId(1))).toEqual([
        { agency: 'B', receivedAt: iso(3), ackedAt: expect.any(String), ackResult: 'done' }, { agency: 'C', receivedAt: iso(3) }]);
    });

    it('lets the first acknowledgement stand when two processes race done against fail; repeats pass', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      for (let i = 0; i < 20; i++) {
        expect(await ledger.deliver({ docId: docId(i), agency: 'B', kind: 'edoc', sender: 'A', originHub: 'H1', bytes: Buffer.from('<edXML/>'), receivedAt: iso(i) }, [])).toBe('stored');
        const [first, second] = i % 2 === 0 ? [ledger, other] : [other, ledger];
        const outcomes = await Promise.all([first.ack('B', docId(i), 'done', undefined), second.ack('B', docId(i), 'fail', 'not ours')]);
        expect(outcomes.filter((o) => o?.outcome === 'recorded'), JSON.stringify(outcomes)).toHaveLength(1);
        const held = outcomes[0]!.outcome === 'recorded' ? 'done' : 'fail';
        expect(outcomes.find((o) => o?.outcome !== 'recorded')).toEqual({ outcome: 'conflict', held });
        expect(await other.ack('B', docId(i), held, undefined)).toEqual({ outcome: 'repeated', originHub: 'H1', sender: 'A' });
        expect((await ledger.mailboxEntries(docId(i)))[0]).toMatchObject({ agency: 'B', ackResult: held });
      }
    });

    it('keeps the newest CRL of each CA, whatever order they are imported in', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      const crl = (thisUpdate: number, issuer = 'ca1') =>
        ({ issuerFingerprint: issuer, der: Buffer.from([thisUpdate]), thisUpdate: iso(thisUpdate), importedAt: iso(100), importedBy: 'op' });
      expect(await ledger.putCrl(crl(10))).toBe(true);
      expect(await other.putCrl(crl(5))).toBe(false);
      expect(await other.putCrl(crl(10))).toBe(false);
      expect(await ledger.putCrl(crl(5, 'ca2'))).toBe(true);
      await Promise.all([ledger.putCrl(crl(30)), other.putCrl(crl(20)), ledger.putCrl(crl(25)), other.putCrl(crl(15))]);
      const held = (await ledger.crls()).sort((a, b) => a.issuerFingerprint.localeCompare(b.issuerFingerprint));
      expect(held.map((c) => [c.issuerFingerprint, c.thisUpdate, [...c.der]])).toEqual([['ca1', iso(30), [30]], ['ca2', iso(5), [5]]]);
    });

    it('keeps the newest version of each trust subject: newer wins, older is refused, the same version holds again', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      const digest = (c: string) => c.repeat(64);
      expect(await ledger.claimTrustVersions(['ca:1'], iso(10), digest('5'))).toEqual(['ca:1']);
      expect(await other.claimTrustVersions(['ca:1'], iso(9), digest('f'))).toEqual([]); // older: a replay
      expect(await other.claimTrustVersions(['ca:1'], iso(10), digest('5'))).toEqual(['ca:1']); // the same: a redelivery, a sibling replica
      expect(await ledger.claimTrustVersions(['ca:1'], iso(11), digest('0'))).toEqual(['ca:1']); // newer, whatever its digest
      expect(await other.claimTrustVersions(['ca:1'], iso(10), digest('5'))).toEqual([]); // the version it held before is older now
      // The same time: the greater digest wins, on every handle, in whichever order they claim.
      expect(await ledger.claimTrustVersions(['ca:1'], iso(11), digest('a'))).toEqual(['ca:1']);
      expect(await other.claimTrustVersions(['ca:1'], iso(11), digest('0'))).toEqual([]);
      expect(await other.claimTrustVersions(['ca:1'], iso(11), digest('a'))).toEqual(['ca:1']);
      // Each subject on its own: a change holds those it is not older for (a subject named twice once).
      expect((await ledger.claimTrustVersions(['agency:B', 'ca:1', 'agency:A', 'agency:B'], iso(11), digest('5'))).sort()).toEqual(['agency:A', 'agency:B']);
      expect(await ledger.claimTrustVersions([], iso(12), digest('5'))).toEqual([]);
      // Two handles racing with different versions of one subject: the newest holds, whatever order they land in.
      const versions = [[iso(20), digest('1')], [iso(22), digest('2')], [iso(21), digest('3')], [iso(22), digest('1')]] as const;
      await Promise.all(versions.map(([at, d], i) => (i % 2 === 0 ? ledger : other).claimTrustVersions(['cert:9'], at, d)));
      for (const [at, d] of versions) {
        expect(await other.claimTrustVersions(['cert:9'], at, d), at + d).toEqual(at === iso(22) && d === digest('2') ? ['cert:9'] : []);
      }
    });

    it('moves a certificate forward only: a revoked certificate stays revoked', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      expect(await ledger.addCertificate(cert(1, 'A'))).toBe(true);
      expect(await other.addCertificate({ ...cert(1, 'A'), agency: 'B' })).toBe(false);
      expect(await ledger.updateCertificate(fingerprint(9), { state: 'revoked' })).toBe(false);
      expect(await ledger.updateCertificate(fingerprint(1), { retireAt: iso(50) })).toBe(true);
      await Promise.all([
        other.updateCertificate(fingerprint(1), { state: 'revoked', revokedAt: iso(60), reason: 'keyCompromise' }),
        ledger.updateCertificate(fingerprint(1), { state: 'active' }),
      ]);
      await ledger.updateCertificate(fingerprint(1), { state: 'revoked', revokedAt: iso(70), reason: 'again' });
      await other.updateCertificate(fingerprint(1), { state: 'active' });
      expect(await ledger.certificates()).toEqual([{
        ...cert(1, 'A'), state: 'revoked', retireAt: iso(50), revokedAt: iso(60), reason: 'keyCompromise',
      }]);
    });

    it('keeps dead letters: once per message, filtered, paged, replayed and deleted', async () => {
      const { ledger } = await fresh();
      const dead = (n: number, reasonCode: string, sender: string) => ({
        docId: docId(n), kind: 'edoc', sender, reasonCode, reason: `reason ${n}`, deadAt: iso(n), headers: { 'x-lgsp-doc-id': docId(n) },
        body: Buffer.from(`<edXML>${n}</edXML>`), messageKey: `key-${n}`,
      });
      for (let n = 1; n <= 5; n++) expect(await ledger.addDeadLetter(dead(n, n % 2 === 0 ? 'SIGNATURE_INVALID' : 'SCHEMA_INVALID', n < 3 ? 'A' : 'B'))).toBe('stored');
      expect(await ledger.addDeadLetter(dead(1, 'SCHEMA_INVALID', 'A'))).toBe('duplicate');
      const all = await ledger.deadLetters({ limit: 2, offset: 0 });
      expect(all.total).toBe(5);
      expect(all.items.map((d) => d.docId)).toEqual([docId(5), docId(4)]);
      expect((await ledger.deadLetters({ limit: 2, offset: 4 })).items.map((d) => d.docId)).toEqual([docId(1)]);
      expect((await ledger.deadLetters({ reason: 'SIGNATURE_INVALID', limit: 10, offset: 0 })).items.map((d) => d.docId)).toEqual([docId(4), docId(2)]);
      expect((await ledger.deadLetters({ agency: 'A', limit: 10, offset: 0 })).total).toBe(2);
      expect((await ledger.deadLetters({ since: iso(2), until: iso(4), limit: 10, offset: 0 })).items.map((d) => d.docId)).toEqual([docId(3), docId(2)]);
      const first = all.items[0]!;
      expect(first).toMatchObject({ reasonCode: 'SCHEMA_INVALID', sender: 'B', headers: { 'x-lgsp-doc-id': docId(5) }, size: 16 });
      expect((await ledger.deadLetter(first.id))!.body.toString()).toBe('<edXML>5</edXML>');
      expect(await ledger.markDeadLetter(first.id, 'replayed', iso(10))).toBe(true);
      expect((await ledger.deadLetter(first.id))!.replayedAt).toBe(iso(10));
      expect(await ledger.markDeadLetter(first.id, 'deleted', iso(11))).toBe(true);
      expect(await ledger.markDeadLetter(first.id, 'deleted', iso(12))).toBe(false);
      expect(await ledger.deadLetter(first.id)).toBeNull();
      expect((await ledger.deadLetters({ limit: 10, offset: 0 })).total).toBe(4);
    });

    it('finds documents by organ, period and state, newest first, in pages', async () => {
      const { ledger } = await fresh();
      for (let n = 1; n <= 5; n++) await submit(ledger, n, n <= 3 ? 'A' : 'X', ['B']);
      await ledger.updateRecipients(docId(2), ['B'], { delivery: 'delivered', status: '03' });
      await ledger.appendTrace(docId(6), [hop('H2', 6, 'rejected')]);
      const page = await ledger.searchDocuments({ limit: 2, offset: 0 });
      expect(page.total).toBe(6);
      expect(page.items.map((d) => d.docId)).toEqual([docId(6), docId(5)]);
      expect(page.items[0]).toMatchObject({ role: 'transit', rejected: true });
      expect(page.items[1]).toMatchObject({ role: 'origin', rejected: false, sender: 'X', kind: 'edoc' });
      expect((await ledger.searchDocuments({ limit: 10, offset: 5 })).items.map((d) => d.docId)).toEqual([docId(1)]);
      expect((await ledger.searchDocuments({ organ: 'A', limit: 10, offset: 0 })).total).toBe(3);
      expect((await ledger.searchDocuments({ status: '03', limit: 10, offset: 0 })).items.map((d) => d.docId)).toEqual([docId(2)]);
      expect((await ledger.searchDocuments({ delivery: 'delivered', limit: 10, offset: 0 })).items.map((d) => d.docId)).toEqual([docId(2)]);
      expect((await ledger.searchDocuments({ since: iso(2), until: iso(4), limit: 10, offset: 0 })).items.map((d) => d.docId)).toEqual([docId(3), docId(2)]);
    });

    it('answers whether it is reachable (for /readyz), and says no once closed', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      expect(await other.reachable()).toBe(true);
      await other.close();
      handles.splice(handles.indexOf(other), 1);
      expect(await other.reachable()).toBe(false);
      expect(await ledger.reachable()).toBe(true);
    });

    it('keeps the trust store\'s other parts and the audit log', async () => {
      const { ledger, another } = await fresh();
      expect(await ledger.addAgency({ code: 'N', name: 'Sở Mới', parent: null, hubId: 'H1', apiKeyHash: 'f'.repeat(64) }, iso(1), 'sec')).toBe(true);
      expect(await ledger.addAgency({ code: 'N', name: 'Other', parent: null, hubId: 'H2', apiKeyHash: 'e'.repeat(64) }, iso(2), 'sec')).toBe(false);
      expect(await ledger.agencies()).toEqual([{ code: 'N', name: 'Sở Mới', parent: null, hubId: 'H1', apiKeyHash: 'f'.repeat(64) }]);
      expect(await ledger.addTrustedCa('ca1', 'PEM', iso(1), 'config')).toBe(true);
      expect(await ledger.addTrustedCa('ca1', 'PEM', iso(2), 'config')).toBe(false);
      expect(await ledger.removeTrustedCa('ca1')).toBe(true);
      expect(await ledger.removeTrustedCa('ca1')).toBe(false);
      expect(await ledger.trustedCas()).toEqual([]);
      expect(await ledger.addHubCertificate('H1', 'fp1', 'PEM1', iso(1))).toBe(true);
      expect(await ledger.addHubCertificate('H1', 'fp1', 'PEM1', iso(2))).toBe(false);
      expect(await ledger.hubCertificates()).toEqual([{ hubId: 'H1', fingerprint: 'fp1', pem: 'PEM1', addedAt: iso(1) }]);
      expect(await ledger.activeSealKey()).toBeNull();
      await ledger.activateSealKey('k1.pem', 'C1', iso(1));
      await ledger.activateSealKey('k2.pem', 'C2', iso(2));
      expect(await (await another()).activeSealKey()).toEqual({ keyFile: 'k2.pem', certPem: 'C2' });
      await ledger.audit('sec', 'agency.add', { code: 'N' });
      await ledger.audit('op', 'lane.pause', { queue: 'q' });
      expect(await ledger.auditLog(1)).toEqual([{ at: expect.any(String), actor: 'op', action: 'lane.pause', detail: { queue: 'q' } }]);
      expect((await ledger.auditLog(10)).map((a) => a.action)).toEqual(['lane.pause', 'agency.add']);
    });

    // System accounts of the SDK dialect (issue 17).
    it('reads the mailboxes and sent documents of every agency matching a system\'s code patterns', async () => {
      const { ledger } = await fresh();
      const deliver = (n: number, agency: string, kind: 'edoc' | 'status' = 'edoc') =>
        ledger.deliver({ docId: docId(n), agency, kind, sender: '000.00.00.G22', originHub: 'H1', bytes: Buffer.from('<edXML/>'), receivedAt: iso(n) }, []);
      await deliver(1, '000.07.05.H41');
      await deliver(1, '000.00.12.H41'); // one package, two of the province's recipients
      await deliver(2, '000.00.12.H42'); // another province's
      await deliver(3, '000.00.12.H41', 'status');
      const h41 = ['*.H41'];
      expect((await ledger.receivedMatching(h41, undefined, 10)).map((i) => [i.docId, i.agency, i.kind])).toEqual([
        [docId(1), '000.00.12.H41', 'edoc'], [docId(1), '000.07.05.H41', 'edoc'], [docId(3), '000.00.12.H41', 'status']]);
      expect((await ledger.receivedMatching(h41, 'status', 10)).map((i) => i.docId)).toEqual([docId(3)]);
      expect((await ledger.receivedMatching(['*.05.H41', '000.00.12.H42'], undefined, 10)).map((i) => i.agency)).toEqual(['000.07.05.H41', '000.00.12.H42']);
      expect(await ledger.countReceivedMatching(h41, undefined)).toBe(2); // each package once
      expect(await ledger.countReceivedMatching(h41, 'edoc')).toBe(1);
      await ledger.ack('000.07.05.H41', docId(1), 'done', undefined);
      expect((await ledger.receivedMatching(h41, 'edoc', 10)).map((i) => i.agency)).toEqual(['000.00.12.H41']);

      await submit(ledger, 4, '000.07.05.H41', ['000.00.00.G22'], { subject: 'Lên Bộ' });
      await submit(ledger, 5, '000.07.05.H42', ['000.00.00.G22']);
      expect((await ledger.sentMatching(h41, 10)).map((d) => [d.docId, d.sender, d.subject, d.recipients.map((r) => r.organId)]))
        .toEqual([[docId(4), '000.07.05.H41', 'Lên Bộ', ['000.00.00.G22']]]);
      expect((await ledger.sentMatching(['*.H41', '*.H42'], 1)).map((d) => d.docId)).toEqual([docId(5)]);
      // An agency's own list keeps its shape (the agency API answers it as it is).
      expect(Object.keys((await ledger.sent('000.07.05.H41', 10))[0]!)).not.toContain('sender');
    });

    // Seal keys shared by a hub's replicas (issue 18).
    it('keeps a staged seal key and its confirmations for every handle, and the key activated last is the current one', async () => {
      const { ledger, another } = await fresh();
      expect(await ledger.currentSealKey()).toBeNull();
      await ledger.stageSealKey('fp1', 'KEY1', 'CERT1', iso(1));
      await ledger.stageSealKey('fp2', 'KEY2', 'CERT2', iso(2));
      expect(await ledger.currentSealKey()).toBeNull();
      expect(await ledger.confirmSealKey('fp1', 'H2', iso(3))).toBe(true);
      expect(await (await another()).confirmSealKey('fp1', 'H2', iso(4))).toBe(false);
      await ledger.confirmSealKey('fp1', 'H1', iso(4));
      expect(await (await another()).sealKeyConfirmations('fp1')).toEqual(['H1', 'H2']);
      expect(await ledger.sealKeyConfirmations('fp2')).toEqual([]);
      expect(await ledger.activateStagedSealKey('nope', iso(5))).toBe(false);
      expect(await ledger.activateStagedSealKey('fp1', iso(5))).toBe(true);
      expect(await (await another()).currentSealKey()).toEqual({ fingerprint: 'fp1', keyPem: 'KEY1', certPem: 'CERT1', activatedAt: iso(5) });
      await ledger.activateStagedSealKey('fp2', iso(6));
      expect((await ledger.currentSealKey())?.fingerprint).toBe('fp2');
    });

    // The national directory (issue 17).
    it('keeps the last good national directory, never replaced by an older copy', async () => {
      const { ledger, another } = await fresh();
      expect(await ledger.nationalDirectory()).toBeNull();
      const a = { id: 'G12', pid: '', code: '000.00.00.G12', name: 'Bộ Nội vụ', mail: 'bnv@example.vn', oldCode: '' };
      const b = { ...a, id: 'G13', code: '000.00.00.G13', name: 'Bộ Tư pháp' };
      expect(await ledger.saveNationalDirectory([a], iso(2))).toBe(true);
      expect(await ledger.saveNationalDirectory([a, b], iso(1))).toBe(false);
      expect(await (await another()).nationalDirectory()).toEqual({ entries: [a], fetchedAt: iso(2) });
      expect(await ledger.saveNationalDirectory([a, b], iso(3))).toBe(true);
      expect((await ledger.nationalDirectory())?.entries.map((e) => e.code)).toEqual([a.code, b.code]);
    });

    // ---- Exchange statistics (issue 20) ----
    it('counts each agency\'s exchange per Ho Chi Minh City day, the same rolled up or counted live', async () => {
      const { ledger, another } = await fresh();
      const day = (d: string, hhmm: string) => new Date(`${d}T${hhmm}:00+07:00`).toISOString();
      const edoc = (n: number, at: string) => ledger.recordSubmission({ docId: docId(n), kind: 'edoc', sender: 'A', digest: `d${n}`, submittedAt: at }, ['B'], hop('H1', n));
      // 2026-11-01 07:00+07 and 23:59+07 are one day there; 2026-11-02 00:30+07 is the next, though still Nov 1 in UTC.
      await edoc(1, day('2026-11-01', '07:00'));
      await edoc(2, day('2026-11-01', '23:59'));
      await edoc(3, day('2026-11-02', '00:30'));
      await ledger.recordSubmission({ docId: docId(4), kind: 'status', sender: 'B', digest: 'd4', submittedAt: day('2026-11-01', '09:00') }, ['A'], hop('H1', 4));
      const box = (n: number, agency: string, kind: 'edoc' | 'status', at: string) =>
        ledger.deliver({ docId: docId(n), agency, kind, sender: kind === 'edoc' ? 'A' : 'B', originHub: 'H1', bytes: Buffer.from('<edXML/>'), receivedAt: at }, []);
      await box(1, 'B', 'edoc', day('2026-11-01', '08:00'));
      await box(4, 'A', 'status', day('2026-11-01', '10:00'));
      await ledger.recordExchangeMark({ key: 'r1', at: day('2026-11-01', '11:00'), agency: 'A', mark: 'refused_first', code: 'SIGNATURE_INVALID' });
      await ledger.recordExchangeMark({ key: 'r1', at: day('2026-11-01', '11:00'), agency: 'A', mark: 'refused_first', code: 'SIGNATURE_INVALID' });
      await ledger.recordExchangeMark({ key: 'r2', at: day('2026-11-02', '11:00'), agency: 'A', mark: 'refused_later', code: 'CERT_REVOKED' });
      await ledger.recordExchangeMark({ key: 'l1', at: day('2026-11-01', '12:00'), agency: 'A', mark: 'legacy', code: 'unsigned' });
      // Today: delivered an hour ago, acknowledged now (ack times are the ledger's clock).
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      await box(5, 'B', 'edoc', hourAgo);
      await box(6, 'B', 'edoc', hourAgo);
      await box(7, 'C', 'edoc', hourAgo);
      expect((await ledger.ack('B', docId(5), 'done', undefined))?.outcome).toBe('recorded');
      expect((await ledger.ack('B', docId(6), 'fail', 'unreadable'))?.outcome).toBe('recorded');

      const today = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);
      const byAgency = await ledger.exchangeStats({ from: '2026-11-01', to: today, by: 'agency' });
      const of = (key: string) => byAgency.find((c) => c.key === key);
      expect(of('A')).toMatchObject({ sent: 3, statusSent: 0, statusReceived: 1, refusedFirstHop: 1, refusedLaterHop: 1, legacy: 1 });
      expect(of('B')).toMatchObject({ sent: 0, statusSent: 1, received: 3, acked: 1, ackFailed: 1 });
      expect([...of('B')!.ackBuckets.values()].reduce((a, n) => a + n, 0)).toBe(2);
      expect(of('C')).toMatchObject({ received: 1, acked: 0 });

      const byDay = await ledger.exchangeStats({ from: '2026-11-01', to: '2026-11-02', by: 'day' });
      expect(byDay.map((c) => [c.key, c.sent, c.received, c.refusedFirstHop + c.refusedLaterHop]).sort()).toEqual([
        ['2026-11-01', 2, 1, 1], ['2026-11-02', 1, 0, 1],
      ]);
      expect((await ledger.exchangeStats({ from: '2026-11-01', to: '2026-11-30', by: 'month' })).map((c) => [c.key, c.sent])).toEqual([['2026-11', 3]]);
      expect(await ledger.exchangeStats({ from: '2025-01-01', to: '2025-01-31', by: 'agency' })).toEqual([]);
      // Rolled up once: a second handle (a replica) rolls up nothing more and reads the same counts.
      const replica = await another();
      expect(await replica.rollUpStats(new Date())).toBe(0);
      expect(await replica.exchangeStats({ from: '2026-11-01', to: today, by: 'agency' })).toEqual(byAgency);
      expect(await ledger.refusalsByCode('2026-11-01', '2026-11-02')).toEqual([
        { hop: 'later', code: 'CERT_REVOKED', count: 1 }, { hop: 'first', code: 'SIGNATURE_INVALID', count: 1 },
      ].sort((a, b) => a.code.localeCompare(b.code)));
      expect(await ledger.refusalsByCode('2026-11-02', '2026-11-02')).toEqual([{ hop: 'later', code: 'CERT_REVOKED', count: 1 }]);
      // Not acknowledged: the day-old document of B; C's from an hour ago only with a threshold under an hour.
      expect((await ledger.unacknowledged(new Date(Date.now() - 2 * 3_600_000).toISOString(), 10)).map((u) => [u.agency, u.docId])).toEqual([['B', docId(1)]]);
      expect((await ledger.unacknowledged(new Date().toISOString(), 10)).map((u) => [u.agency, u.docId])).toEqual([['B', docId(1)], ['C', docId(7)]]);
    });

    it('splits sent and received with the national axis, the same rolled up or counted live', async () => {
      const { ledger, another } = await fresh();
      const at = (d: string) => new Date(`${d}T10:00:00+07:00`).toISOString();
      const ago = new Date(Date.now() - 3_600_000).toISOString();
      for (const [n, when] of [[1, at('2026-11-03')], [2, at('2026-11-03')], [3, ago]] as const) {
        await ledger.recordSubmission({ docId: docId(n), kind: 'edoc', sender: 'A', digest: `d${n}`, submittedAt: when }, ['N'], hop('H1', n));
      }
      // Documents 1 and 3 had a recipient reached through the axis; the mark counts once.
      for (const n of [1, 3, 3]) await ledger.recordExchangeMark({ key: `national:${docId(n)}`, at: n === 1 ? at('2026-11-03') : ago, agency: 'A', mark: 'sent_national', code: '' });
      // Handed down by the axis (the gateway's hop names its DocId) or from inside the network;
      // the gateway's own hop towards the axis (hub 'national') is not a document received from it.
      const nationalHop: HopRecord = { ...hop('GW', 1), checks: { signature: 'ok', national: 'AXIS-1' } };
      const upHop: HopRecord = { hub: 'national', at: iso(2), verdict: 'accepted', checks: { national: 'AXIS-2' } };
      const box = (n: number, when: string, trace: HopRecord[]) =>
        ledger.deliver({ docId: docId(n), agency: 'B', kind: 'edoc', sender: 'X', originHub: 'GW', bytes: Buffer.from('<edXML/>'), receivedAt: when }, trace);
      await box(10, at('2026-11-03'), [nationalHop]);
      await box(11, at('2026-11-03'), [hop('H1', 1), upHop]);
      await box(12, ago, [nationalHop]);
      const today = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);
      const split = (cells: readonly { key: string; sent: number; sentNational: number; received: number; receivedNational: number }[]) =>
        cells.map((c) => [c.key, c.sent, c.sentNational, c.received, c.receivedNational]).sort();
      expect(split(await ledger.exchangeStats({ from: '2026-11-03', to: '2026-11-03', by: 'agency' }))).toEqual([['A', 2, 1, 0, 0], ['B', 0, 0, 2, 1]]);
      expect(split(await ledger.exchangeStats({ from: '2026-11-03', to: today, by: 'agency' }))).toEqual([['A', 3, 2, 0, 0], ['B', 0, 0, 3, 2]]);
      expect(split(await ledger.exchangeStats({ from: '2026-11-01', to: '2026-11-30', by: 'month' }))).toEqual([['2026-11', 2, 1, 2, 1]]);
      expect(split(await (await another()).exchangeStats({ from: '2026-11-03', to: '2026-11-03', by: 'day' }))).toEqual([['2026-11-03', 2, 1, 2, 1]]);
      // The marks are no refusals.
      expect(await ledger.refusalsByCode('2026-11-01', today)).toEqual([]);
    });

    // ---- Retention (issue 20) ----
    it('archives and then removes the bytes of packages acknowledged long ago, keeping their rows; deletes old dead letters', async () => {
      const { ledger } = await fresh();
      const bytes = (n: number) => Buffer.from(`<edXML n="${n}"/>`);
      for (const [n, agency] of [[1, 'B'], [1, 'C'], [2, 'B']] as const) {
        await ledger.deliver({ docId: docId(n), agency, kind: 'edoc', sender: 'A', originHub: 'H1', bytes: bytes(n), receivedAt: iso(n), subject: `S${n}` }, []);
      }
      await ledger.ack('B', docId(1), 'done', undefined);
      await ledger.ack('C', docId(1), 'fail', 'x');
      const future = new Date(Date.now() + 60_000).toISOString();
      const archived = await ledger.archivePackages(future, null, 10);
      expect(archived.map((p) => [p.docId, p.agency, p.subject, p.bytes.toString()])).toEqual([[docId(1), 'B', 'S1', bytes(1).toString()], [docId(1), 'C', 'S1', bytes(1).toString()]]);
      expect((await ledger.archivePackages(future, archived[0]!, 10)).map((p) => p.agency)).toEqual(['C']);
      expect(await ledger.archivePackages(iso(0), null, 10)).toEqual([]);
      expect(await ledger.removePackageBytes(iso(0))).toBe(0);
      expect(await ledger.removePackageBytes(future)).toBe(2);
      expect(await ledger.removePackageBytes(future)).toBe(0);
      expect(await ledger.download('B', docId(1))).toBe('gone');
      expect((await ledger.download('B', docId(2)) as Buffer).toString()).toBe(bytes(2).toString());
      expect(await ledger.download('D', docId(1))).toBeNull();
      expect(await ledger.archivePackages(future, null, 10)).toEqual([]);
      expect((await ledger.mailboxEntries(docId(1))).map((m) => m.ackResult)).toEqual(['done', 'fail']);

      const dead = (n: number, at: string) => ledger.addDeadLetter({ docId: docId(n), kind: 'edoc', sender: 'A', reasonCode: 'X', reason: 'x', deadAt: at, headers: {}, body: Buffer.from('b'), messageKey: `k${n}` });
      await dead(1, iso(1));
      await dead(2, iso(100));
      expect(await ledger.removeDeadLetters(iso(50))).toBe(1);
      expect((await ledger.deadLetters({ limit: 10, offset: 0 })).items.map((d) => d.docId)).toEqual([docId(2)]);
    });

    // The agency directory after a restructuring (issue 19).
    it('keeps the directory\'s closures, moves and retired hubs, and what waits to be carried on', async () => {
      const { ledger, another } = await fresh();
      await ledger.putDirectoryEntries([{ code: 'A', successor: 'B', from: iso(5), hubId: null }, { code: 'C', successor: null, from: null, hubId: 'H2' }]);
      // A move keeps a closure, a closure keeps a move.
      await ledger.putDirectoryEntries([{ code: 'A', successor: null, from: null, hubId: 'H3' }, { code: 'C', successor: 'D', from: null, hubId: null }]);
      expect(await (await another()).directoryEntries()).toEqual([
        { code: 'A', successor: 'B', from: iso(5), hubId: 'H3' }, { code: 'C', successor: 'D', from: null, hubId: 'H2' },
      ]);
      expect(await ledger.retireHub('H2', 'H1', iso(1))).toBe(true);
      expect(await ledger.retireHub('H2', 'H1', iso(2))).toBe(false);
      expect(await ledger.hubRetirements()).toEqual([{ hubId: 'H2', into: 'H1' }]);

      const bytes = Buffer.from('<edXMLEnvelope/>');
      const base = { kind: 'edoc' as const, sender: 'S', originHub: 'H1', bytes, receivedAt: iso(3) };
      await ledger.deliver({ ...base, docId: docId(1), agency: 'A', subject: 'S1' }, []);
      await ledger.deliver({ ...base, docId: docId(2), agency: 'A', addressedTo: 'Z' }, []);
      await ledger.deliver({ ...base, docId: docId(3), agency: 'B', kind: 'status', statusCode: '03', documentId: 'A,2026-11-01,1/UBND' }, []);
      expect((await ledger.received('A', undefined, 10)).map((r) => r.addressedTo)).toEqual([undefined, 'Z']);
      expect(await ledger.waitingAgencies()).toEqual(['A', 'B']);
      const waiting = await ledger.waitingDocuments('A');
      expect(waiting.map(({ bytes: b, ...w }) => ({ ...w, same: b.equals(bytes) }))).toEqual([
        { docId: docId(1), kind: 'edoc', sender: 'S', originHub: 'H1', subject: 'S1', same: true },
        { docId: docId(2), kind: 'edoc', sender: 'S', originHub: 'H1', addressedTo: 'Z', same: true },
      ]);
      await ledger.markMoved('A', docId(1), 'B');
      expect((await ledger.waitingDocuments('A')).map((w) => w.docId)).toEqual([docId(2)]);
      // Carried on, it stays readable by the agency that had it (its grace period).
      expect((await ledger.received('A', undefined, 10)).map((r) => r.docId)).toEqual([docId(1), docId(2)]);
      expect(await ledger.ack('A', docId(2), 'done', undefined)).toMatchObject({ outcome: 'recorded', addressedTo: 'Z' });
      expect(await ledger.waitingAgencies()).toEqual(['B']);
      expect(await ledger.waitingDocuments('B')).toMatchObject([{ kind: 'status', statusCode: '03', documentId: 'A,2026-11-01,1/UBND' }]);
    });

    // ---- Console sessions, the console's key and lane pauses shared by a hub's replicas (issue 18) ----
    it('keeps console sessions for every handle until they end or close, dropping the ended and all but the newest max', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      const open = (n: number, minutes: number, max = 10) =>
        ledger.openConsoleSession({ idHash: `h${n}`, admin: `{"name":"a${n}"}`, openedAt: iso(minutes), endsAt: iso(minutes + 60) }, max);
      await open(1, 0);
      expect(await other.consoleSession('h1', iso(59))).toBe('{"name":"a1"}');
      expect(await other.consoleSession('h1', iso(60))).toBeNull(); // ended
      expect(await other.consoleSession('h9', iso(1))).toBeNull();
      await open(2, 1);
      await other.closeConsoleSession('h2');
      expect(await ledger.consoleSession('h2', iso(2))).toBeNull();
      // Opening at minute 61 removes h1 (ended at 60); with max 2, only the two newest stay.
      await open(3, 30);
      await open(4, 40);
      await open(5, 61, 2);
      expect(await ledger.consoleSession('h3', iso(62))).toBeNull();
      expect(await ledger.consoleSession('h4', iso(62))).toBe('{"name":"a4"}');
      expect(await ledger.consoleSession('h5', iso(62))).toBe('{"name":"a5"}');
    });

    it('keeps the first candidate of a hub secret, which every handle then reads, even when they race', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      const [a, b] = await Promise.all([ledger.hubSecret('k', 'one', iso(1)), other.hubSecret('k', 'two', iso(1))]);
      expect(a).toBe(b);
      expect(await ledger.hubSecret('k', 'three', iso(2))).toBe(a);
      expect(await other.hubSecret('j', 'four', iso(2))).toBe('four');
    });

    it('remembers what an alert last said for every handle, moved on by one handle only when two race', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      expect(await ledger.alertMemory('overdue')).toBeNull();
      const first = await Promise.all([ledger.rememberAlert('overdue', 'a', iso(1), null), other.rememberAlert('overdue', 'b', iso(1), null)]);
      expect(first.filter(Boolean)).toHaveLength(1);
      const held = (await other.alertMemory('overdue'))!;
      expect(held).toBe(first[0] ? 'a' : 'b');
      const next = await Promise.all([ledger.rememberAlert('overdue', 'c', iso(2), held), other.rememberAlert('overdue', 'd', iso(2), held)]);
      expect(next.filter(Boolean)).toHaveLength(1);
      expect(await ledger.rememberAlert('overdue', 'e', iso(3), held)).toBe(false); // what it held is gone
      expect(await ledger.alertMemory('overdue')).toBe(next[0] ? 'c' : 'd');
      expect(await other.alertMemory('expiry:f:14')).toBeNull();
    });

    it('keeps the lanes paused for every handle until resumed', async () => {
      const { ledger, another } = await fresh();
      const other = await another();
      expect(await ledger.pausedLanes()).toEqual([]);
      expect(await ledger.setLanePaused('q.b', true, iso(1), 'op')).toBe(true);
      expect(await other.setLanePaused('q.b', true, iso(2), 'op')).toBe(false);
      await ledger.setLanePaused('q.a', true, iso(3), 'op');
      expect(await other.pausedLanes()).toEqual(['q.a', 'q.b']);
      expect(await other.setLanePaused('q.b', false, iso(4), 'op')).toBe(true);
      expect(await other.setLanePaused('q.b', false, iso(5), 'op')).toBe(false);
      expect(await ledger.pausedLanes()).toEqual(['q.a']);
    });
  });
}
