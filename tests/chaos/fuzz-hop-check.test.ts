// Fuzzing the hop check: thousands of random mutations of signed and sample packages (bytes,
// elements, attributes, encodings, sizes) straight through checkHop. Every verdict must be an
// acceptance or a coded 4xx refusal from src/errors.ts: no exception, no 5xx code, no hang. An
// accepted mutant must verify with xmlsec1 too (the reference tool is the referee), and the
// process's memory must stay bounded. The seed is printed; LGSP_FUZZ_SEED replays a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { checkHop, type HopContext } from '../../src/hop/check.js';
import { signPackage } from '../../src/trust/sign.js';
import { recordChaos, scaled } from '../helpers/chaos-report.js';
import { fuzzSeed, mutate } from '../helpers/mutations.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { documentOfSize, sample, SAMPLE_FILES, statusPackage } from '../helpers/packages.js';
import { tempDir, xmlsec1 } from '../helpers/tools.js';
import { hostilePackages, reviewPackage } from '../helpers/hostile.js';

const CASES = scaled(6_000, 200);
const SEED = fuzzSeed(process.env.LGSP_FUZZ_SEED);
/** A single check slower than this counts as a hang (the 1 MB mutants take milliseconds). */
const HANG_MS = 10_000;
/**
 * Peak RSS growth allowed after a warm-up. The wasm heap grows to the largest mutant once and is
 * reused, and V8's heap swings by ~100 MiB between collections: a leak of the parsed documents
 * (up to 1 MB of text each, several times that as a tree) would cross it within a thousand cases.
 */
const RSS_GROWTH_MAX = 256 * 1024 * 1024;
const XMLSEC_REFEREE_MAX = 40;

let pki: TestPki;
let strict: HopContext, lenient: HopContext;
let bases: Buffer[];
const tmp = tempDir();

beforeAll(async () => {
  pki = await createTestPki();
  const trust = await pki.trust();
  strict = { trust, now: pki.now, allowLegacy: false, requireSignature: true };
  // Unsigned and legacy packages accepted: mutants of the samples then reach the later stages too.
  lenient = { ...strict, allowLegacy: true, requireSignature: false };
  const signed = (bytes: Buffer) => {
    const s = signPackage(bytes, pki.creds.agency, 'exclusive');
    if (!s.ok) throw new Error(s.error.message);
    return s.value;
  };
  // Small and claim-checked (large attachment) documents, a status, the national samples, the
  // outside review's package and the hostile shapes that pass at the structure limits.
  bases = [signed(documentOfSize(8 * 1024)), signed(documentOfSize(300 * 1024)), signed(statusPackage()), ...SAMPLE_FILES.map(sample),
    reviewPackage(pki.creds.agency), ...hostilePackages(pki.creds.agency, 32 * 1024).filter((c) => c.expected === 'OK').map((c) => c.bytes)];
});
afterAll(() => { pki?.cleanup(); tmp.cleanup(); });

describe('fuzzing the hop check', () => {
  it(`answers ${CASES} mutants with an acceptance or a coded refusal, and stays bounded`, () => {
    console.log(`fuzz-hop-check: seed ${SEED} (replay with LGSP_FUZZ_SEED=${SEED}), ${CASES} cases`);
    const failures: string[] = [];
    const codes: Record<string, number> = {};
    let refereed = 0;
    let rssBefore = 0;
    let rssPeak = 0;
    const started = Date.now();
    for (let i = 0; i < CASES; i++) {
      const warm = Math.min(200, Math.floor(CASES / 10));
      if (i === warm) rssBefore = process.memoryUsage().rss;
      if (i > warm && i % 250 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      const m = mutate(bases, SEED, i);
      const ctx = i % 4 === 3 ? lenient : strict;
      const what = `case ${i} (seed ${SEED}, base ${m.base}, ${m.mutations.join('+')}, ${m.bytes.length} bytes)`;
      const t0 = performance.now();
      let verdict: ReturnType<typeof checkHop>;
      try {
        verdict = checkHop(m.bytes, ctx);
      } catch (err) {
        failures.push(`${what}: threw ${(err as Error).stack ?? String(err)}`);
        continue;
      }
      const ms = performance.now() - t0;
      if (ms > HANG_MS) failures.push(`${what}: took ${Math.round(ms)} ms`);
      const code = verdict.ok ? 'accepted' : verdict.error.code;
      codes[code] = (codes[code] ?? 0) + 1;
      if (!verdict.ok) {
        const http = (ERRORS as Record<string, { http: number } | undefined>)[verdict.error.code]?.http;
        if (http === undefined || http < 400 || http >= 500) failures.push(`${what}: refused with ${verdict.error.code} (HTTP ${http})`);
        if (!verdict.error.message) failures.push(`${what}: ${verdict.error.code} without a message`);
      } else if (verdict.signer !== null && !bases.some((b) => b.equals(m.bytes)) && refereed < XMLSEC_REFEREE_MAX) {
        refereed++;
        const file = tmp.file(`accepted-${i}.edxml`, m.bytes);
        const r = xmlsec1('--verify', '--trusted-pem', pki.caFile, '--enabled-reference-uris', 'empty', file);
        if (r.status !== 0) failures.push(`${what}: accepted, but xmlsec1 refuses it: ${r.stderr.split('\n').slice(-3).join(' ')}`);
      }
    }
    const growth = Math.max(rssPeak, process.memoryUsage().rss) - rssBefore;
    console.log(`fuzz-hop-check: ${CASES} cases in ${Date.now() - started} ms, peak RSS +${Math.round(growth / 1024 / 1024)} MiB after warm-up; ` +
      `verdicts ${JSON.stringify(Object.fromEntries(Object.entries(codes).sort(([, a], [, b]) => b - a)))}; ${refereed} acceptances refereed by xmlsec1`);
    recordChaos({ run: 'fuzz-hop-check', fuzzCases: CASES, crashes: failures.length });
    expect(failures.slice(0, 20)).toEqual([]);
    expect(growth).toBeLessThan(RSS_GROWTH_MAX);
    // The mutants reach deep: refusals from every stage (the rarer ones only in runs long enough
    // to expect a dozen of them), and acceptances.
    const stages = ['MALFORMED_XML', 'POLICY_VIOLATION', 'SCHEMA_INVALID', 'SIGNATURE_MISSING', 'accepted', ...(CASES >= 2_000 ? ['SIGNATURE_INVALID'] : [])];
    for (const code of stages) {
      expect(codes[code], code).toBeGreaterThan(0);
    }
  });
});
