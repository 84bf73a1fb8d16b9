// The dead-letter channel: every message that reaches a hub's `dead` queue (refused at this hop,
// or dead-lettered by the broker after too many deliveries: a poison message) is moved into the
// ledger, with its reason, and acked. Administrators then browse, replay or delete the ledger's
// copy, which has no side effect on any queue.
import { createHash } from 'node:crypto';
import type { Ledger } from '../ledger/store.js';
import type { Disposition } from './consumer.js';
import { stringHeaders } from './message.js';
import { DEAD_LETTER_HEADERS as DEAD } from './outlet.js';
import type { Publisher } from './publisher.js';

export function deadLetterChannel(ledger: Ledger, clock: () => Date) {
  return async (body: Buffer, rawHeaders: unknown): Promise<Disposition> => {
    const headers = stringHeaders(rawHeaders);
    const brokerReason = headers['x-first-death-reason']; // e.g. delivery_limit, for a poison message
    const reasonCode = headers[DEAD.code] ?? (brokerReason === 'delivery_limit' ? 'DELIVERY_LIMIT' : (brokerReason ?? 'UNKNOWN')).toUpperCase();
    const reason = headers[DEAD.reason]
      ?? `dead-lettered by the broker (${brokerReason ?? 'no reason given'}) from ${headers['x-first-death-queue'] ?? 'an unknown queue'}`;
    // A redelivered copy has the same bytes and headers, so the same key: stored once.
    const messageKey = createHash('sha256').update(body).update(JSON.stringify(headers)).digest('hex');
    await ledger.addDeadLetter({
      messageKey, body, headers, reasonCode, reason,
      docId: headers['x-lgsp-doc-id'] ?? 'unknown', kind: headers['x-lgsp-kind'] ?? 'unknown', sender: headers['x-lgsp-sender'] ?? 'unknown',
      deadAt: headers[DEAD.at] ?? clock().toISOString(),
    });
    return 'ack';
  };
}

/** Headers to send a dead letter back with: the original ones, without the dead-lettering marks. */
function replayHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) =>
    !k.startsWith(DEAD.reason) && k !== DEAD.at && !k.startsWith('x-death') && !k.startsWith('x-first-death') && !k.startsWith('x-last-death')));
}

/** Sends a dead letter back: a poison message to the queue it came from, a refused package to `ingress`. */
export function replayer(publisher: Publisher, ingress: string) {
  return (body: Buffer, headers: Record<string, string>) => publisher.publish({
    queue: headers['x-first-death-queue'] ?? ingress, body, headers: replayHeaders(headers), messageId: `replay:${headers['x-lgsp-doc-id'] ?? ''}`,
  });
}
