import { describe, expect, it } from 'vitest';
import { buildRegistry } from '../../../src/agency/registry.js';
import { applyChange, applyRetirement, checkChange, checkRetirement, currentCode, draftOf, oldCodesOf } from '../../../src/agency/directory.js';
import { routePackage } from '../../../src/routing/router.js';

const P = '000.00.00.H53', D = '000.00.05.H53', C = '000.07.05.H53';
const A = '000.08.05.H53', B = '000.09.05.H53', E = '000.10.05.H53';
const NOW = new Date('2026-01-01T00:00:00Z');
const registry = () => buildRegistry({
  hubs: [{ id: P }, { id: D }, { id: C }],
  agencies: [{ code: P, name: 'tỉnh' }, { code: D, name: 'huyện' }, { code: C, name: 'xã C' }, { code: A, name: 'xã A' }, { code: B, name: 'xã B' }, { code: E, name: 'xã E', hubId: C }],
});
const close = (code: string, successor: string, from: string | null = null) => ({ code, successor, from, hubId: null });

describe('the directory after a restructuring', () => {
  it('routes a closed code to its successor, following chains, once the closure is in force', () => {
    const r = registry();
    applyChange(r, close(A, B));
    applyChange(r, close(B, E, '2026-06-01T00:00:00Z'));
    expect(currentCode(r, A, NOW)).toBe(B);
    expect(currentCode(r, A, new Date('2026-07-01T00:00:00Z'))).toBe(E);
    expect(routePackage([A], r, P, NOW)).toEqual({ ok: true, value: [{ organId: A, via: 'child', nextHub: D, redirectedTo: B }] });
    expect(routePackage([A], r, P, new Date('2026-07-01T00:00:00Z'))).toEqual({ ok: true, value: [{ organId: A, via: 'child', nextHub: D, redirectedTo: E }] });
    expect(oldCodesOf(r, E)).toEqual([B, A]);
    expect(oldCodesOf(r, A)).toEqual([]);
  });

  it('refuses a cycle, a closure into itself or into an unknown code, and a second successor', () => {
    const r = registry();
    applyChange(r, close(A, B));
    applyChange(r, close(B, E));
    expect(checkChange(r, close(E, A))).toMatchObject({ ok: false, error: { code: 'DIRECTORY_CONFLICT', message: expect.stringContaining(`${E} → ${A} → ${B} → ${E}`) } });
    expect(checkChange(r, close(C, C))).toMatchObject({ ok: false, error: { code: 'DIRECTORY_CONFLICT' } });
    expect(checkChange(r, close(C, '000.99.05.H53'))).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(checkChange(r, close(A, C))).toMatchObject({ ok: false, error: { code: 'DIRECTORY_CONFLICT' } });
    expect(checkChange(r, close(A, B))).toEqual({ ok: true, value: undefined });
    expect(checkChange(r, { code: A, successor: null, from: null, hubId: 'nowhere' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('retires a hub into its parent: its agencies and child hubs follow, and it drains through the parent', () => {
    const r = registry();
    expect(checkRetirement(r, D, C)).toMatchObject({ ok: false, error: { code: 'DIRECTORY_CONFLICT' } });
    expect(checkRetirement(r, D, P)).toEqual({ ok: true, value: undefined });
    const draft = draftOf(r);
    applyRetirement(draft, D, P);
    expect(r.agencies.get(A)!.hubId).toBe(D); // the draft only
    expect(draft.agencies.get(A)!.hubId).toBe(P);
    expect(draft.hubs.get(C)!.parentId).toBe(P);
    expect(routePackage([C], draft, D, NOW)).toMatchObject({ ok: true, value: [{ via: 'parent', nextHub: P }] });
    expect(routePackage([C], draft, P, NOW)).toMatchObject({ ok: true, value: [{ via: 'child', nextHub: C }] });
    expect(checkRetirement(draft, D, P)).toMatchObject({ ok: false, error: { code: 'DIRECTORY_CONFLICT' } });
    expect(checkChange(draft, { code: A, successor: null, from: null, hubId: D })).toMatchObject({ ok: false, error: { code: 'DIRECTORY_CONFLICT' } });
  });
});
