// The chaos suite's summary: the sum of every run's figures (tests/helpers/chaos-report.ts),
// printed as a table and as one JSON line, and the verdict `npm run chaos` exits with.
import fs from 'node:fs';
import { ChaosFigures } from '../helpers/chaos-report.js';

export interface ChaosSummary {
  scale: number;
  runs: number;
  sent: number;
  expected: number;
  faults: Record<string, number>;
  lost: number;
  duplicates: number;
  unexpected: number;
  absorbed: number;
  fuzzCases: number;
  crashes: number;
  /** The high-availability fault run's own figures (tests/chaos/ha.test.ts), null when it did not run. */
  ha: ChaosFigures | null;
}

/** The run name tests/chaos/ha.test.ts records under. */
export const HA_RUN = 'ha';

/** The report's lines; a line that is not a run's figures is an error, not a skipped line. */
export function readChaosReport(file: string): ChaosFigures[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((line, i) => {
    const parsed = ChaosFigures.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`${file}:${i + 1}: ${parsed.error.message}`);
    return parsed.data;
  });
}

export function summarizeChaos(runs: readonly ChaosFigures[], scale: number): ChaosSummary {
  const sum = (key: 'sent' | 'expected' | 'lost' | 'duplicates' | 'unexpected' | 'absorbed' | 'fuzzCases' | 'crashes') =>
    runs.reduce((total, r) => total + (r[key] ?? 0), 0);
  const faults: Record<string, number> = {};
  for (const r of runs) for (const [kind, n] of Object.entries(r.faults ?? {})) faults[kind] = (faults[kind] ?? 0) + n;
  return {
    scale, runs: runs.length, sent: sum('sent'), expected: sum('expected'),
    faults: Object.fromEntries(Object.entries(faults).sort(([a], [b]) => a.localeCompare(b))),
    lost: sum('lost'), duplicates: sum('duplicates'), unexpected: sum('unexpected'), absorbed: sum('absorbed'),
    fuzzCases: sum('fuzzCases'), crashes: sum('crashes'),
    ha: runs.find((r) => r.run === HA_RUN) ?? null,
  };
}

/** Why the suite fails on these figures; empty when it passes. Nothing recorded is a failure too. */
export function chaosProblems(s: ChaosSummary): string[] {
  const problems: string[] = [];
  if (s.runs === 0) problems.push('no run recorded any figures');
  for (const key of ['lost', 'duplicates', 'unexpected', 'crashes'] as const) if (s[key] > 0) problems.push(`${key} = ${s[key]}`);
  return problems;
}

export function formatChaosSummary(s: ChaosSummary): string {
  const faultCount = Object.values(s.faults).reduce((a, b) => a + b, 0);
  const kindsOf = (faults: Record<string, number>) => Object.entries(faults).map(([kind, n]) => `${kind} ${n}`).join(', ');
  const kinds = kindsOf(s.faults);
  // The HA run is printed apart too: its faults (replicas, a cluster node, PostgreSQL) are its own.
  const ha = s.ha === null ? 'not run (needs root and rabbitmq-server for its private cluster)'
    : `${s.ha.sent ?? 0} packages, faults ${kindsOf(s.ha.faults ?? {})}, lost ${s.ha.lost ?? 0}, duplicates ${s.ha.duplicates ?? 0}`;
  const row = (label: string, value: string | number) => `  ${label.padEnd(26)}${value}`;
  return [
    `Chaos summary (LGSP_CHAOS_SCALE=${s.scale}, ${s.runs} runs)`,
    row('packages sent', s.sent),
    row('deliveries owed', s.expected),
    row('faults injected', faultCount === 0 ? 0 : `${faultCount} (${kinds})`),
    row('lost', s.lost),
    row('mailbox duplicates', s.duplicates),
    row('unexpected deliveries', s.unexpected),
    row('redeliveries absorbed', s.absorbed),
    row('fuzz cases tried', s.fuzzCases),
    row('crashes', s.crashes),
    row('HA (2 replicas per hub)', ha),
    JSON.stringify({ chaos: s }),
  ].join('\n');
}
