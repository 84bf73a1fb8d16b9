// The shared edge state (http/shared-state.ts) on a Redis server of this test's own, stopped and
// started: one budget and one replay guard while it answers; while it is away the rate limit lets
// calls through and the replay guard refuses to tell (the caller answers 503); back, both work
// again by themselves. A Redis that is not there at start stops the hub with UNAVAILABLE.
import { spawn, type ChildProcess } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSharedEdgeState, type SharedEdgeState } from '../../src/http/shared-state.js';
import { eventually } from '../helpers/network.js';
import { freePort } from '../helpers/free-port.js';

const log = pino({ level: 'silent' });
let port: number;
let server: ChildProcess | null = null;
let state: SharedEdgeState;

async function startRedis(): Promise<void> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('Ready to accept connections')) resolve(); });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  server = child;
}

async function stopRedis(): Promise<void> {
  const child = server!;
  server = null;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  const opened = await openSharedEdgeState(`redis://127.0.0.1:${port}`, `T${port}`, { perSecond: 0.01, burst: 2 }, () => Date.now(), log);
  if (!opened.ok) throw new Error(opened.error.message);
  state = opened.value;
});
afterAll(async () => {
  await state?.close().catch(() => undefined); // quit needs an answering server; the test may end with it away
  if (server !== null) await stopRedis();
});

describe('the shared edge state with its Redis away', () => {
  it('does not open without a Redis', async () => {
    const closed = await freePort();
    const opened = await openSharedEdgeState(`redis://127.0.0.1:${closed}`, 'T0', { perSecond: 1, burst: 1 }, () => Date.now(), log);
    expect(opened).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', message: expect.stringContaining('sharedState.redisUrl') } });
  });

  it('limits and guards while Redis answers, lets calls through and refuses to tell replays while it is away, and recovers', async () => {
    expect(await state.buckets.take('A')).toEqual({ ok: true });
    expect(await state.buckets.take('A')).toEqual({ ok: true });
    expect(await state.buckets.take('A')).toMatchObject({ ok: false, retryAfterMs: expect.any(Number) });
    expect(await state.replay.firstUse('A:hash1', Date.now() + 60_000)).toBe(true);
    expect(await state.replay.firstUse('A:hash1', Date.now() + 60_000)).toBe(false);

    await stopRedis();
    const started = Date.now();
    expect(await state.buckets.take('A')).toEqual({ ok: true }); // fails open
    await expect(state.replay.firstUse('A:hash2', Date.now() + 60_000)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3000);

    await startRedis(); // empty: the budget starts full again
    await eventually(async () => (await state.replay.firstUse('A:hash3', Date.now() + 60_000).catch(() => undefined)), 'Redis answering again', 15_000);
    expect(await state.replay.firstUse('A:hash3', Date.now() + 60_000)).toBe(false);
    expect(await state.buckets.take('B')).toEqual({ ok: true });
    expect(await state.buckets.take('B')).toEqual({ ok: true });
    expect(await state.buckets.take('B')).toMatchObject({ ok: false });
  }, 30_000);
});
