// The chaos suite's load: a bounded, self-stopping number of signed packages submitted by a few
// concurrent clients, each retried until a hub accepts it (as a document system does), so that a
// fault in mid-run only delays it.
import { signedDocument, type Agent } from './agent.js';
import { eventually } from './network.js';
import type { HubProcesses } from './hub-processes.js';

export interface Flow { from: Agent; to: readonly Agent[] }

export interface Accepted { docId: string; sender: string; recipients: readonly string[] }

export interface LoadOptions {
  flows: readonly Flow[];
  count: number;
  /** Submissions started per second: the load is spread out so that faults land in mid-run. */
  ratePerSec?: number;
  concurrency?: number;
  /** How long one package may wait for acceptance (a fault lasts less). */
  acceptTimeoutMs?: number;
  /** Ends the load at once when it returns a reason (e.g. a hub crashed). */
  abortIf?: () => string | undefined;
}

export interface Load {
  readonly accepted: readonly Accepted[];
  /** Attempts that had to be retried, by answer (`503 UNAVAILABLE`, `network`, …). */
  readonly retries: Readonly<Record<string, number>>;
  /** Resolves once `n` packages are accepted. */
  reached(n: number): Promise<void>;
  finished(): boolean;
  /** Every package accepted (rejects if one never is). */
  done: Promise<readonly Accepted[]>;
}

const CONCURRENCY = 8;
const RATE_PER_SEC = 30;
const ACCEPT_TIMEOUT_MS = 180_000;

/**
 * Packages both ways through all three hubs: a commune agency writes to agencies at the
 * province, the district and its own commune; a province department answers down the tree.
 */
export function standardFlows(hubs: HubProcesses): { flows: Flow[]; recipients: Agent[] } {
  const a = (prefix: string) => hubs.agent(prefix);
  const commune = a('000.07.05.'), school = a('001.07.05.'), district = a('000.00.05.'), ward = a('000.08.05.'), department = a('000.00.12.');
  return {
    flows: [{ from: commune, to: [department, ward, school] }, { from: department, to: [commune, district] }],
    recipients: [commune, school, district, ward, department],
  };
}

export function startLoad(options: LoadOptions): Load {
  const accepted: Accepted[] = [];
  const retries: Record<string, number> = {};
  const waiters: { n: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  let next = 0;
  let finished = false;

  const submitUntilAccepted = (flow: Flow, bytes: Buffer): Promise<string> => eventually(async () => {
    const abort = options.abortIf?.();
    if (abort !== undefined) throw new Error(`load aborted: ${abort}`);
    const answer = await flow.from.submit(bytes).catch((err: Error) => {
      if (err.name !== 'TypeError') throw err; // fetch's "fetch failed": the hub is unreachable
      return { status: 0, json: undefined };
    });
    if (answer.status === 202 || answer.status === 200) return answer.json.docId as string;
    // 429 RATE_LIMITED says "later", like a 503; any other 4xx would be a defect, not a fault.
    if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) throw new Error(`a package was refused: ${answer.status} ${JSON.stringify(answer.json)}`);
    const why = answer.status === 0 ? 'network' : `${answer.status} ${answer.json?.error?.code ?? ''}`.trim();
    retries[why] = (retries[why] ?? 0) + 1;
    return undefined;
  }, 'a package accepted', options.acceptTimeoutMs ?? ACCEPT_TIMEOUT_MS);

  const started = Date.now();
  const intervalMs = 1000 / (options.ratePerSec ?? RATE_PER_SEC);
  // Pacing, not waiting for a state: package i does not start before its slot in the schedule.
  const slot = (i: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, started + i * intervalMs - Date.now())));
  const worker = async () => {
    for (let i = next++; i < options.count; i = next++) {
      await slot(i);
      const flow = options.flows[i % options.flows.length]!;
      const docId = await submitUntilAccepted(flow, signedDocument(flow.from, flow.to, `Chaos ${i}`));
      accepted.push({ docId, sender: flow.from.agency.code, recipients: flow.to.map((t) => t.agency.code) });
      for (const w of waiters.filter((x) => accepted.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const done = Promise.all(Array.from({ length: options.concurrency ?? CONCURRENCY }, worker)).then(() => {
    finished = true;
    if (new Set(accepted.map((a) => a.docId)).size !== accepted.length) throw new Error('two packages got the same doc id');
    return accepted;
  });
  // A waiter still waiting when the load ends (or fails) would wait forever: fail it instead.
  void done.then(() => new Error(`the load ended with ${accepted.length} packages accepted`), (err: Error) => err)
    .then((err) => { for (const w of waiters.splice(0)) w.reject(err); });
  return {
    accepted, retries, done,
    finished: () => finished,
    reached: (n) => (accepted.length >= n ? Promise.resolve() : new Promise((resolve, reject) => { waiters.push({ n, resolve, reject }); })),
  };
}
