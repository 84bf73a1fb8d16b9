// The national directory travels the network's broadcast: a hub takes only a copy its gateway
// signed, never an older one over a newer one, and routes with it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { buildRegistry } from '../../../src/agency/registry.js';
import { createHubSigner, type HubSigner } from '../../../src/hop/seal.js';
import { openSqliteLedger } from '../../../src/ledger/sqlite.js';
import { nationalDirectory } from '../../../src/national/directory.js';
import { createDevCa, issueEcCertificate } from '../../../src/pki/dev-pki.js';
import { routePackage } from '../../../src/routing/router.js';

const NOW = new Date('2026-12-06T10:00:00.000Z');

const TOP = '000.00.00.H41', DISTRICT = '000.00.05.H41';
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

async function hubKeys() {
  const now = new Date();
  const ca = createDevCa('CA', new Date(now.getTime() - 60_000), new Date(now.getTime() + 86_400_000));
  const keys = new Map<string, { signer: HubSigner; cert: X509Certificate }>();
  for (const id of [TOP, DISTRICT]) {
    const issued = await issueEcCertificate({ ca, commonName: id, agency: id, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) });
    const cert = new X509Certificate(issued.certPem);
    const signer = createHubSigner(id, issued.keyPem, cert);
    if (!signer.ok) throw new Error(signer.error.message);
    keys.set(id, { signer: signer.value, cert });
  }
  return keys;
}

describe('nationalDirectory', () => {
  it('applies a copy the gateway signed, refuses one any other hub signed, and keeps the newest', async () => {
    const keys = await hubKeys();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-national-'));
    dirs.push(dir);
    const ledger = openSqliteLedger(dir, () => new Date());
    const registry = buildRegistry({ hubs: [{ id: TOP, upstream: { kind: 'vxp' } }, { id: DISTRICT }], agencies: [{ code: DISTRICT, name: 'huyện' }] });
    const sent: { body: Buffer; headers: Record<string, string> }[] = [];
    const directoryAt = (self: string) => nationalDirectory({
      hubId: self, registry, ledger, signer: keys.get(self)!.signer, log: pino({ level: 'silent' }),
      hubCertificates: (id) => (keys.has(id) ? [keys.get(id)!.cert] : []),
      broadcast: async (body, headers) => { sent.push({ body, headers }); },
    });
    const gateway = directoryAt(TOP);
    const district = directoryAt(DISTRICT);
    const entry = (code: string, name: string) => ({ id: code, pid: '', code, name, mail: '', oldCode: '' });
    const dead: string[] = [];
    const deadLetter = async (reason: { code: string }) => { dead.push(reason.code); };

    await gateway.publish([entry('000.00.00.G12', 'Bộ Nội vụ'), entry('000.00.00.G13', 'Bộ Tư pháp')], '2026-12-06T10:00:00.000Z');
    await district.receive(sent[0]!.body, sent[0]!.headers, deadLetter);
    expect(routePackage(['000.00.00.G12'], registry, DISTRICT, NOW)).toMatchObject({ ok: true, value: [{ via: 'national', nextHub: TOP }] });
    expect(district.search('tư pháp', 10)).toMatchObject({ total: 1, entries: [{ code: '000.00.00.G13' }], fetchedAt: '2026-12-06T10:00:00.000Z' });

    // The district hub cannot speak for the directory, nor can a body changed after signing.
    await district.publish([entry('000.00.00.G66', 'giả')], '2026-12-06T11:00:00.000Z');
    await district.receive(sent[1]!.body, sent[1]!.headers, deadLetter);
    const changed = Buffer.from(sent[0]!.body.toString().replace('Bộ Nội vụ', 'Bộ Giả'));
    await district.receive(changed, sent[0]!.headers, deadLetter);
    expect(dead).toEqual(['SIGNATURE_INVALID', 'SIGNATURE_INVALID']);
    expect(registry.national.has('000.00.00.G66')).toBe(false);

    // An older copy arriving late changes nothing; a newer one replaces the whole directory.
    await gateway.publish([entry('000.00.00.G12', 'Bộ Nội vụ')], '2026-12-06T09:00:00.000Z');
    await district.receive(sent[2]!.body, sent[2]!.headers, deadLetter);
    expect(registry.national.size).toBe(2);
    await gateway.publish([entry('000.00.00.G14', 'Bộ Tài chính')], '2026-12-06T12:00:00.000Z');
    await district.receive(sent[3]!.body, sent[3]!.headers, deadLetter);
    expect([...registry.national.keys()]).toEqual(['000.00.00.G14']);

    // A hub starting again routes with the copy its ledger kept.
    registry.national.clear();
    await district.load();
    expect([...registry.national.keys()]).toEqual(['000.00.00.G14']);
    await ledger.close();
  });

  it('honours the oldCode entries of a verified copy at every hub: renames outside the network, closures inside it', async () => {
    const keys = await hubKeys();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-national-'));
    dirs.push(dir);
    const ledger = openSqliteLedger(dir, () => new Date());
    const COMMUNE = '000.07.05.H41', MERGED = '000.08.05.H41';
    const registry = buildRegistry({
      hubs: [{ id: TOP, upstream: { kind: 'vxp' } }, { id: DISTRICT }],
      agencies: [{ code: DISTRICT, name: 'huyện' }, { code: COMMUNE, name: 'xã cũ' }, { code: MERGED, name: 'xã mới' }],
    });
    const sent: { body: Buffer; headers: Record<string, string> }[] = [];
    const directoryAt = (self: string) => nationalDirectory({
      hubId: self, registry, ledger, signer: keys.get(self)!.signer, log: pino({ level: 'silent' }),
      hubCertificates: (id) => (keys.has(id) ? [keys.get(id)!.cert] : []),
      broadcast: async (body, headers) => { sent.push({ body, headers }); },
    });
    const entry = (code: string, oldCode: string) => ({ id: code, pid: '', code, name: code, mail: '', oldCode });
    await directoryAt(TOP).publish([
      entry('000.00.00.G14', '000.00.00.G15, 000.00.00.G16'), entry(MERGED, COMMUNE),
      // Two entries claiming one old code: which replaced it cannot be told, so neither does.
      entry('000.00.00.G17', '000.00.00.G16'),
    ], NOW.toISOString());
    const district = directoryAt(DISTRICT);
    const deadLetter = async () => { throw new Error('a verified copy is not dead-lettered'); };
    await district.receive(sent[0]!.body, sent[0]!.headers, deadLetter);
    expect(routePackage(['000.00.00.G15', COMMUNE], registry, DISTRICT, NOW)).toMatchObject({ ok: true, value: [
      { organId: '000.00.00.G15', via: 'national', nextHub: TOP, redirectedTo: '000.00.00.G14' },
      { organId: COMMUNE, via: 'local', redirectedTo: MERGED },
    ] });
    expect(registry.agencies.get(COMMUNE)?.successor).toEqual({ code: MERGED, from: NOW.toISOString() });
    expect(routePackage(['000.00.00.G16'], registry, DISTRICT, NOW)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_RECIPIENT' } });
    // A hub starting again honours them from the copy its ledger kept.
    registry.nationalOldCodes = new Map();
    await district.load();
    expect(routePackage(['000.00.00.G15'], registry, TOP, NOW)).toMatchObject({ ok: true, value: [{ via: 'national', nextHub: 'national', redirectedTo: '000.00.00.G14' }] });
    await ledger.close();
  });
});
