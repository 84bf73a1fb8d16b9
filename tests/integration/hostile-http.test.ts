// Issue 14 over HTTP, against running hubs on the real broker: the outside review's package is
// refused with 400 POLICY_VIOLATION naming the limit (it used to be checked for 3.6 s on the event
// loop before a 422), and packages carrying unique junk certificates leave nothing behind that
// garbage collection cannot free (the signer cache used to keep every KeyInfo text it saw).
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

describe('hostile packages over HTTP (issue 14)', () => {
  it('refuses the review\'s package with 400 POLICY_VIOLATION naming the limit, and keeps working', async () => {
    const unsigned = emitEdoc({
      from: { OrganId: commune.agency.code, OrganName: commune.agency.name }, to: [{ OrganId: department.agency.code }],
      codeNumber: '14', codeNotation: 'UBND-VP', promulgationDate: new Date(), subject: 'Gói kiểm tra', attachments: [], at: new Date(),
    }).toString('utf8');
    const r = await commune.submit(reviewPackage(credentialOf(commune.agency), 1_200, unsigned));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringContaining('(policy.maxNamespacesInScope), at /edXML') });
    expect((await commune.submit(n.document(commune, [department]))).status).toBe(202);
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
