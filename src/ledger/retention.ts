// Retention (issue 20), the same SQL for SQLite and PostgreSQL: the bytes of packages acknowledged
// long ago are removed (the mailbox row, its trace and the statistics stay; an empty package
// marks the bytes gone, since no package is ever empty), after the archive export read them;
// dead letters past their time are deleted.
import { z } from 'zod';
import type { SqlPort } from './exchange-stats.js';
import type { ArchivedPackage, Ledger } from './store.js';
import { bytesOf } from './rows.js';

const Archived = z.object({ doc_id: z.string(), agency: z.string(), sender: z.string(), subject: z.string().nullable(), received_at: z.string(), acked_at: z.string() });

export function retention(db: SqlPort): Pick<Ledger, 'archivePackages' | 'removePackageBytes' | 'removeDeadLetters'> {
  return {
    archivePackages: async (ackedBefore, after, limit) => (await db.all(`SELECT doc_id, agency, sender, subject, received_at, acked_at, bytes FROM mailbox
        WHERE acked_at IS NOT NULL AND acked_at < ? AND ${db.byteLength('bytes')} > 0 AND (doc_id > ? OR (doc_id = ? AND agency > ?))
        ORDER BY doc_id, agency LIMIT ?`, [ackedBefore, after?.docId ?? '', after?.docId ?? '', after?.agency ?? '', limit]))
      .map((r): ArchivedPackage => {
        const row = Archived.parse(r);
        return {
          docId: row.doc_id, agency: row.agency, sender: row.sender, receivedAt: row.received_at, ackedAt: row.acked_at, bytes: bytesOf(r, 'bytes'),
          ...(row.subject === null ? {} : { subject: row.subject }),
        };
      }),
    removePackageBytes: (ackedBefore) =>
      db.run(`UPDATE mailbox SET bytes = ? WHERE acked_at IS NOT NULL AND acked_at < ? AND ${db.byteLength('bytes')} > 0`, [Buffer.alloc(0), ackedBefore]),
    removeDeadLetters: (deadBefore) => db.run('DELETE FROM dead_letters WHERE dead_at < ?', [deadBefore]),
  };
}
