import { describe, expect, it } from 'vitest';
import { buildRegistry } from '../../../src/agency/registry.js';
import { closuresFromOldCodes } from '../../../src/agency/directory.js';
import { checkPlan, parsePlan } from '../../../src/agency/plan.js';

const P = '000.00.00.H53', C1 = '000.07.00.H53', C2 = '000.08.00.H53';
const registry = () => buildRegistry({
  hubs: [{ id: P }, { id: C1, parentId: P }, { id: C2, parentId: P }],
  agencies: [{ code: P, name: 'tỉnh' }, { code: C1, name: 'xã 1' }, { code: C2, name: 'xã 2' }, { code: '001.07.00.H53', name: 'trường', hubId: C1 }],
});
const HEADER = 'code,name,hubId,successor,from';

describe('a restructuring plan', () => {
  it('reads quoted fields, adds, moves and closes, in that order', () => {
    const lines = parsePlan(`\uFEFF${HEADER}\r\n000.09.00.H53,"UBND xã Mới, ""sau sáp nhập""",${C2},,\r\n${C1},,,000.09.00.H53,2025-07-01T00:00:00+07:00\r\n001.07.00.H53,,${C2},,\r\n\r\n`);
    expect(lines.ok).toBe(true);
    if (!lines.ok) return;
    expect(lines.value[0]).toMatchObject({ line: 2, name: 'UBND xã Mới, "sau sáp nhập"' });
    const plan = checkPlan(registry(), lines.value);
    expect(plan).toMatchObject({ ok: true, value: {
      add: [{ code: '000.09.00.H53', hubId: C2 }],
      changes: [{ code: '001.07.00.H53', hubId: C2, successor: null }, { code: C1, successor: '000.09.00.H53', from: '2025-06-30T17:00:00.000Z', hubId: null }],
    } });
  });

  it('refuses the whole file with every bad line and its number', () => {
    expect(parsePlan('code,name\nx,y')).toMatchObject({ ok: false, error: { code: 'SCHEMA_INVALID', details: [{ line: 1 }] } });
    expect(parsePlan(`${HEADER}\n"open,,,,\n${C1},,,,,`)).toMatchObject({ ok: false, error: { details: [{ line: 2, reason: 'an unclosed quote' }, { line: 3, reason: '6 fields, not 5' }] } });
    const lines = parsePlan([HEADER, `${C1},,,${C2},yesterday`, '000.10.00.H53,,,,', `${C2},xã khác,,,`, `${P},,,${C1},`, `${C1},,,,`].join('\n'));
    if (!lines.ok) throw new Error(lines.error.message);
    const plan = checkPlan(registry(), lines.value);
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.error.details!.map((d) => d.line)).toEqual([2, 3, 4, 6]);
    expect(plan.error.message).toContain('refused whole (4 bad lines)');
    // A cycle only the plan as a whole makes.
    const cycle = parsePlan([HEADER, `${C1},,,${C2},`, `${C2},,,${C1},`].join('\n'));
    if (!cycle.ok) throw new Error(cycle.error.message);
    expect(checkPlan(registry(), cycle.value)).toMatchObject({ ok: false, error: { details: [{ line: 3, reason: expect.stringContaining('cycle') }] } });
  });

  it('turns the national directory\'s oldCode into closures, leaving out what cannot stand', () => {
    const { changes, refused } = closuresFromOldCodes(registry(), [{ code: C2, oldCode: `${C1}, 001.07.00.H53,000.99.00.H53` }, { code: C1, oldCode: C2 }], '2025-07-01T00:00:00.000Z');
    expect(changes.map((c) => `${c.code}>${c.successor}`)).toEqual([`${C1}>${C2}`, `001.07.00.H53>${C2}`]);
    expect(refused).toEqual([{ code: C2, reason: expect.stringContaining('cycle') }]);
  });
});
