// The consumption marks' flush waits for a batch the timer already sent: a hub that flushes and
// then closes its publisher must not leave that batch unconfirmed (seen as a 30 s hang at exit).
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { takenMarks, PUBLISH_ID } from '../../../src/bus/journal.js';
import type { Outgoing, Publisher } from '../../../src/bus/publisher.js';

describe('taken marks', () => {
  it('flush() waits for the batch the timer sent', async () => {
    const sent: Outgoing[] = [];
    let confirm!: () => void;
    const publisher: Publisher = {
      publish: (m) => { sent.push(m); return new Promise<void>((resolve) => { confirm = resolve; }); },
      close: async () => undefined,
    };
    const marks = takenMarks(publisher, '000.00.05.H41', pino({ level: 'silent' }));
    vi.useFakeTimers();
    marks.taken('lgsp.000.00.05.H41.ingress', { [PUBLISH_ID]: 'a.1' });
    vi.advanceTimersByTime(150); // the batch timer fires
    vi.useRealTimers();
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!.body.toString())).toEqual({ kind: 'taken', items: [{ queue: 'lgsp.000.00.05.H41.ingress', id: 'a.1' }] });

    let flushed = false;
    const flushing = marks.flush().then(() => { flushed = true; });
    await Promise.resolve();
    expect(flushed).toBe(false);
    confirm();
    await flushing;
    expect(flushed).toBe(true);
  });
});
