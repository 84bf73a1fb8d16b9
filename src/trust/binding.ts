// Binding the signer to the sending agency, the last certificate check. An agency the network
// serves must have registered the certificate (per agency, within its rotation window). An agency
// the network does not serve (a ministry, another province: a package that came down from the
// national axis) cannot register with us: its certificate, already chained to a trusted CA, valid
// and unrevoked, is bound by that CA, through the agency code the CA wrote into its subject.
// docs/national-axis.md, "Senders outside the network" gives the rules and the risk of accepting a subject without a code.
import { fail, ok, type Result } from '../errors.js';
import { ancestorCodes, matchesCodePattern, parseAgencyCode, type AgencyCode } from '../agency/code.js';
import type { Registry } from '../agency/registry.js';

/** How the signer was bound to the sender (the trace's `binding` check). */
export type SignerBinding = 'registered' | 'ca-subject-code' | 'ca-only' | 'unchecked';

/** Which outside senders are accepted: none, those whose certificate names them, or also those whose certificate names no agency. */
export const OUTSIDE_SENDER_MODES = ['none', 'with-code', 'any'] as const;
export type OutsideSenderMode = (typeof OUTSIDE_SENDER_MODES)[number];

/** The outside-sender rule as it travels (plain data: a hop-check worker builds its own copy). */
export interface OutsideSenders {
  accept: OutsideSenderMode;
  /** The subject attribute that carries an agency code: a short name (OU, CN, …) or a dotted OID. */
  codeAttribute: string;
  /** What the network serves: its hubs, and its agencies (the registry, with those registered at run time). */
  network: { hubs: readonly string[]; agencies: readonly string[] };
}

/**
 * Whom the network serves: its hubs and its agencies, less those an SDK system account sends for
 * (`sentForBySystems`: their code patterns). Those are registered here only to be routed to (a hub
 * serving as the national axis for whole provinces); their certificates are registered with their
 * own province, so their CA binds them.
 */
export function networkServing(registry: Pick<Registry, 'hubs' | 'agencies'>, sentForBySystems: readonly string[]): OutsideSenders['network'] {
  const fronted = (code: string) => sentForBySystems.some((p) => matchesCodePattern(code, p));
  return { hubs: [...registry.hubs.keys()], agencies: [...registry.agencies.keys()].filter((code) => !fronted(code)) };
}

/** The rule, ready for per-document use. */
export interface OutsideSenderRule {
  accept: OutsideSenderMode;
  codeAttribute: string;
  /** Whether the network serves a code: as an agency or hub, or by lying below one of its hubs. */
  served: (code: string) => boolean;
}

export function outsideSenderRule(o: OutsideSenders): OutsideSenderRule {
  const hubs = new Set(o.network.hubs);
  const agencies = new Set(o.network.agencies);
  return {
    accept: o.accept, codeAttribute: o.codeAttribute,
    // A code below one of our hubs is the province's own even when not registered yet: it must
    // register like any of our agencies, never be bound by its CA alone.
    served: (code) => agencies.has(code) || hubs.has(code) ||
      (parseAgencyCode(code).ok && ancestorCodes(code as AgencyCode).some((c) => hubs.has(c))),
  };
}

/** What the binding looks at: the certificate, the agencies it is registered for (null: no registry), the rule. */
export interface BindingInput {
  fingerprint: string;
  /** The values of the rule's code attribute in the signer's subject. */
  subjectValues: readonly string[];
  /** Whether the certificate is registered for the sender and active now; null where no registry is loaded. */
  registered: boolean | null;
  /** null: every sender is held to registration (no outside-sender rule, as in the CLI and older tests). */
  outside: OutsideSenderRule | null;
}

export function bindSigner(sender: string, input: BindingInput): Result<SignerBinding> {
  const { fingerprint, registered, outside } = input;
  if (registered === null) return ok('unchecked');
  if (registered) return ok('registered');
  const notRegistered = `the signer certificate ${fingerprint} is not registered (or no longer active) for agency ${sender}`;
  if (outside === null || outside.served(sender)) return fail('CERT_NOT_BOUND', notRegistered);
  if (outside.accept === 'none') return fail('CERT_NOT_BOUND', `${notRegistered}, and this hub accepts no sender from outside the network (trust.outsideSenders.accept is none)`);
  if (!parseAgencyCode(sender).ok) return fail('CERT_NOT_BOUND', `${notRegistered}, and ${sender} is not an agency code, so no CA can vouch for it`);
  const codes = input.subjectValues.map((v) => v.trim()).filter((v) => parseAgencyCode(v).ok);
  if (codes.includes(sender)) return ok('ca-subject-code');
  if (codes.length > 0) {
    return fail('CERT_NOT_BOUND', `the signer certificate ${fingerprint} names agency ${codes.join(', ')} in its subject (${outside.codeAttribute}), not the sender ${sender}`);
  }
  if (outside.accept === 'any') return ok('ca-only');
  return fail('CERT_NOT_BOUND', `the signer certificate ${fingerprint} names no agency code in its subject (${outside.codeAttribute}), so it cannot be bound to the outside sender ${sender} (trust.outsideSenders.accept is with-code)`);
}
