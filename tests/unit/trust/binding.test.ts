// Senders outside the network (issue 17, item 5): our agencies keep the strict registration rule;
// an agency the network does not serve is bound by its trusted CA, through the agency code in the
// certificate's subject, and the verdict says how the signer was bound.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHop, type HopContext } from '../../../src/hop/check.js';
import { bindSigner, networkServing, outsideSenderRule, type OutsideSenderRule, type OutsideSenders } from '../../../src/trust/binding.js';
import { buildRegistry } from '../../../src/agency/registry.js';
import { buildTrustSnapshot } from '../../../src/trust/store.js';
import { signPackage, type SigningCredential } from '../../../src/trust/sign.js';
import { createCrl, createDevCa, issueCertificate, serialOf, type KeyAndCert } from '../../../src/pki/dev-pki.js';
import { loadCrl } from '../../../src/trust/crl.js';
import { createTestPki, type TestPki } from '../../helpers/pki.js';
import { documentOfSize } from '../../helpers/packages.js';

const MINISTRY = '000.00.00.G22';
const OURS = { hubs: ['000.00.00.H41', '000.00.05.H41'], agencies: ['000.00.00.H41', '000.00.12.H41', '000.00.00.G10'] };
const rule = (o: Partial<OutsideSenders> = {}) => outsideSenderRule({ accept: 'with-code', codeAttribute: 'OU', network: OURS, ...o });
const input = (subjectValues: string[], registered: boolean | null = false, outside: OutsideSenderRule | null = rule()) =>
  ({ fingerprint: 'ab'.repeat(32), subjectValues, registered, outside });
const code = (r: ReturnType<typeof bindSigner>) => (r.ok ? r.value : r.error.code);

describe('bindSigner', () => {
  it('a registered certificate is bound as registered, for any sender; without a registry nothing is checked', () => {
    expect(code(bindSigner('000.00.12.H41', input([], true)))).toBe('registered');
    expect(code(bindSigner(MINISTRY, input([MINISTRY], true)))).toBe('registered');
    expect(code(bindSigner(MINISTRY, input([], null)))).toBe('unchecked');
  });

  it('holds the network\'s own agencies, hubs and codes below its hubs to registration, whatever the subject says', () => {
    for (const sender of ['000.00.12.H41', '000.00.00.G10', '000.00.05.H41', '001.07.05.H41']) {
      const r = bindSigner(sender, input([sender]));
      expect(r.ok ? r.value : r.error.message).toContain(`is not registered (or no longer active) for agency ${sender}`);
    }
    // No rule at all (the CLI, a snapshot built without one): everyone must be registered.
    expect(code(bindSigner(MINISTRY, input([MINISTRY], false, null)))).toBe('CERT_NOT_BOUND');
  });

  it('binds an outside sender by the agency code its CA wrote in the subject, and by nothing else', () => {
    expect(code(bindSigner(MINISTRY, input(['Văn phòng', ` ${MINISTRY} `])))).toBe('ca-subject-code');
    expect(code(bindSigner('000.01.01.H42', input(['000.01.01.H42'])))).toBe('ca-subject-code');
    const wrong = bindSigner(MINISTRY, input(['000.00.00.G23']));
    expect(wrong.ok ? 'accepted' : wrong.error).toMatchObject({ code: 'CERT_NOT_BOUND', message: expect.stringContaining('names agency 000.00.00.G23 in its subject (OU), not the sender 000.00.00.G22') });
    // A code in the subject is a claim: even where codeless subjects are accepted, a wrong one is refused.
    expect(code(bindSigner(MINISTRY, input(['000.00.00.G23'], false, rule({ accept: 'any' }))))).toBe('CERT_NOT_BOUND');
  });

  it('refuses a subject without a code unless accept is any (ca-only); accept none refuses every outside sender', () => {
    const none = bindSigner(MINISTRY, input(['Văn phòng']));
    expect(none.ok ? 'accepted' : none.error.message).toContain('names no agency code in its subject (OU)');
    expect(code(bindSigner(MINISTRY, input([], false, rule({ accept: 'any' }))))).toBe('ca-only');
    const off = bindSigner(MINISTRY, input([MINISTRY], false, rule({ accept: 'none' })));
    expect(off.ok ? 'accepted' : off.error.message).toContain('trust.outsideSenders.accept is none');
    const notACode = bindSigner('Bộ Nội vụ', input(['Bộ Nội vụ'], false, rule({ accept: 'any' })));
    expect(notACode.ok ? 'accepted' : notACode.error.message).toContain('is not an agency code');
  });
});

describe('networkServing', () => {
  it('is the registry\'s hubs and agencies, less the agencies an SDK system sends for (bound by their CA)', () => {
    const registry = buildRegistry({
      hubs: [{ id: '000.00.00.G01' }],
      agencies: [{ code: '000.00.12.G01', name: 'Vụ' }, { code: '000.07.05.H41', name: 'UBND xã', hubId: '000.00.00.G01' }, { code: '000.00.00.G22', name: 'Bộ', hubId: '000.00.00.G01' }],
    });
    expect(networkServing(registry, [])).toEqual({ hubs: ['000.00.00.G01'], agencies: ['000.00.12.G01', '000.07.05.H41', '000.00.00.G22'] });
    const network = networkServing(registry, ['*.H41']);
    expect(network.agencies).toEqual(['000.00.12.G01', '000.00.00.G22']);
    const outside = outsideSenderRule({ accept: 'with-code', codeAttribute: 'OU', network });
    expect(code(bindSigner('000.07.05.H41', input(['000.07.05.H41'], false, outside)))).toBe('ca-subject-code');
    expect(code(bindSigner('000.00.00.G22', input(['000.00.00.G22'], false, outside)))).toBe('CERT_NOT_BOUND');
  });
});

describe('the hop check with outside senders', () => {
  let pki: TestPki;
  let ctx: HopContext;
  const DAY = 86_400_000;
  const fromMinistry = documentOfSize(4096).toString('utf8')
    .replace('<edXML:OrganId>000.00.00.H41</edXML:OrganId>', `<edXML:OrganId>${MINISTRY}</edXML:OrganId>`);

  const credential = (pair: KeyAndCert): SigningCredential => ({ key: createPrivateKey(pair.keyPem), certificates: [new X509Certificate(pair.certPem)] });
  const issued = (ca: KeyAndCert, agency: string | undefined, commonName = 'Bộ Nội vụ', days: [number, number] = [-1, 365]) => issueCertificate({
    ca, commonName, ...(agency === undefined ? {} : { agency }),
    notBefore: new Date(pki.now.getTime() + days[0] * DAY), notAfter: new Date(pki.now.getTime() + days[1] * DAY),
  });
  const signed = (pair: KeyAndCert, text = fromMinistry) => {
    const s = signPackage(Buffer.from(text), credential(pair), 'exclusive');
    if (!s.ok) throw new Error(s.error.message);
    return s.value;
  };
  const verdict = (bytes: Buffer, c = ctx) => {
    const v = checkHop(bytes, c);
    return v.ok ? `OK ${v.signer?.binding}` : `${v.stage} ${v.error.code}`;
  };
  const trustWith = async (outside: Partial<OutsideSenders>, revoked: KeyAndCert[] = []) => {
    const anchors = [new X509Certificate(pki.ca.certPem)];
    const crl = await loadCrl(await createCrl(pki.ca, revoked.map((r) => ({ serialNumber: serialOf(r.certPem), revokedAt: pki.now })), pki.now, new Date(pki.now.getTime() + DAY)), anchors);
    if (!crl.ok) throw new Error(crl.error.message);
    return buildTrustSnapshot({
      anchors, crls: [crl.value], registrations: [],
      outsideSenders: { accept: 'with-code', codeAttribute: 'OU', network: OURS, ...outside },
    });
  };

  beforeAll(async () => {
    pki = await createTestPki();
    ctx = { trust: await trustWith({}), now: pki.now, allowLegacy: false, requireSignature: true };
  }, 60_000); // RSA keys: slow on a loaded machine
  afterAll(() => pki.cleanup());

  it('accepts a ministry\'s package signed with a certificate of a trusted CA that names the ministry', () => {
    expect(verdict(signed(issued(pki.ca, MINISTRY)))).toBe('OK ca-subject-code');
  }, 60_000);

  it('refuses a wrong code, an untrusted CA, an expired or revoked certificate, each with its own code', async () => {
    expect(verdict(signed(issued(pki.ca, '000.00.00.G23')))).toBe('certificate CERT_NOT_BOUND');
    const rogue = createDevCa('Rogue CA', new Date(pki.now.getTime() - DAY), new Date(pki.now.getTime() + 365 * DAY));
    expect(verdict(signed(issued(rogue, MINISTRY)))).toBe('certificate CERT_UNTRUSTED');
    expect(verdict(signed(issued(pki.ca, MINISTRY, 'Bộ Nội vụ', [-400, -30])))).toBe('certificate CERT_EXPIRED');
    const revoked = issued(pki.ca, MINISTRY);
    expect(verdict(signed(revoked), { ...ctx, trust: await trustWith({}, [revoked]) })).toBe('certificate CERT_REVOKED');
  }, 60_000);

  it('keeps our own agency to registration: its CA-issued certificate naming it is not enough', () => {
    expect(verdict(signed(issued(pki.ca, '000.00.00.H41', 'UBND tỉnh'), documentOfSize(4096).toString('utf8')))).toBe('certificate CERT_NOT_BOUND');
  }, 60_000);

  it('reads the code from the configured attribute, and takes a codeless subject only under accept any', async () => {
    const inCn = signed(issued(pki.ca, undefined, MINISTRY));
    expect(verdict(inCn)).toBe('certificate CERT_NOT_BOUND'); // OU absent: no code
    expect(verdict(inCn, { ...ctx, trust: await trustWith({ codeAttribute: 'CN' }) })).toBe('OK ca-subject-code');
    expect(verdict(inCn, { ...ctx, trust: await trustWith({ codeAttribute: '2.5.4.3' }) })).toBe('OK ca-subject-code');
    const codeless = signed(issued(pki.ca, undefined));
    expect(verdict(codeless, { ...ctx, trust: await trustWith({ accept: 'any' }) })).toBe('OK ca-only');
    expect(verdict(codeless, { ...ctx, trust: await trustWith({ accept: 'none' }) })).toBe('certificate CERT_NOT_BOUND');
  }, 60_000);
});
