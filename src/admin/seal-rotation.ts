// Hub seal key rotation (as X-Road does it): the new certificate is published to every hub first;
// each hub that accepts it answers, and only once all neighbours have does the hub switch keys.
// Neighbours keep accepting the old seal, so nothing in flight is refused. The new key, and the
// confirmations, are kept in the hub's ledger, which its replicas share: whichever replica is
// asked rotates, any replica may hear a confirmation, and every replica (and one started later)
// switches to the key the ledger says is in use (docs/replicas.md; its protection: docs/security.md).
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type { Logger } from 'pino';
import { fail, ok, type Result } from '../errors.js';
import type { Ledger } from '../ledger/store.js';
import { createHubSigner, rotatingSigner, type HubSigner } from '../hop/seal.js';
import { validateSealKey, type TrustChange } from './trust-changes.js';

export interface SealRotation {
  rotate(keyPem: string, certPem: string, actor: string): Promise<Result<{ fingerprint: string; trustedBy: string[] }>>;
  /** Hub `by` now accepts the certificate `fingerprint` of this hub. */
  confirmed(fingerprint: string, by: string): Promise<void>;
  /** Switches to the key the ledger says is in use, if this replica seals with another (a sibling rotated). */
  follow(): Promise<void>;
}

/** How often a waiting rotation reads the confirmations another replica may have recorded. */
const CONFIRMATION_POLL_MS = 250;

export function createSealRotation(opts: {
  hubId: string;
  neighbours: readonly string[];
  anchors: () => readonly X509Certificate[];
  ledger: Ledger;
  /** Applies the change here and broadcasts it (STALE_CHANGE if a newer one to what it changes stands). */
  change: (change: TrustChange) => Promise<Result<void>>;
  /** The seal this replica uses, and how it swaps keys. */
  seal: { current: () => string; swap: (signer: HubSigner) => void };
  clock: () => Date;
  log: Logger;
  timeoutMs: number;
}): SealRotation {
  const { ledger, hubId } = opts;
  const waiting = new Map<string, () => void>();
  const unconfirmed = async (fingerprint: string) => {
    const by = new Set(await ledger.sealKeyConfirmations(fingerprint));
    return opts.neighbours.filter((n) => !by.has(n));
  };
  /** Resolves with the neighbours that have not confirmed when all have or the time is up. */
  const confirmations = async (fingerprint: string): Promise<string[]> => {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const pending = await unconfirmed(fingerprint);
      if (pending.length === 0 || Date.now() >= deadline) return pending;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(CONFIRMATION_POLL_MS, deadline - Date.now()));
        waiting.set(fingerprint, () => { clearTimeout(timer); resolve(); });
      });
    }
  };
  return {
    async confirmed(fingerprint, by) {
      await ledger.confirmSealKey(fingerprint, by, opts.clock().toISOString());
      waiting.get(fingerprint)?.();
    },
    async follow() {
      const current = await ledger.currentSealKey();
      if (current === null || current.fingerprint === opts.seal.current()) return;
      const next = createHubSigner(hubId, current.keyPem, new X509Certificate(current.certPem));
      if (!next.ok) {
        opts.log.error({ code: next.error.code, fingerprint: current.fingerprint }, 'the seal key in the ledger is unusable; this replica keeps its current key');
        return;
      }
      opts.seal.swap(next.value);
      opts.log.info({ fingerprint: current.fingerprint }, 'switched to the hub seal key another replica activated');
    },
    async rotate(keyPem, certPem, actor) {
      const valid = validateSealKey(keyPem, certPem, hubId, opts.anchors(), opts.clock());
      if (!valid.ok) return valid;
      const { cert, fingerprint } = valid.value;
      const next = createHubSigner(hubId, keyPem, cert);
      if (!next.ok) return next;
      await ledger.stageSealKey(fingerprint, keyPem, cert.toString(), opts.clock().toISOString());
      const published = await opts.change({ kind: 'hub.cert.add', hubId, fingerprint, pem: cert.toString(), actor, at: opts.clock().toISOString(), origin: hubId });
      if (!published.ok) return published;
      const pending = await confirmations(fingerprint);
      waiting.delete(fingerprint);
      if (pending.length > 0) {
        return fail('UNAVAILABLE', `hubs ${pending.join(', ')} have not confirmed the new seal certificate; this hub keeps sealing with the current key (retry later)`);
      }
      await ledger.activateStagedSealKey(fingerprint, opts.clock().toISOString());
      opts.seal.swap(next.value);
      // The hub's other replicas switch on hearing this (trust lane), signed already with the new key.
      // A notice without a subject (trust-versions.ts), never refused as stale; the key is active here already.
      const told = await opts.change({ kind: 'hub.key.activate', hubId, fingerprint, actor, at: opts.clock().toISOString(), origin: hubId });
      if (!told.ok) return told;
      await ledger.audit(actor, 'hub-key.activate', { hub: hubId, fingerprint });
      opts.log.info({ fingerprint }, 'hub seal key rotated');
      return ok({ fingerprint, trustedBy: [...opts.neighbours] });
    },
  };
}

/**
 * The hub seal: the key the ledger holds as rotated to last, else one rotated to before keys were
 * kept in the ledger (a file named there), else the configured one. Rotation swaps the current key.
 */
export async function openSeal(ledger: Ledger, hubId: string, configured: { keyFile: string; cert: X509Certificate }): Promise<Result<ReturnType<typeof rotatingSigner>>> {
  const current = await ledger.currentSealKey();
  const filed = current === null ? await ledger.activeSealKey() : null;
  const first = current !== null
    ? createHubSigner(hubId, current.keyPem, new X509Certificate(current.certPem))
    : createHubSigner(hubId, fs.readFileSync(filed?.keyFile ?? configured.keyFile, 'utf8'), filed ? new X509Certificate(filed.certPem) : configured.cert);
  return first.ok ? ok(rotatingSigner(first.value)) : first;
}
