// npm run chaos: clears the report, runs vitest's `chaos` project (fault runs and fuzzing, one
// file at a time; arguments go to vitest, e.g. a file filter), then prints the summary of every
// run's figures. Exits non-zero if vitest failed, if no run recorded figures, or if anything
// was lost, duplicated, unexpected or crashed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { CHAOS_REPORT, CHAOS_SCALE } from '../helpers/chaos-report.js';
import { chaosProblems, formatChaosSummary, readChaosReport, summarizeChaos } from './summary.js';

fs.rmSync(CHAOS_REPORT, { force: true });
const vitest = spawnSync('npx', ['vitest', 'run', '--project', 'chaos', ...process.argv.slice(2)], { stdio: 'inherit' });
const summary = summarizeChaos(readChaosReport(CHAOS_REPORT), CHAOS_SCALE);
console.log(`\n${formatChaosSummary(summary)}`);
const problems = chaosProblems(summary);
if (vitest.status !== 0) problems.push(`vitest exited with ${vitest.status ?? vitest.signal}`);
for (const p of problems) console.error(`chaos: ${p}`);
process.exitCode = problems.length === 0 ? 0 : 1;
