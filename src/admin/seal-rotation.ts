// Hub seal key rotation (as X-Road does it): the new certificate is published to every hub first;
// each hub that accepts it answers, and only once all neighbours have does the hub switch keys.
// Neighbours keep accepting the old seal, so nothing in flight is refused.
import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { fail, ok, type Result } from '../errors.js';
import type { Ledger } from '../ledger/store.js';
import { createHubSigner, rotatingSigner, type HubSigner } from '../hop/seal.js';
import { validateSealKey, type TrustChange } from './trust-changes.js';

export interface SealRotation {
  rotate(keyPem: string, certPem: string, actor: string): Promise<Result<{ fingerprint: string; trustedBy: string[] }>>;
  /** Hub `by` now accepts the certificate `fingerprint` of this hub. */
  confirmed(fingerprint: string, by: string): void;
}

export function createSealRotation(opts: {
  hubId: string;
  neighbours: readonly string[];
  keyDir: string;
  anchors: () => readonly X509Certificate[];
  ledger: Ledger;
  /** Applies the change here and broadcasts it. */
  change: (change: TrustChange) => Promise<void>;
  activate: (signer: HubSigner) => void;
  clock: () => Date;
  log: Logger;
  timeoutMs: number;
}): SealRotation {
  const waiting = new Map<string, (by: string) => void>();
  return {
    confirmed: (fingerprint, by) => waiting.get(fingerprint)?.(by),
    async rotate(keyPem, certPem, actor) {
      const valid = validateSealKey(keyPem, certPem, opts.hubId, opts.anchors(), opts.clock());
      if (!valid.ok) return valid;
      const { cert, fingerprint } = valid.value;
      const keyFile = path.join(opts.keyDir, `seal-${fingerprint.slice(0, 16)}.key.pem`);
      fs.writeFileSync(keyFile, keyPem, { mode: 0o600 });
      const pending = new Set(opts.neighbours);
      const trusted = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), opts.timeoutMs);
        const settleIfDone = () => { if (pending.size === 0) { clearTimeout(timer); resolve(true); } };
        waiting.set(fingerprint, (by) => { pending.delete(by); settleIfDone(); });
        settleIfDone();
      });
      await opts.change({ kind: 'hub.cert.add', hubId: opts.hubId, fingerprint, pem: cert.toString(), actor, at: opts.clock().toISOString(), origin: opts.hubId });
      const confirmed = await trusted;
      waiting.delete(fingerprint);
      if (!confirmed) {
        return fail('UNAVAILABLE', `hubs ${[...pending].join(', ')} have not confirmed the new seal certificate; this hub keeps sealing with the current key (retry later)`);
      }
      const next = createHubSigner(opts.hubId, keyPem, cert);
      if (!next.ok) return next;
      await opts.ledger.activateSealKey(keyFile, cert.toString(), opts.clock().toISOString());
      opts.activate(next.value);
      await opts.ledger.audit(actor, 'hub-key.activate', { hub: opts.hubId, fingerprint });
      opts.log.info({ fingerprint }, 'hub seal key rotated');
      return ok({ fingerprint, trustedBy: [...opts.neighbours] });
    },
  };
}

/** The hub seal: the key rotated to last, else the configured one. Rotation swaps the current key. */
export async function openSeal(ledger: Ledger, hubId: string, configured: { keyFile: string; cert: X509Certificate }): Promise<Result<ReturnType<typeof rotatingSigner>>> {
  const rotated = await ledger.activeSealKey();
  const first = createHubSigner(hubId, fs.readFileSync(rotated?.keyFile ?? configured.keyFile, 'utf8'),
    rotated ? new X509Certificate(rotated.certPem) : configured.cert);
  return first.ok ? ok(rotatingSigner(first.value)) : first;
}
