// Receipts: per-recipient delivery news travelling back to the origin hub. They are not urgent:
// those for the same next hop within RECEIPT_BATCH_MS share one sealed message. Every caller
// still waits for the transport's confirm of its batch (or the ledger write here) before it acks.
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Registry } from '../agency/registry.js';
import { HopRecordSchema, type HopMessage, type HopRecord } from '../hop/trace.js';
import { nextHop } from '../routing/router.js';
import { DELIVERY_STATES, type DeliveryState, type Ledger } from '../ledger/store.js';
import type { Outlet } from './transport.js';

export const ReceiptBatch = z.array(z.object({
  originHub: z.string(), docId: z.string(), organId: z.string(), delivery: z.enum(DELIVERY_STATES),
  status: z.string().optional(), reason: z.string().optional(), trace: z.array(HopRecordSchema),
}));

export interface Receipt { docId: string; organId: string; delivery: DeliveryState; status?: string | undefined; reason?: string | undefined; trace: HopRecord[] }
/** Receipts travel in batches: each carries the hub it is going back to. */
interface Routed extends Receipt { originHub: string }

const RECEIPT_BATCH_MS = 20;
const RECEIPT_BATCH_MAX = 200;

export interface Receipts {
  /** Resolves once the receipt is applied here or its batch is confirmed by the transport. */
  send(originHub: string, receipt: Receipt): Promise<void>;
  /** Sends the receipts still waiting for their batch (on shutdown). */
  flush(): Promise<void>;
}

export function createReceipts(deps: {
  self: string; registry: Registry; ledger: Ledger; outlet: Outlet; log: Logger; clock: () => Date;
  /** Seals a message for hub `to`. */
  seal: (m: Omit<HopMessage, 'seal' | 'sealHub'>, to: string) => HopMessage;
}): Receipts {
  const { self, registry, ledger, outlet, log } = deps;
  const batches = new Map<string, { receipts: Routed[]; done: Promise<void>; flush: () => void }>();
  let receiptBatch = 0;
  const openBatch = (hub: string) => {
    let release!: () => void;
    let fail!: (err: Error) => void;
    const batch = {
      receipts: [] as Routed[],
      done: new Promise<void>((resolve, reject) => { release = resolve; fail = reject; }),
      flush: () => {
        clearTimeout(timer);
        if (batches.get(hub) === batch) batches.delete(hub);
        outlet.send({ hub }, deps.seal({
          body: Buffer.from(JSON.stringify(batch.receipts), 'utf8'), kind: 'receipt', docId: `receipts-${self}-${Date.now()}-${++receiptBatch}`,
          originHub: self, sender: self, recipients: [...new Set(batch.receipts.map((r) => r.organId))], trace: [],
        }, hub)).then(release, fail);
      },
    };
    const timer = setTimeout(batch.flush, RECEIPT_BATCH_MS);
    batches.set(hub, batch);
    return batch;
  };
  const apply = async (receipt: Receipt) => {
    const patch: { delivery: DeliveryState; status?: string } = { delivery: receipt.delivery };
    if (receipt.status !== undefined) patch.status = receipt.status;
    await ledger.updateRecipients(receipt.docId, [receipt.organId], patch, receipt.trace);
    // A later hop refused the document: counted for its sender, once per document (statistics).
    if (receipt.delivery === 'failed' && receipt.reason !== undefined) {
      const sent = await ledger.submission(receipt.docId);
      if (sent !== null) {
        await ledger.recordExchangeMark({ key: `later:${receipt.docId}`, at: deps.clock().toISOString(), agency: sent.sender, mark: 'refused_later', code: receipt.reason });
      }
    }
  };
  return {
    async send(originHub, receipt) {
      if (originHub === self) return apply(receipt);
      const hop = nextHop(registry, self, originHub);
      if (hop === null) {
        log.error({ docId: receipt.docId, originHub }, 'no route back to the origin hub; receipt dropped');
        return;
      }
      const batch = batches.get(hop.hub) ?? openBatch(hop.hub);
      batch.receipts.push({ ...receipt, originHub });
      if (batch.receipts.length >= RECEIPT_BATCH_MAX) batch.flush();
      return batch.done;
    },
    async flush() {
      const pending = [...batches.values()];
      for (const b of pending) b.flush();
      await Promise.all(pending.map((b) => b.done));
    },
  };
}
