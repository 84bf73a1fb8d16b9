// Fuzzing the HTTP API: random mutations of signed packages and the national samples submitted
// to a real three-hub network, with assorted content types. Every answer must be an acceptance
// (202/200 with a doc id) or a 4xx carrying a code of src/errors.ts with its own status; never a
// 5xx, a non-JSON error, a hang (each request has a deadline) or an error logged by any hub (a
// handler that threw, at this hop or a later one). Afterwards every hub is ready and a valid
// package still goes through, and memory stayed bounded. LGSP_FUZZ_SEED replays a run's
// mutations (the packages themselves are signed afresh).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { createRootLogger } from '../../src/logger.js';
import { recordChaos, scaled } from '../helpers/chaos-report.js';
import { fuzzSeed, mutate, prng } from '../helpers/mutations.js';
import { eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { sample, SAMPLE_FILES } from '../helpers/packages.js';
import { credentialOf, reviewPackage } from '../helpers/hostile.js';

const CASES = scaled(3_000, 100);
const SEED = fuzzSeed(process.env.LGSP_FUZZ_SEED);
const CONCURRENCY = 4;
/** No answer within this is a hang (a 2 MiB package takes milliseconds here). */
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_BYTES = 2 * 1024 * 1024;
/** Peak RSS growth allowed after a warm-up, for this process and its three hubs (see fuzz-hop-check). */
const RSS_GROWTH_MAX = 300 * 1024 * 1024;
/** Mostly the XML types the API takes; one case in five something else. */
const CONTENT_TYPES = [...Array<string>(12).fill('application/xml'), 'text/xml', 'text/xml', 'application/edxml+xml', 'application/xml; charset=utf-16',
  'text/plain', 'application/json', 'application/octet-stream', 'application/x-www-form-urlencoded'];

const errors: string[] = [];
let n: TestNetwork;
let commune: Agent, department: Agent;
let bases: Buffer[];

beforeAll(async () => {
  // Hubs log errors only, into a buffer: an error line means a request or a message handler threw.
  const log = createRootLogger('error', { write: (line: string) => { errors.push(line); } });
  n = await startTestNetwork({
    log,
    configFor: (_id, c) => ({ ...c, policy: { ...c.policy, maxBytes: MAX_BYTES }, http: { ...c.http, rateLimit: { perSecond: 1e6, burst: 1e6 } } }),
  });
  commune = n.agent('000.07.05.');
  department = n.agent('000.00.12.');
  const school = n.agent('001.07.05.');
  bases = [
    n.document(commune, [department]), n.document(commune, [department, school], 'Hai nơi nhận'),
    n.document(commune, [school], 'Tệp lớn', randomBytes(220 * 1024)), // claim-checked at every hop
    n.status(commune, '03', { OrganId: department.agency.code, DocumentId: 'x' }),
    ...SAMPLE_FILES.map(sample),
    reviewPackage(credentialOf(commune.agency)), // issue 14: refused by the structure limits
  ];
}, 60_000);
afterAll(async () => { await n?.close(); });

type Answer = { status: number; json: any } | { failed: string };

async function post(bytes: Buffer, contentType: string): Promise<Answer> {
  try {
    const res = await fetch(`${commune.url}/api/v1/edocs`, {
      method: 'POST', body: bytes, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      headers: { authorization: `Bearer ${commune.agency.apiKey}`, 'content-type': contentType },
    });
    const text = await res.text();
    try {
      return { status: res.status, json: JSON.parse(text) };
    } catch (err) {
      if (err instanceof SyntaxError) return { failed: `${res.status} with a body that is not JSON: ${text.slice(0, 200)}` };
      throw err;
    }
  } catch (err) {
    return { failed: `no answer: ${(err as Error).name} ${(err as Error).message}` };
  }
}

/** Why an answer breaks the contract, or null. */
function problem(a: Answer): string | null {
  if ('failed' in a) return a.failed;
  if (a.status === 202 || a.status === 200) return /^[0-9a-f]{32}$/.test(a.json?.docId ?? '') ? null : `${a.status} without a doc id`;
  const code = a.json?.error?.code as string | undefined;
  const known = code === undefined ? undefined : (ERRORS as Record<string, { http: number } | undefined>)[code];
  if (a.status >= 500) return `${a.status} ${code}: ${a.json?.error?.message}`;
  if (known === undefined) return `${a.status} with an unknown code ${code}`;
  if (known.http !== a.status) return `${code} answered with ${a.status}, not ${known.http}`;
  return a.status >= 400 && a.status < 500 ? null : `unexpected status ${a.status}`;
}

describe('fuzzing the HTTP API', () => {
  it(`answers ${CASES} mutated submissions with an acceptance or a coded 4xx`, async () => {
    console.log(`fuzz-http: seed ${SEED} (replay with LGSP_FUZZ_SEED=${SEED}), ${CASES} cases`);
    const failures: string[] = [];
    const answers: Record<string, number> = {};
    const warm = Math.min(100, Math.floor(CASES / 10));
    let rssBefore = 0;
    let rssPeak = 0;
    let next = 0;
    const started = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < CASES; i = next++) {
        if (i === warm) rssBefore = process.memoryUsage().rss;
        if (i > warm && i % 100 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        const m = mutate(bases, SEED, i);
        const contentType = CONTENT_TYPES[Math.floor(prng(SEED + i)() * CONTENT_TYPES.length)]!;
        const answer = await post(m.bytes, contentType);
        const key = 'failed' in answer ? 'no answer' : `${answer.status} ${answer.json?.error?.code ?? ''}`.trim();
        answers[key] = (answers[key] ?? 0) + 1;
        const why = problem(answer);
        if (why !== null) failures.push(`case ${i} (seed ${SEED}, base ${m.base}, ${m.mutations.join('+')}, ${m.bytes.length} bytes, ${contentType}): ${why}`);
      }
    }));
    const growth = Math.max(rssPeak, process.memoryUsage().rss) - rssBefore;

    // The network is still whole: every hub ready, and a valid package goes end to end.
    for (const hub of n.hubs) expect((await fetch(`${hub.url}/readyz`)).status, hub.id).toBe(200);
    const after = await commune.submit(n.document(commune, [department], 'Sau khi thử ngẫu nhiên'));
    expect(after.status).toBe(202);
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string }[])
      .some((i) => i.docId === after.json.docId) || undefined, 'a valid package delivered after the fuzzing', 60_000);

    console.log(`fuzz-http: ${CASES} cases in ${Date.now() - started} ms, peak RSS +${Math.round(growth / 1024 / 1024)} MiB after warm-up; ` +
      `answers ${JSON.stringify(Object.fromEntries(Object.entries(answers).sort(([, a], [, b]) => b - a)))}; ${errors.length} error log lines`);
    recordChaos({ run: 'fuzz-http', fuzzCases: CASES, crashes: failures.length + errors.length });
    expect(failures.slice(0, 20)).toEqual([]);
    expect(errors.slice(0, 5)).toEqual([]);
    expect(growth).toBeLessThan(RSS_GROWTH_MAX);
    // Valid packages are accepted, and the usual refusals come from several stages.
    for (const key of ['202', '400 MALFORMED_XML', '400 SCHEMA_INVALID', '415 UNSUPPORTED_MEDIA_TYPE']) {
      expect(answers[key], key).toBeGreaterThan(0);
    }
  });
});
