// A document as this hub saw it: its submission (at its origin hub), who received it here and
// when they acknowledged it, and its trace as a timeline across hubs. One builder for the two
// views of it, the console's document page and GET /api/admin/edocs/:docId.
import type { HopRecord } from '../hop/trace.js';
import type { Ledger, RecipientState } from '../ledger/store.js';

export interface DocumentDetail {
  docId: string;
  /** Present at the hub the document was submitted to. */
  kind?: string;
  sender?: string;
  subject?: string;
  submittedAt?: string;
  recipients?: RecipientState[];
  mailbox: { agency: string; receivedAt: string; ackedAt?: string; ackResult?: string }[];
  /** Each hop, with the milliseconds since the first one. */
  timeline: (HopRecord & { sinceFirstMs: number })[];
}

/** The document's detail, or null when this hub has no trace of it. */
export async function documentDetail(ledger: Ledger, docId: string): Promise<DocumentDetail | null> {
  const [trace, submission, mailbox] = await Promise.all([ledger.trace(docId), ledger.submission(docId), ledger.mailboxEntries(docId)]);
  if (trace.length === 0) return null;
  const started = Date.parse(trace[0]!.at);
  return {
    docId,
    ...(submission ? { kind: submission.kind, sender: submission.sender, subject: submission.subject, submittedAt: submission.submittedAt, recipients: submission.recipients } : {}),
    mailbox,
    timeline: trace.map((h) => ({ ...h, sinceFirstMs: Date.parse(h.at) - started })),
  };
}
