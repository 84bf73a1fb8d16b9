// The archive export before retention (issue 20): every package acknowledged before a day whose
// bytes the ledger still holds, one <docId>.edxml per document (a document delivered to several
// agencies here is one file), and manifest.json listing each with its SHA-256 digest, size,
// sender, subject and who received and acknowledged it when.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ArchivedPackage, Ledger } from '../ledger/store.js';

const PAGE = 500;

export interface ArchiveManifest {
  hub: string;
  ackedBefore: string;
  exportedAt: string;
  documents: {
    docId: string; file: string; sha256: string; bytes: number; sender: string; subject?: string;
    recipients: { agency: string; receivedAt: string; ackedAt: string }[];
  }[];
}

export async function exportArchive(ledger: Ledger, o: { hubId: string; ackedBefore: string; outDir: string; now: Date }): Promise<ArchiveManifest> {
  fs.mkdirSync(o.outDir, { recursive: true });
  const documents = new Map<string, ArchiveManifest['documents'][number]>();
  let after: ArchivedPackage | null = null;
  for (;;) {
    const page: ArchivedPackage[] = await ledger.archivePackages(o.ackedBefore, after, PAGE);
    for (const p of page) {
      const recipient = { agency: p.agency, receivedAt: p.receivedAt, ackedAt: p.ackedAt };
      const known = documents.get(p.docId);
      if (known !== undefined) {
        known.recipients.push(recipient);
        continue;
      }
      const file = `${p.docId}.edxml`;
      fs.writeFileSync(path.join(o.outDir, file), p.bytes);
      documents.set(p.docId, {
        docId: p.docId, file, sha256: createHash('sha256').update(p.bytes).digest('hex'), bytes: p.bytes.length, sender: p.sender,
        ...(p.subject === undefined ? {} : { subject: p.subject }), recipients: [recipient],
      });
    }
    if (page.length < PAGE) break;
    after = page.at(-1)!;
  }
  const manifest: ArchiveManifest = { hub: o.hubId, ackedBefore: o.ackedBefore, exportedAt: o.now.toISOString(), documents: [...documents.values()] };
  // The manifest last: a manifest present means every file it names was written.
  fs.writeFileSync(path.join(o.outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
