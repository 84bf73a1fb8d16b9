// Issue 14 over HTTP, against running hubs on the real broker: the outside review's package is
// refused with 400 POLICY_VIOLATION naming the limit (it used to be checked for 3.6 s on the event
// loop before a 422), and packages carrying unique junk certificates leave nothing behind that
// garbage collection cannot free (the signer cache used to keep every KeyInfo text it saw), and a
// package with many elements is checked on a worker thread (hopCheck.inlineBelowMarkup).
import { randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { emitEdoc } from '../../src/edxml/emit.js';
import { credentialOf, reviewPackage } from '../helpers/hostile.js';
import type { Agent, TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let n: TestNetwork;
let commune: Agent;
let department: Agent;

useTestNetwork({}, (started, a) => { n = started; ({ commune, department } = a); });

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const unsignedDocument = () => emitEdoc({
  from: { OrganId: commune.agency.code, OrganName: commune.agency.name }, to: [{ OrganId: department.agency.code }],
  codeNumber: '14', codeNotation: 'UBND-VP', promulgationDate: new Date(), subject: 'Gói kiểm tra', attachments: [], at: new Date(),
}).toString('utf8');

/** The hop checks a hub has run on the event loop and on its worker threads, from its /metrics. */
async function checksAt(url: string): Promise<{ inline: number; pool: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${n.net.adminToken}` } })).text();
  const count = (place: string) => Number(new RegExp(`^lgsp_hop_checks_total\\{place="${place}"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { inline: count('inline'), pool: count('pool') };
}

describe('hostile packages over HTTP (issue 14)', () => {
  it('refuses the review\'s package with 400 POLICY_VIOLATION naming the limit, and keeps working', async () => {
    const r = await commune.submit(reviewPackage(credentialOf(commune.agency), 1_200, unsignedDocument()));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringContaining('(policy.maxNamespacesInScope), at /edXML') });
    expect((await commune.submit(n.document(commune, [department]))).status).toBe(202);
  });

  it('checks a package with many elements on a worker thread, however few its bytes', async () => {
    // 3,000 elements in 25 KB, within every limit: c14n's cost follows the elements, not the bytes.
    const heavy = commune.sign(Buffer.from(unsignedDocument().replace(/<\/(\w+:)?From>/, (end) => `<x:e xmlns:x="urn:x">${'<x:e/>'.repeat(3_000)}</x:e>${end}`)));
    expect(heavy.length).toBeLessThan(64 * 1024);
    const before = await checksAt(commune.url);
    expect((await commune.submit(heavy)).status).toBe(202);
    const afterHeavy = await checksAt(commune.url);
    expect(afterHeavy.pool).toBe(before.pool + 1);
    expect((await commune.submit(n.document(commune, [department]))).status).toBe(202);
    const afterPlain = await checksAt(commune.url);
    expect(afterPlain.pool).toBe(afterHeavy.pool);
    expect(afterPlain.inline).toBeGreaterThan(afterHeavy.inline);
  });

  it('keeps nothing of packages whose KeyInfo carries a unique junk certificate', async () => {
    const signed = n.document(commune, [department]).toString('utf8');
    // 0.9 MB each: under hopCheck.inlineBelowBytes, so checked in this process's own trust snapshot.
    const junk = () => Buffer.from(signed.replace('</X509Data>', `<X509Certificate>${randomBytes(675_000).toString('base64')}</X509Certificate></X509Data>`));
    const refuse = async () => {
      const r = await commune.submit(junk());
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe('SIGNATURE_INVALID');
    };
    await refuse();
    const before = heapAfterGc();
    for (let i = 0; i < 40; i++) await refuse();
    const grown = heapAfterGc() - before;
    // Before the fix, the cache held each KeyInfo text: 40 × 0.9 MB = 36 MB.
    expect(grown).toBeLessThan(12 * 1024 * 1024);
    expect((await commune.submit(n.document(commune, [department]))).status).toBe(202);
  });
});
