// One test network for the tests of a file (or of a describe block), and its agents by the names
// the tests give them, so that each file does not carry the same start, agents and close.
import { afterAll, beforeAll, expect } from 'vitest';
import { inboxItem, startTestNetwork, type Agent, type NetworkOptions, type TestNetwork } from './network.js';

/** The demo network's agencies (src/demo/network.ts, three tiers), by the role the tests give them. */
const ROLES = {
  commune: '000.07.05.', school: '001.07.05.', otherCommune: '000.08.05.', district: '000.00.05.',
  province: '000.00.00.', department: '000.00.12.', nghiLoc: '000.00.06.', farCommune: '000.03.06.',
} as const;

export type Agents = Record<keyof typeof ROLES, Agent>;

/** An agent for each agency, at its hub's current URL (after a restart, take them anew). */
export function agentsOf(n: Pick<TestNetwork, 'agent'>): Agents {
  return Object.fromEntries(Object.entries(ROLES).map(([role, code]) => [role, n.agent(code)])) as Agents;
}

/**
 * Starts a test network before the tests of the file (or of the describe block it is called in)
 * and closes it after them, also when `ready` (which takes the network and its agents) fails.
 */
export function useTestNetwork(options: NetworkOptions, ready: (n: TestNetwork, agents: Agents) => void | Promise<void>): void {
  let n: TestNetwork | undefined;
  beforeAll(async () => {
    n = await startTestNetwork(options);
    await ready(n, agentsOf(n));
  }, 60_000);
  afterAll(async () => { await n?.close(); });
}

/**
 * The worked example's first half: the commune sends the department (at the province hub) a signed
 * document through every hub; resolves once it is in the department's mailbox.
 */
export async function sendAcross(n: Pick<TestNetwork, 'agent' | 'document'>, subject: string): Promise<{ commune: Agent; department: Agent; docId: string; bytes: Buffer }> {
  const { commune, department } = agentsOf(n);
  const bytes = n.document(commune, [department], subject);
  const r = await commune.submit(bytes);
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  await inboxItem(department, r.json.docId);
  return { commune, department, docId: r.json.docId, bytes };
}
