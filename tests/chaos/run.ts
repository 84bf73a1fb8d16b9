// npm run chaos: clears the report, runs vitest's `chaos` project (fault runs and fuzzing, one
// file at a time, the HA run beside them; arguments go to vitest, e.g. a file filter), then prints the summary of every
// run's figures. Exits non-zero if vitest failed, if no run recorded figures, or if anything
// was lost, duplicated, unexpected or crashed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { CHAOS_REPORT, CHAOS_SCALE } from '../helpers/chaos-report.js';
import { chaosProblems, formatChaosSummary, readChaosReport, summarizeChaos } from './summary.js';

fs.rmSync(CHAOS_REPORT, { force: true });
const vitest = (args: string[]) => new Promise<number | string>((resolve) => {
  spawn('npx', ['vitest', 'run', '--project', 'chaos', ...args], { stdio: 'inherit' }).on('exit', (code, signal) => resolve(code ?? signal ?? 'no status'));
});
// The HA run has a RabbitMQ cluster and a PostgreSQL of its own, so it goes beside the other runs
// (which stop and kill the shared broker, one at a time): the suite takes about a minute less.
const HA = 'tests/chaos/ha.test.ts';
const statuses = process.argv.length > 2
  ? [await vitest(process.argv.slice(2))]
  : await Promise.all([vitest([HA]), vitest(['--exclude', HA])]);
const summary = summarizeChaos(readChaosReport(CHAOS_REPORT), CHAOS_SCALE);
console.log(`\n${formatChaosSummary(summary)}`);
const problems = chaosProblems(summary);
for (const status of statuses) if (status !== 0) problems.push(`vitest exited with ${status}`);
for (const p of problems) console.error(`chaos: ${p}`);
process.exitCode = problems.length === 0 ? 0 : 1;
