import { describe, expect, it } from 'vitest';
import { ancestorCodes, codePatternProblem, isUnder, matchesCodePattern, parentCode, parseAgencyCode, type AgencyCode } from '../../../src/agency/code.js';

const code = (text: string) => {
  const parsed = parseAgencyCode(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value.code;
};

describe('agency codes', () => {
  it('parses levels from right to left', () => {
    expect(parseAgencyCode('000.00.00.H53')).toMatchObject({ ok: true, value: { depth: 1, segments: ['000', '00', '00', 'H53'] } });
    expect(parseAgencyCode('000.00.05.H53')).toMatchObject({ ok: true, value: { depth: 2 } });
    expect(parseAgencyCode('000.07.05.H53')).toMatchObject({ ok: true, value: { depth: 3 } });
    expect(parseAgencyCode('001.07.05.H53')).toMatchObject({ ok: true, value: { depth: 4 } });
  });

  it('refuses malformed codes with a message naming the code', () => {
    for (const bad of ['28.22.H17', '000.00.00.h53', '000.00.00.H5', '', '000.00.00.H00', '000.00.00.H53 ']) {
      const parsed = parseAgencyCode(bad);
      expect(parsed.ok, bad).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toContain(`"${bad}"`);
    }
  });

  it('finds parents by zeroing the leftmost used segment', () => {
    expect(parentCode(code('001.07.05.H53'))).toBe('000.07.05.H53');
    expect(parentCode(code('000.07.05.H53'))).toBe('000.00.05.H53');
    expect(parentCode(code('000.00.05.H53'))).toBe('000.00.00.H53');
    expect(parentCode(code('000.00.00.H53'))).toBeNull();
    expect(ancestorCodes(code('001.07.05.H53'))).toEqual(['000.07.05.H53', '000.00.05.H53', '000.00.00.H53']);
  });

  it('answers "is X under Y" strictly', () => {
    const commune = code('000.07.05.H53');
    expect(isUnder(commune, '000.00.05.H53' as AgencyCode)).toBe(true);
    expect(isUnder(commune, '000.00.00.H53' as AgencyCode)).toBe(true);
    expect(isUnder(commune, commune)).toBe(false);
    expect(isUnder(commune, '000.00.06.H53' as AgencyCode)).toBe(false);
    expect(isUnder(commune, '000.00.00.H41' as AgencyCode)).toBe(false);
  });

  it('reads code patterns: a code, or *. and a code\'s last segments', () => {
    for (const p of ['*.H41', '*.05.H41', '*.07.05.H41', '000.07.05.H41']) expect(codePatternProblem(p), p).toBeNull();
    for (const p of ['*', '*H41', 'H41', '*.h41', '*.%.H41', '*.05.', '000.07.05']) expect(codePatternProblem(p), p).not.toBeNull();
    expect(matchesCodePattern('000.07.05.H41', '*.H41')).toBe(true);
    expect(matchesCodePattern('000.00.00.H41', '*.H41')).toBe(true);
    expect(matchesCodePattern('000.07.05.H41', '*.05.H41')).toBe(true);
    expect(matchesCodePattern('000.07.06.H41', '*.05.H41')).toBe(false);
    expect(matchesCodePattern('000.07.05.H411', '*.H41')).toBe(false);
    expect(matchesCodePattern('000.07.05.XH41', '*.H41')).toBe(false);
    expect(matchesCodePattern('000.07.05.H41', '000.07.05.H41')).toBe(true);
    expect(matchesCodePattern('001.07.05.H41', '000.07.05.H41')).toBe(false);
  });
});
