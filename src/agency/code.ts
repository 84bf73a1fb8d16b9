// Agency codes (mã định danh, QCVN 102:2016 / QĐ 20/2020/QĐ-TTg): DDD.DD.DD.XNN, read right to
// left as level 4 . level 3 . level 2 . level 1. An all-zero segment means "level not used".
// The registry is authoritative for the tree; this arithmetic is the fallback.

export type AgencyCode = string & { readonly __brand: 'AgencyCode' };

export interface ParsedAgencyCode {
  code: AgencyCode;
  /** [level 4, level 3, level 2, level 1] as written. */
  segments: readonly [string, string, string, string];
  /** 1 for a ministry or province (000.00.00.XNN), one more for each used level below it. */
  depth: number;
}

export type AgencyCodeResult = { ok: true; value: ParsedAgencyCode } | { ok: false; reason: string };

const SHAPE = /^(\d{3})\.(\d{2})\.(\d{2})\.([A-Z]\d{2})$/;
const ZERO = /^0+$/;

export function parseAgencyCode(text: string): AgencyCodeResult {
  const match = SHAPE.exec(text);
  if (match === null) {
    return { ok: false, reason: `"${text}" is not an agency code of the form DDD.DD.DD.XNN (e.g. 000.00.05.H53)` };
  }
  const [, l4, l3, l2, l1] = match as unknown as [string, string, string, string, string];
  if (l1.slice(1) === '00') return { ok: false, reason: `"${text}" has level-1 unit ${l1}: 00 is not a unit number` };
  const depth = 1 + [l2, l3, l4].filter((s) => !ZERO.test(s)).length;
  return { ok: true, value: { code: text as AgencyCode, segments: [l4, l3, l2, l1], depth } };
}

/** The parent by arithmetic: zero the leftmost non-zero segment; a level-1 code has none. */
export function parentCode(code: AgencyCode): AgencyCode | null {
  const parts = code.split('.');
  const i = parts.findIndex((s, idx) => idx < 3 && !ZERO.test(s));
  if (i < 0) return null;
  parts[i] = '0'.repeat(parts[i]!.length);
  return parts.join('.') as AgencyCode;
}

/** Ancestors from the parent up to the level-1 unit. */
export function ancestorCodes(code: AgencyCode): AgencyCode[] {
  const out: AgencyCode[] = [];
  for (let p = parentCode(code); p !== null; p = parentCode(p)) out.push(p);
  return out;
}

/** True when `code` lies strictly below `ancestor` in the code tree. */
export function isUnder(code: AgencyCode, ancestor: AgencyCode): boolean {
  return ancestorCodes(code).includes(ancestor);
}

// Code patterns (an SDK system account's agencies, issue 17): a code, or `*.` and the code's
// last segments, e.g. `*.H41` (every agency of province H41) or `*.05.H41` (of its district 05).
const PATTERN_TAIL = /^(?:\d{2,3}\.){0,3}[A-Z]\d{2}$/;

/** Why `text` is not a code pattern, or null when it is one. */
export function codePatternProblem(text: string): string | null {
  if (text.startsWith('*.')) {
    return PATTERN_TAIL.test(text.slice(2)) ? null : `"${text}" is not a pattern *.<last segments of a code> (e.g. *.H41, *.05.H41)`;
  }
  const code = parseAgencyCode(text);
  return code.ok ? null : code.reason;
}

/** Whether `code` is the pattern's code, or ends with its segments after `*`. */
export function matchesCodePattern(code: string, pattern: string): boolean {
  return pattern.startsWith('*.') ? code.endsWith(pattern.slice(1)) : code === pattern;
}
