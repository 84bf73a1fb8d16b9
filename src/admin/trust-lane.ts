// The trust lane: how a trust-store change takes effect on a hub. A change made here (admin API,
// console, seal rotation) is applied, then broadcast, signed with this hub's seal key; a change
// from another hub is verified (admin/trust-changes.ts verifiedTrustChange) before it is applied.
// Applying is always: ledger → live agencies → trust snapshot → expiry check. A hub that applies
// another's new seal certificate says so (hub.cert.trusted), which lets that hub switch keys.
import type { Logger } from 'pino';
import type { HubError } from '../errors.js';
import type { HubSigner } from '../hop/seal.js';
import type { Ledger } from '../ledger/store.js';
import { applyTrustChange, CHANGE_SIGNATURE, CHANGE_SIGNER, verifiedTrustChange, type TrustChange } from './trust-changes.js';
import type { TrustState } from './trust-state.js';

export interface TrustLane {
  /** Applies a change made on this hub, then broadcasts it. */
  change(change: TrustChange): Promise<void>;
  /** A change from the broadcast; one that does not verify goes to the dead letters with its reason. */
  receive(body: Buffer, headers: Readonly<Record<string, string>>, deadLetter: (reason: HubError) => Promise<void>): Promise<void>;
}

export function createTrustLane(opts: {
  hubId: string; ledger: Ledger; trust: TrustState; signer: HubSigner; clock: () => Date; log: Logger;
  /** What else follows the trust store: the live agencies, the expiry check. */
  reloadAgencies: () => Promise<void>;
  recheckExpiry: () => Promise<void>;
  /** Publishes a signed change to every hub of the network (bus/broadcast.ts). */
  broadcast: (body: Buffer, headers: Record<string, string>, messageId: string) => Promise<void>;
  /** Another hub now trusts a seal certificate of this hub (the seal rotation waits for it). */
  confirmed: (fingerprint: string, by: string) => void;
}): TrustLane {
  const { hubId, ledger, trust, log } = opts;
  const publish = (change: TrustChange) => {
    const body = Buffer.from(JSON.stringify(change));
    return opts.broadcast(body, { [CHANGE_SIGNATURE]: opts.signer.signChange(body), [CHANGE_SIGNER]: hubId }, `${change.origin}:${change.kind}:${change.at}`);
  };
  const apply = async (change: TrustChange) => {
    await applyTrustChange(ledger, change);
    await opts.reloadAgencies();
    await trust.reload();
    await opts.recheckExpiry();
  };
  return {
    async change(change) {
      await apply(change);
      await publish(change);
    },
    async receive(body, headers, deadLetter) {
      const change = verifiedTrustChange(body, headers, (id) => trust.hubCertificates(id));
      if (!change.ok) {
        // Dead-lettered with its reason: returned to the queue, it would block this lane for good.
        log.error({ code: change.error.code, reason: change.error.message }, 'unsigned, forged or unreadable trust change dead-lettered');
        return deadLetter(change.error);
      }
      const c = change.value;
      if (c.kind === 'hub.cert.trusted') {
        if (c.hubId === hubId) opts.confirmed(c.fingerprint, c.by);
        return;
      }
      if (c.origin === hubId) return; // applied when it was made
      await apply(c);
      log.info({ kind: c.kind, origin: c.origin }, 'trust change applied');
      if (c.kind === 'hub.cert.add') {
        await publish({ kind: 'hub.cert.trusted', hubId: c.hubId, fingerprint: c.fingerprint, by: hubId, actor: c.actor, at: opts.clock().toISOString(), origin: hubId });
      }
    },
  };
}
