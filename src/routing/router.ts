// The router: a pure decision per recipient — deliver here, forward to a child hub, forward to
// the parent hub, send towards the national axis (an agency the network does not serve but the
// national directory knows), or refuse as UNKNOWN_RECIPIENT. A closed agency's code is routed to
// its successor (agency/directory.ts), the recipient keeping the code the package named.
import { fail, ok, type Result } from '../errors.js';
import { parseAgencyCode } from '../agency/code.js';
import { currentCode } from '../agency/directory.js';
import { hubAncestry, nationalGateway, type Registry } from '../agency/registry.js';

export type RouteVia = 'local' | 'child' | 'parent' | 'national';

/** The next hop of a national recipient at the hub that links the network to the axis: its national outbox. */
export const NATIONAL = 'national';

export interface Route {
  /** The code the package named. */
  organId: string;
  via: RouteVia;
  /** The next hub for 'child' and 'parent'; for 'national', the next hub towards the gateway, or NATIONAL at it. */
  nextHub?: string;
  /** The successor the package goes to instead, when `organId` is closed. */
  redirectedTo?: string;
}

/** Routes each recipient from hub `self` at `now`; any recipient no hub serves fails the whole package. */
export function routePackage(recipients: readonly string[], registry: Registry, self: string, now: Date): Result<Route[]> {
  const routes: Route[] = [];
  for (const organId of recipients) {
    const code = currentCode(registry, organId, now);
    const target = registry.agencies.get(code)?.hubId;
    const gateway = target === undefined && registry.national.has(code) ? nationalGateway(registry, self) : null;
    if (gateway !== null) {
      const hop = nextHop(registry, self, gateway);
      if (hop === null) return fail('UNKNOWN_RECIPIENT', `recipient ${organId} is reached through hub ${gateway}, which hub ${self} cannot reach`, 'To/OrganId');
      routes.push({ organId, via: 'national', nextHub: hop.via === 'local' ? NATIONAL : hop.hub, ...(code === organId ? {} : { redirectedTo: code }) });
      continue;
    }
    if (target === undefined) {
      const parsed = parseAgencyCode(organId);
      const why = parsed.ok ? 'is not served by any hub of this network' : parsed.reason;
      return fail('UNKNOWN_RECIPIENT', `recipient ${organId} ${why}`, 'To/OrganId',
        [{ path: 'To/OrganId', reason: `unknown recipient ${organId}` }]);
    }
    const hop = nextHop(registry, self, target);
    if (hop === null) {
      return fail('UNKNOWN_RECIPIENT', `recipient ${organId} is served by hub ${target}, which hub ${self} cannot reach`, 'To/OrganId');
    }
    routes.push({
      organId, via: hop.via, ...(hop.via === 'local' ? {} : { nextHub: hop.hub }), ...(code === organId ? {} : { redirectedTo: code }),
    });
  }
  return ok(routes);
}

/** The next hop from hub `self` towards hub `target` along the hub tree. */
export function nextHop(registry: Registry, self: string, target: string): { via: RouteVia; hub: string } | null {
  if (self === target) return { via: 'local', hub: self };
  const up = hubAncestry(registry, target);
  const at = up.indexOf(self);
  if (at > 0) return { via: 'child', hub: up[at - 1]! }; // target lies below self
  const parent = registry.hubs.get(self)?.parentId ?? null;
  return parent === null ? null : { via: 'parent', hub: parent };
}
