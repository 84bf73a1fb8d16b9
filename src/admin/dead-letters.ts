// Dead-letter actions both the admin API and the console take: replay or delete (audited), and
// the CSV export.
import type { DeadLetter, Ledger } from '../ledger/store.js';

export interface DeadLetterActionDeps {
  ledger: Ledger;
  /** Sends a dead letter back to the queue it came from, with its original headers. */
  replay: (body: Buffer, headers: Record<string, string>) => Promise<void>;
  clock: () => Date;
}

/** Replay (to the queue it came from; the hop check runs again there) or delete, audited. */
export function deadLetterActions(deps: DeadLetterActionDeps) {
  return async (id: number, action: 'replay' | 'delete', actor: string): Promise<boolean> => {
    const dead = await deps.ledger.deadLetter(id);
    if (dead === null) return false;
    const at = deps.clock().toISOString();
    if (action === 'replay') {
      await deps.replay(dead.body, dead.headers);
      await deps.ledger.markDeadLetter(id, 'replayed', at);
    }
    await deps.ledger.markDeadLetter(id, 'deleted', at); // replayed ones leave the list too, kept for the audit
    await deps.ledger.audit(actor, `dead-letter.${action}`, { id, docId: dead.docId, reasonCode: dead.reasonCode });
    return true;
  };
}

/**
 * One CSV cell, quoted. A text starting with = + - @ tab or CR is a formula to a spreadsheet,
 * and the sender and reason come from AMQP headers anyone on the broker can write: such a cell
 * gets a leading ' so it stays text (OWASP, CSV injection).
 */
export function csvCell(v: string | number): string {
  const text = String(v);
  return `"${(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text).replaceAll('"', '""')}"`;
}

export function toCsv(items: DeadLetter[]): string {
  const rows = items.map((d) => [d.id, d.deadAt, d.docId, d.kind, d.sender, d.reasonCode, d.reason, d.size].map(csvCell).join(','));
  return ['id,deadAt,docId,kind,sender,reasonCode,reason,bytes', ...rows].join('\r\n') + '\r\n';
}
