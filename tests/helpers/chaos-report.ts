// The chaos suite's figures: each fault run or fuzz run appends one JSON line to a report file,
// and `npm run chaos` prints their sum at the end (tests/chaos/run.ts). Counting happens in the
// tests; this module only records what they measured, and says how large a run should be.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const ChaosFigures = z.object({
  /** The test that measured these figures (file and case). */
  run: z.string(),
  /** Packages the test submitted and saw accepted. */
  sent: z.number().int().nonnegative().optional(),
  /** Deliveries owed: one per accepted package and recipient. */
  expected: z.number().int().nonnegative().optional(),
  /** Faults injected, by kind (e.g. `broker-kill`, `hub-kill`, `link-outage`, `poison`). */
  faults: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Accepted packages that never reached a recipient's mailbox. */
  lost: z.number().int().nonnegative().optional(),
  /** Mailbox entries beyond one per (document, recipient). */
  duplicates: z.number().int().nonnegative().optional(),
  /** Mailbox entries for packages no one was told were accepted. */
  unexpected: z.number().int().nonnegative().optional(),
  /** Redelivered copies that the mailbox dedupe absorbed (at-least-once transport at work). */
  absorbed: z.number().int().nonnegative().optional(),
  /** Fuzz cases tried, and those that crashed, hung or answered 500. */
  fuzzCases: z.number().int().nonnegative().optional(),
  crashes: z.number().int().nonnegative().optional(),
});
export type ChaosFigures = z.output<typeof ChaosFigures>;

export const CHAOS_REPORT = process.env.LGSP_CHAOS_REPORT ?? path.resolve('tests/artifacts/chaos-report.jsonl');

export function recordChaos(figures: ChaosFigures): void {
  fs.mkdirSync(path.dirname(CHAOS_REPORT), { recursive: true });
  fs.appendFileSync(CHAOS_REPORT, `${JSON.stringify({ at: new Date().toISOString(), ...ChaosFigures.parse(figures) })}\n`);
}

/** LGSP_CHAOS_SCALE, a positive multiplier of every run's size (default 1; CI runs 0.2). */
export const CHAOS_SCALE = z.coerce.number().positive().default(1).parse(process.env.LGSP_CHAOS_SCALE || undefined);

/** `n` scaled by LGSP_CHAOS_SCALE, at least `min`. */
export function scaled(n: number, min = 1): number {
  return Math.max(min, Math.round(n * CHAOS_SCALE));
}
