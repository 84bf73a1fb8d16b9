// Recall (13 → 15) across the tree, and a 20 MB package end to end, verified by xmlsec1 on the
// recipient's side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { tempDir, xmlsec1 } from '../helpers/tools.js';

let n: TestNetwork;
let commune: Agent, farCommune: Agent;
const tmp = tempDir();

beforeAll(async () => {
  n = await startTestNetwork();
  commune = n.agent('000.07.05.');
  farCommune = n.agent('000.03.06.');
}, 60_000);
afterAll(async () => { await n?.close(); tmp.cleanup(); });

const arrives = (a: Agent, docId: string, timeoutMs?: number) => eventually(async () => {
  const r = await a.request('GET', '/api/v1/edocs/received?limit=1000');
  return r.json.items.find((i: { docId: string }) => i.docId === docId);
}, `${docId} at ${a.agency.code}`, timeoutMs);

describe('recall and size', () => {
  it('a recall request (13) reaches the receiver and the agreement (15) reaches the sender', async () => {
    const doc = n.document(commune, [farCommune], 'Văn bản sẽ thu hồi');
    const sent = await commune.submit(doc);
    await arrives(farCommune, sent.json.docId);
    const documentId = /<edXML:DocumentId>([^<]+)</.exec(doc.toString())![1]!;

    const recall = await commune.submit(n.status(commune, '13', { OrganId: farCommune.agency.code, DocumentId: documentId }, 'Đề nghị thu hồi'));
    expect(recall.status).toBe(202);
    expect(recall.json.recipients).toEqual([{ organId: farCommune.agency.code, route: 'parent' }]);
    const at = await arrives(farCommune, recall.json.docId);
    expect(at).toMatchObject({ kind: 'status', statusCode: '13', from: commune.agency.code });

    const agree = await farCommune.submit(n.status(farCommune, '15', { OrganId: commune.agency.code, DocumentId: documentId }, 'Đồng ý thu hồi'));
    expect(agree.status).toBe(202);
    expect(await arrives(commune, agree.json.docId)).toMatchObject({ kind: 'status', statusCode: '15', from: farCommune.agency.code });
    await eventually(async () => {
      const doc = (await commune.request('GET', '/api/v1/edocs/sent')).json.items.find((i: { docId: string }) => i.docId === sent.json.docId);
      return doc?.recipients[0]?.status === '15' ? true : undefined;
    }, 'status 15 in the sent list');
  });

  it('carries a 20 MB package through three hubs, byte-identical and verifiable by xmlsec1', async () => {
    const bytes = n.document(commune, [farCommune], 'Hồ sơ lớn', randomBytes(15 * 1024 * 1024));
    expect(bytes.length).toBeGreaterThan(20_000_000);
    const r = await commune.submit(bytes);
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    await arrives(farCommune, r.json.docId, 60_000);
    const download = await farCommune.request('GET', `/api/v1/edocs/${r.json.docId}`);
    expect(download.bytes.equals(bytes)).toBe(true);
    const file = tmp.file('large.edxml', download.bytes);
    const verified = xmlsec1('--verify', '--trusted-pem', n.net.caFile, '--enabled-reference-uris', 'empty', file);
    expect(verified.status, verified.stderr).toBe(0);
  });
});
