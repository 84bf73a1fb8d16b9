// A restructuring plan: a CSV file of `code,name,hubId,successor,from`, one agency a line. A line
// for an unknown code adds the agency (at hubId, or the hub its code leads to); hubId different
// from the agency's hub moves it; successor closes it (from a time, or at once). The whole file is
// read and checked against the registry before anything is applied: one bad line refuses the file,
// and every bad line is reported with its number.
import { fail, ok, type ErrorDetail, type Result } from '../errors.js';
import { parseAgencyCode } from './code.js';
import { applyChange, checkChange, draftOf, retiredInto, type DirectoryChange } from './directory.js';
import { resolveAgency, type Registry } from './registry.js';

export const PLAN_COLUMNS = ['code', 'name', 'hubId', 'successor', 'from'] as const;

export interface PlanLine { line: number; code: string; name: string; hubId: string; successor: string; from: string }

export interface Plan {
  add: { code: string; name: string; parent: string | null; hubId: string }[];
  changes: DirectoryChange[];
  /** What the plan does, one sentence a change, for a dry run and the audit. */
  summary: string[];
}

/** The plan's lines; a file whose header or shape is wrong is refused with the lines at fault. */
export function parsePlan(text: string): Result<PlanLine[]> {
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = rows[0]?.trim();
  if (header !== PLAN_COLUMNS.join(',')) return fail('SCHEMA_INVALID', `the first line must be "${PLAN_COLUMNS.join(',')}", not "${(header ?? '').slice(0, 80)}"`, 'line 1', [{ line: 1, reason: 'wrong header' }]);
  const lines: PlanLine[] = [];
  const problems: ErrorDetail[] = [];
  rows.slice(1).forEach((row, i) => {
    const line = i + 2;
    if (row.trim() === '') return;
    const fields = splitCsv(row);
    if (fields === null) return void problems.push({ line, reason: 'an unclosed quote' });
    if (fields.length !== PLAN_COLUMNS.length) return void problems.push({ line, reason: `${fields.length} fields, not ${PLAN_COLUMNS.length}` });
    const [code, name, hubId, successor, from] = fields.map((f) => f.trim()) as [string, string, string, string, string];
    lines.push({ line, code, name, hubId, successor, from });
  });
  if (lines.length === 0 && problems.length === 0) return fail('SCHEMA_INVALID', 'the plan has no lines');
  return problems.length > 0 ? refused(problems) : ok(lines);
}

/** Checks every line against the registry (and the lines before it); the plan, or every problem with its line. */
export function checkPlan(registry: Registry, lines: readonly PlanLine[]): Result<Plan> {
  const draft = draftOf(registry);
  const problems: ErrorDetail[] = [];
  const plan: Plan = { add: [], changes: [], summary: [] };
  const seen = new Set<string>();
  const problem = (line: number, reason: string) => problems.push({ line, reason });
  // First the agencies the plan adds, so that a successor may be one of them.
  for (const l of lines) {
    const code = parseAgencyCode(l.code);
    if (!code.ok) { problem(l.line, code.reason); continue; }
    if (seen.has(l.code)) { problem(l.line, `agency ${l.code} is on an earlier line too`); continue; }
    seen.add(l.code);
    for (const [field, value] of [['successor', l.successor], ['hubId', l.hubId]] as const) {
      const parsed = value === '' ? null : parseAgencyCode(value);
      if (parsed !== null && !parsed.ok) problem(l.line, `${field}: ${parsed.reason}`);
    }
    if (l.from !== '' && (l.successor === '' || Number.isNaN(Date.parse(l.from)) || !/T.*(Z|[+-]\d\d:\d\d)$/.test(l.from))) {
      problem(l.line, l.successor === '' ? 'from without a successor' : `from: "${l.from}" is not an ISO time with its offset (2025-07-01T00:00:00+07:00)`);
    }
    const known = draft.agencies.get(l.code);
    if (known !== undefined) {
      if (l.name !== '' && l.name !== known.name) problem(l.line, `agency ${l.code} is registered as "${known.name}": a plan does not rename`);
      continue;
    }
    if (l.name === '') { problem(l.line, `agency ${l.code} is new: it needs a name`); continue; }
    if (l.hubId !== '' && retiredInto(draft, l.hubId) !== null) { problem(l.line, `hub ${l.hubId} is retired`); continue; }
    const agency = resolveAgency(draft, { code: l.code, name: l.name, ...(l.hubId === '' ? {} : { hubId: l.hubId }) });
    if (agency === null) { problem(l.line, `no hub of this network serves ${l.code}${l.hubId === '' ? '' : ` (no hub ${l.hubId})`}`); continue; }
    draft.agencies.set(l.code, agency);
    plan.add.push({ code: agency.code, name: agency.name, parent: agency.parent, hubId: agency.hubId });
    plan.summary.push(`add ${agency.code} "${agency.name}" at hub ${agency.hubId}`);
  }
  if (problems.length > 0) return refused(problems);
  // Then moves, then closures, each checked on the registry as the lines before it left it.
  for (const l of lines) {
    const agency = draft.agencies.get(l.code)!;
    if (l.hubId === '' || l.hubId === agency.hubId) continue;
    const change: DirectoryChange = { code: l.code, successor: null, from: null, hubId: l.hubId };
    const checked = checkChange(draft, change);
    if (!checked.ok) { problem(l.line, checked.error.message); continue; }
    plan.summary.push(`move ${l.code} from hub ${agency.hubId} to hub ${l.hubId}`);
    applyChange(draft, change);
    plan.changes.push(change);
  }
  for (const l of lines) {
    const agency = draft.agencies.get(l.code)!;
    if (l.successor === '' || agency.successor?.code === l.successor) continue;
    const change: DirectoryChange = { code: l.code, successor: l.successor, from: l.from === '' ? null : new Date(l.from).toISOString(), hubId: null };
    const checked = checkChange(draft, change);
    if (!checked.ok) { problem(l.line, checked.error.message); continue; }
    plan.summary.push(`close ${l.code} into ${l.successor}${change.from === null ? '' : ` from ${change.from}`}`);
    applyChange(draft, change);
    plan.changes.push(change);
  }
  return problems.length > 0 ? refused(problems) : ok(plan);
}

function refused(problems: ErrorDetail[]): Result<never> {
  const first = problems.slice(0, 5).map((p) => `line ${p.line}: ${p.reason}`).join('; ');
  return fail('SCHEMA_INVALID', `the plan is refused whole (${problems.length} bad line${problems.length === 1 ? '' : 's'}): ${first}`, undefined, problems.slice(0, 100));
}

/** The fields of one CSV line (RFC 4180 quoting, no line breaks inside a field); null if a quote is left open. */
function splitCsv(row: string): string[] | null {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < row.length; i++) {
    const ch = row[i]!;
    if (quoted) {
      if (ch === '"' && row[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { fields.push(field); field = ''; } else field += ch;
  }
  if (quoted) return null;
  fields.push(field);
  return fields;
}
