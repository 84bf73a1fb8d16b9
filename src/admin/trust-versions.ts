// Last writer wins per subject (issue 14 item 5). A trust change from the broker is signed by the
// hub that made it, but a signature does not say when it may be acted on: a broker user who copied
// a `ca.add` could publish it again after a `ca.remove` and the CA would be back. So each change
// names the parts of the trust state it sets, its subjects, and every hub keeps per subject the
// version (time made, SHA-256 of the signed bytes) of the newest change it applied
// (Ledger.claimTrustVersions, one compare-and-set). A change is applied for the subjects it is
// not older for, and refused (STALE_CHANGE, dead-lettered) when it is older for all of them. The
// same version again is applied again, idempotently: a broker redelivery, or a sibling replica on
// a shared ledger that must still bring its memory up to date.
//
// Hubs converge: the order (later time, then greater digest) is total and the same at every hub,
// so whatever order the changes reach a hub in, it ends with the newest change of every subject,
// as every other hub does. (A subject's parts set by different kinds, a certificate's retirement
// and revocation, agree where the checks look: revoked stays revoked. A hub whose clock runs ahead
// wins until the others' catch up: the time is the one the origin hub wrote, signed with the change.)
import { createHash } from 'node:crypto';
import type { TrustChange, TrustChangeBody } from './trust-changes.js';

/**
 * The parts of the trust state a change sets. An agency's registration, its successor and its hub
 * are apart: a closure and a move made at once on two hubs both stand. Changes without a subject
 * carry nothing a replay could undo: a CRL (the ledger keeps the newest by its own, CA-signed,
 * thisUpdate), a confirmation that a hub trusts a seal certificate (a lasting fact), and the
 * notices to a hub's own replicas (`hub.key.activate`, `hub.lane`), on which each re-reads the
 * ledger, so that a replay only makes it read the state it holds.
 */
export function subjectsOf(change: TrustChangeBody): string[] {
  switch (change.kind) {
    case 'ca.add':
    case 'ca.remove':
      return [caSubject(change.fingerprint)];
    case 'cert.add':
      return [`cert:${change.record.fingerprint}`];
    case 'cert.retire':
    case 'cert.revoke':
      return [`cert:${change.fingerprint}`];
    case 'agency.add':
      return [`agency:${change.code}`];
    case 'agency.successor':
      return [`agency:${change.code}:successor`];
    case 'agency.move':
      return [`agency:${change.code}:hub`];
    case 'agency.plan':
      return [...new Set([
        ...change.add.map((a) => `agency:${a.code}`),
        ...change.changes.flatMap((c) => [
          ...(c.successor !== null ? [`agency:${c.code}:successor`] : []), ...(c.hubId !== null ? [`agency:${c.code}:hub`] : []),
        ]),
      ])];
    case 'hub.retire':
      return [`hub:${change.hubId}`];
    case 'hub.cert.add':
      return [`hubcert:${change.hubId}:${change.fingerprint}`];
    case 'crl.import':
    case 'hub.cert.trusted':
    case 'hub.key.activate':
    case 'hub.lane':
      return [];
  }
}

/** The subject of a trusted CA: what `ca.add` and `ca.remove` set, and the configuration's seed. */
export function caSubject(fingerprint: string): string {
  return `ca:${fingerprint}`;
}

/** A change's version: when its origin made it (as toISOString writes it, so it orders as text), and the SHA-256 of its signed bytes. */
export function versionOf(change: Pick<TrustChange, 'at'>, body: Uint8Array): { at: string; digest: string } {
  return { at: new Date(change.at).toISOString(), digest: createHash('sha256').update(body).digest('hex') };
}

/** The change without its parts for subjects a newer change holds (only a plan has several). */
export function narrowedTo(change: TrustChange, held: ReadonlySet<string>): TrustChange {
  if (change.kind !== 'agency.plan') return change;
  const changes = change.changes.map((c) => {
    const successor = c.successor !== null && held.has(`agency:${c.code}:successor`);
    const hub = c.hubId !== null && held.has(`agency:${c.code}:hub`);
    return { code: c.code, successor: successor ? c.successor : null, from: successor ? c.from : null, hubId: hub ? c.hubId : null };
  });
  return {
    ...change,
    add: change.add.filter((a) => held.has(`agency:${a.code}`)),
    changes: changes.filter((c) => c.successor !== null || c.hubId !== null),
  };
}
