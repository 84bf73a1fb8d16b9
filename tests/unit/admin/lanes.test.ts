// Lane pauses shared by a hub's replicas: two replicas on one ledger (two handles on one SQLite
// file), each told of the other's changes. Whatever order the notices arrive in, every replica
// ends with the lanes the ledger says are paused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hubLanes, type Lane, type Lanes } from '../../../src/admin/lanes.js';
import { openSqliteLedger } from '../../../src/ledger/sqlite.js';
import type { Ledger } from '../../../src/ledger/store.js';

/** A lane that only remembers whether it is paused. */
const lane = (): Lane => {
  let paused = false;
  return { pause: async () => { paused = true; }, resume: async () => { paused = false; }, paused: () => paused };
};

describe('lanes paused on every replica of a hub', () => {
  const opened: Ledger[] = [];
  let dir = '';
  afterEach(async () => {
    for (const l of opened.splice(0)) await l.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  /** A replica: its lanes on a handle of the shared ledger; `announced` collects what it told the others. */
  const replica = (announced: { queue: string; paused: boolean }[]) => {
    const ledger = openSqliteLedger(dir, () => new Date());
    opened.push(ledger);
    return hubLanes({
      consumers: new Map([['q.ingress', lane()], ['q.deliver', lane()]]), ledger, clock: () => new Date(),
      announce: async (queue, paused) => { announced.push({ queue, paused }); },
    });
  };
  const state = (l: Lanes) => [...l.consumers].map(([q, c]) => `${q}:${c.paused()}`);

  it('pauses through one replica, follows on the other, and converges when a pause and a resume cross', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-lanes-'));
    const heardFromA: { queue: string; paused: boolean }[] = [];
    const a = replica(heardFromA);
    const b = replica([]);
    expect(await a.act('q.ingress', 'pause', 'op')).toEqual({ ok: true, value: { paused: true } });
    expect(heardFromA).toEqual([{ queue: 'q.ingress', paused: true }]);
    expect(state(a)).toEqual(['q.ingress:true', 'q.deliver:false']);
    expect(state(b)).toEqual(['q.ingress:false', 'q.deliver:false']); // not told yet
    expect([...await b.paused()]).toEqual(['q.ingress']); // the hub's word already
    // B resumes before A's notice reaches it; the late notice then changes nothing.
    await b.act('q.ingress', 'resume', 'op');
    await b.follow();
    await a.follow();
    expect(state(a)).toEqual(['q.ingress:false', 'q.deliver:false']);
    expect(state(b)).toEqual(['q.ingress:false', 'q.deliver:false']);
    expect(await a.act('q.nope', 'pause', 'op')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect((await opened[0]!.auditLog(10)).map((e) => e.action)).toEqual(['queue.resume', 'queue.pause']);
  });
});
