// The chaos suite's summary sums every run's figures and fails on anything lost, duplicated,
// unexpected or crashed, and on an empty report.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chaosProblems, formatChaosSummary, readChaosReport, summarizeChaos } from '../chaos/summary.js';

describe('chaos summary', () => {
  it('sums runs and fault kinds, and prints one JSON line', () => {
    const s = summarizeChaos([
      { run: 'broker-kill', sent: 100, expected: 250, faults: { 'broker-kill': 1 }, lost: 0, duplicates: 0, absorbed: 7 },
      { run: 'hub-kill', sent: 50, expected: 120, faults: { 'hub-kill': 3, poison: 1 }, lost: 0, duplicates: 0, unexpected: 0 },
      { run: 'fuzz-http', fuzzCases: 400, crashes: 0 },
    ], 0.3);
    expect(s).toEqual({
      scale: 0.3, runs: 3, sent: 150, expected: 370, faults: { 'broker-kill': 1, 'hub-kill': 3, poison: 1 },
      lost: 0, duplicates: 0, unexpected: 0, absorbed: 7, fuzzCases: 400, crashes: 0, ha: null,
    });
    expect(chaosProblems(s)).toEqual([]);
    const text = formatChaosSummary(s);
    expect(text).toContain('faults injected           5 (broker-kill 1, hub-kill 3, poison 1)');
    expect(text).toContain('HA (2 replicas per hub)   not run');
    expect(JSON.parse(text.split('\n').at(-1)!)).toEqual({ chaos: s });
  });

  it('prints the high-availability run on a line of its own', () => {
    const ha = { run: 'ha', sent: 120, expected: 300, faults: { 'replica-kill': 3, 'rabbit-node-kill': 1, 'postgres-restart': 1 }, lost: 0, duplicates: 0 };
    const s = summarizeChaos([{ run: 'hub-kill', sent: 50, faults: { 'hub-kill': 3 } }, ha], 0.3);
    expect(s.ha).toEqual(ha);
    expect(formatChaosSummary(s)).toContain('HA (2 replicas per hub)   120 packages, faults replica-kill 3, rabbit-node-kill 1, postgres-restart 1, lost 0, duplicates 0');
  });

  it('fails on losses, duplicates, unexpected deliveries, crashes and an empty report', () => {
    expect(chaosProblems(summarizeChaos([{ run: 'a', lost: 1, duplicates: 2, unexpected: 3, crashes: 4 }], 1)))
      .toEqual(['lost = 1', 'duplicates = 2', 'unexpected = 3', 'crashes = 4']);
    expect(chaosProblems(summarizeChaos([], 1))).toEqual(['no run recorded any figures']);
  });

  it('refuses a report line that is not a run\'s figures', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-')), 'report.jsonl');
    fs.writeFileSync(file, `${JSON.stringify({ run: 'a', sent: 1 })}\n${JSON.stringify({ run: 'b', lost: -1 })}\n`);
    expect(() => readChaosReport(file)).toThrow(/report\.jsonl:2/);
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
