// The trust lane: how a trust-store change takes effect on a hub. A change made here (admin API,
// console, seal rotation) is applied, then broadcast, signed with this hub's seal key; a change
// from another hub is verified (admin/trust-changes.ts verifiedTrustChange) before it is applied.
// Applying is always: ledger → live agencies → trust snapshot → expiry check. A hub that applies
// another's new seal certificate says so (hub.cert.trusted), which lets that hub switch keys.
// A hub may run as several replicas on one shared ledger: the hub's durable queue gives each
// change to one of them (it is stored, and confirmed, once), and each replica's own queue gives it
// to every replica, which brings its memory up to date (docs/replicas.md). Two changes concern
// only this hub's replicas: a seal key activated and a lane paused or resumed (admin/lanes.ts).
// A change is applied only as far as it is not older than what the hub holds for its subjects
// (trust-versions.ts): where it is made, so that a replay reaching the hub's other replicas is
// refused there too, and wherever it arrives; a replayed (or overtaken) one is dead-lettered.
import type { Logger } from 'pino';
import { fail, ok, type HubError, type Result } from '../errors.js';
import type { HubSigner } from '../hop/seal.js';
import type { Ledger } from '../ledger/store.js';
import { applyTrustChange, CHANGE_SIGNATURE, CHANGE_SIGNER, verifiedTrustChange, type TrustChange } from './trust-changes.js';
import type { TrustState } from './trust-state.js';
import { narrowedTo, subjectsOf, versionOf } from './trust-versions.js';

export interface TrustLane {
  /** Applies a change made on this hub, then broadcasts it; STALE_CHANGE (nothing applied) if a newer change to its subjects stands. */
  change(change: TrustChange): Promise<Result<void>>;
  /** Broadcasts a change this replica has applied already (a CRL it fetched). */
  announce(change: TrustChange): Promise<void>;
  /** A change from the hub's queue; one that does not verify goes to the dead letters with its reason. */
  receive(body: Buffer, headers: Readonly<Record<string, string>>, deadLetter: (reason: HubError) => Promise<void>): Promise<void>;
  /**
   * A change from this replica's own queue: applied here unless this replica made it. One that does
   * not verify is logged with its code and dropped: a broadcast one is dead-lettered from the hub's
   * queue already, and one put into this queue alone must not pass unsaid.
   */
  refresh(body: Buffer, headers: Readonly<Record<string, string>>): Promise<void>;
  /** Reloads everything that follows the trust store from the ledger (after a reconnect: changes may have passed meanwhile). */
  resync(): Promise<void>;
}

export function createTrustLane(opts: {
  hubId: string; replica: string; ledger: Ledger; trust: TrustState; signer: HubSigner; clock: () => Date; log: Logger;
  /** What else follows the trust store: the live agencies, the expiry check. */
  reloadAgencies: () => Promise<void>;
  recheckExpiry: () => Promise<void>;
  /** Publishes a signed change to every hub of the network (bus/broadcast.ts). */
  broadcast: (body: Buffer, headers: Record<string, string>, messageId: string) => Promise<void>;
  /** Another hub now trusts a seal certificate of this hub (the seal rotation waits for it). */
  confirmed: (fingerprint: string, by: string) => Promise<void>;
  /** Another replica of this hub switched its seal key: switch to the one the ledger holds. */
  keyActivated: () => Promise<void>;
  /** Another replica of this hub paused or resumed a lane: hold the lanes the ledger says are paused. */
  lanesChanged: () => Promise<void>;
}): TrustLane {
  const { hubId, replica, ledger, trust, log } = opts;
  const send = (change: TrustChange, body: Buffer) =>
    opts.broadcast(body, { [CHANGE_SIGNATURE]: opts.signer.signChange(body), [CHANGE_SIGNER]: hubId }, `${change.origin}:${replica}:${change.kind}:${change.at}`);
  const publish = (change: TrustChange) => send(change, Buffer.from(JSON.stringify(change)));
  /** The change as far as no newer one holds its subjects; STALE_CHANGE if newer ones hold every subject. */
  const claim = async (change: TrustChange, body: Buffer): Promise<Result<TrustChange>> => {
    const subjects = subjectsOf(change);
    if (subjects.length === 0) return ok(change);
    const { at, digest } = versionOf(change, body);
    const held = new Set(await ledger.claimTrustVersions(subjects, at, digest));
    const stale = subjects.filter((s) => !held.has(s));
    if (held.size === 0) {
      const named = `${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ` and ${stale.length - 3} more` : ''}`;
      return fail('STALE_CHANGE', `a newer change to ${named} stands: this ${change.kind} made at ${at} by hub ${change.origin} is older (a replay, or overtaken); nothing of it was applied`);
    }
    if (stale.length > 0) log.warn({ kind: change.kind, origin: change.origin, at, stale }, 'the parts of a trust change that newer changes hold left out; the rest applied');
    return ok(narrowedTo(change, held));
  };
  const reload = async () => {
    await opts.reloadAgencies();
    await trust.reload();
    await opts.recheckExpiry();
  };
  const apply = async (change: TrustChange, audited = true) => {
    await applyTrustChange(ledger, change, audited);
    await reload();
  };
  return {
    async change(change) {
      const made = { ...change, replica };
      const body = Buffer.from(JSON.stringify(made));
      const claimed = await claim(made, body);
      if (!claimed.ok) return claimed;
      await apply(claimed.value);
      await send(made, body);
      return ok(undefined);
    },
    announce: (change) => publish({ ...change, replica }),
    async resync() {
      await reload();
      await opts.keyActivated();
      await opts.lanesChanged();
    },
    async refresh(body, headers) {
      const change = verifiedTrustChange(body, headers, (id) => trust.hubCertificates(id));
      if (!change.ok) {
        log.warn({ code: change.error.code, reason: change.error.message, replica }, 'unsigned, forged or unreadable trust change on this replica\'s queue dropped');
        return;
      }
      const c = change.value;
      if (c.kind === 'hub.cert.trusted') return c.hubId === hubId ? opts.confirmed(c.fingerprint, c.by) : undefined;
      if (c.origin === hubId && c.replica === replica) return; // applied when it was made
      if (c.kind === 'hub.key.activate') return c.hubId === hubId ? opts.keyActivated() : undefined;
      if (c.kind === 'hub.lane') return c.hubId === hubId ? opts.lanesChanged() : undefined;
      const claimed = await claim(c, body);
      if (!claimed.ok) {
        log.warn({ code: claimed.error.code, reason: claimed.error.message, replica }, 'stale trust change on this replica\'s queue dropped');
        return;
      }
      // Stored by whichever replica takes it from the hub's queue; stored here too, in case this one is first.
      await apply(claimed.value, false);
      log.info({ kind: c.kind, origin: c.origin }, 'trust change applied by this replica');
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
        if (c.hubId === hubId) await opts.confirmed(c.fingerprint, c.by);
        return;
      }
      // Made by a replica of this hub, on the ledger they share; its other replicas hear of it on their own queues.
      if (c.origin === hubId || c.kind === 'hub.key.activate' || c.kind === 'hub.lane') return;
      const claimed = await claim(c, body);
      if (!claimed.ok) {
        log.warn({ code: claimed.error.code, reason: claimed.error.message }, 'stale trust change dead-lettered');
        return deadLetter(claimed.error);
      }
      await apply(claimed.value);
      log.info({ kind: c.kind, origin: c.origin }, 'trust change applied');
      if (c.kind === 'hub.cert.add') {
        await publish({ kind: 'hub.cert.trusted', hubId: c.hubId, fingerprint: c.fingerprint, by: hubId, actor: c.actor, at: opts.clock().toISOString(), origin: hubId });
      }
    },
  };
}
