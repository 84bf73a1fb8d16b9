import { describe, expect, it } from 'vitest';
import { buildRegistry, hubAncestry, servingHub } from '../../../src/agency/registry.js';
import { NATIONAL, nextHop, routePackage } from '../../../src/routing/router.js';

// Three levels: province P, district D under it, commune C under D; agencies at each level and
// units without hubs of their own.
const P = '000.00.00.H53', D = '000.00.05.H53', C = '000.07.05.H53';
const NOW = new Date('2026-01-01T00:00:00Z');
const threeLevels = buildRegistry({
  hubs: [{ id: P }, { id: D }, { id: C }],
  agencies: [
    { code: C, name: 'xã' }, { code: '001.07.05.H53', name: 'trường (level 4)' },
    { code: D, name: 'huyện' }, { code: '000.08.05.H53', name: 'xã without a hub' },
    { code: P, name: 'tỉnh' }, { code: '000.00.12.H53', name: 'sở' },
    { code: '000.03.06.H53', name: 'xã of a district without a hub' },
  ],
});

describe('registry', () => {
  it('derives serving hubs and hub parents by code arithmetic', () => {
    expect(threeLevels.agencies.get('001.07.05.H53')?.hubId).toBe(C);
    expect(threeLevels.agencies.get('000.08.05.H53')?.hubId).toBe(D);
    expect(threeLevels.agencies.get('000.03.06.H53')?.hubId).toBe(P);
    expect(threeLevels.hubs.get(C)?.parentId).toBe(D);
    expect(hubAncestry(threeLevels, C)).toEqual([C, D, P]);
  });

  it('prefers explicit parents and hubs over arithmetic (e.g. after a merger)', () => {
    const merged = buildRegistry({
      hubs: [{ id: P }, { id: C, parentId: P }],
      agencies: [{ code: '000.09.05.H53', name: 'xã moved', hubId: C }],
    });
    expect(merged.hubs.get(C)?.parentId).toBe(P);
    expect(merged.agencies.get('000.09.05.H53')?.hubId).toBe(C);
  });
});

describe('router', () => {
  it('routes up, down, across branches and locally', () => {
    const routes = routePackage(['000.00.12.H53', '000.08.05.H53', '001.07.05.H53', C], threeLevels, C, NOW);
    expect(routes).toEqual({ ok: true, value: [
      { organId: '000.00.12.H53', via: 'parent', nextHub: D },
      { organId: '000.08.05.H53', via: 'parent', nextHub: D },
      { organId: '001.07.05.H53', via: 'local' },
      { organId: C, via: 'local' },
    ] });
    expect(routePackage(['001.07.05.H53'], threeLevels, P, NOW)).toEqual({ ok: true, value: [{ organId: '001.07.05.H53', via: 'child', nextHub: D }] });
    expect(routePackage(['001.07.05.H53'], threeLevels, D, NOW)).toEqual({ ok: true, value: [{ organId: '001.07.05.H53', via: 'child', nextHub: C }] });
    expect(nextHop(threeLevels, D, P)).toEqual({ via: 'parent', hub: P });
  });

  it('works on a two-level tree (no districts since 2025) and deeper trees', () => {
    const two = buildRegistry({ hubs: [{ id: P }, { id: '000.11.00.H53' }], agencies: [{ code: '000.11.00.H53', name: 'xã' }, { code: '000.00.12.H53', name: 'sở' }] });
    expect(two.hubs.get('000.11.00.H53')?.parentId).toBe(P);
    expect(routePackage(['000.00.12.H53'], two, '000.11.00.H53', NOW)).toMatchObject({ ok: true, value: [{ via: 'parent', nextHub: P }] });
    const deep = buildRegistry({ hubs: [{ id: P }, { id: D }, { id: C }, { id: '001.07.05.H53' }], agencies: [{ code: '001.07.05.H53', name: 'level 4 hub' }] });
    expect(routePackage(['001.07.05.H53'], deep, P, NOW)).toMatchObject({ ok: true, value: [{ via: 'child', nextHub: D }] });
    expect(hubAncestry(deep, '001.07.05.H53')).toEqual(['001.07.05.H53', C, D, P]);
  });

  it('refuses unknown and malformed recipients with UNKNOWN_RECIPIENT naming the code', () => {
    const unknown = routePackage(['000.00.00.G22'], threeLevels, C, NOW);
    expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_RECIPIENT', message: expect.stringContaining('000.00.00.G22') } });
    const malformed = routePackage(['28.22.H17'], threeLevels, C, NOW);
    expect(malformed).toMatchObject({ ok: false, error: { code: 'UNKNOWN_RECIPIENT', message: expect.stringContaining('"28.22.H17"') } });
  });

  // The national axis (issue 17).
  it('routes a recipient only the national directory knows towards the network\'s gateway, then to the axis; the network wins when both know it', () => {
    const linked = buildRegistry({ hubs: [{ id: P, upstream: { kind: 'vxp' } }, { id: D }, { id: C }], agencies: [{ code: C, name: 'xã' }, { code: '000.00.12.H53', name: 'sở' }] });
    const entry = (code: string) => ({ id: code, pid: '', code, name: 'Bộ', mail: '', oldCode: '' });
    linked.national.set('000.00.00.G12', entry('000.00.00.G12'));
    linked.national.set('000.00.12.H53', entry('000.00.12.H53'));
    expect(routePackage(['000.00.00.G12', '000.00.12.H53'], linked, C, NOW)).toMatchObject({ ok: true, value: [
      { organId: '000.00.00.G12', via: 'national', nextHub: D }, { organId: '000.00.12.H53', via: 'parent', nextHub: D },
    ] });
    expect(routePackage(['000.00.00.G12'], linked, P, NOW)).toMatchObject({ ok: true, value: [{ via: 'national', nextHub: NATIONAL }] });
    expect(routePackage(['000.00.00.G77'], linked, C, NOW)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_RECIPIENT' } });
    expect(servingHub(linked, C, '000.00.00.G12')).toBe(P);
    // A network without a link to the axis does not route nationally, whatever its directory holds.
    threeLevels.national.set('000.00.00.G12', entry('000.00.00.G12'));
    expect(routePackage(['000.00.00.G12'], threeLevels, C, NOW)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_RECIPIENT' } });
    threeLevels.national.clear();
  });
});
