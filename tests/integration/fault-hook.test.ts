// The test crash hooks, LGSP_FAULT, are read by `lgsp start` from its environment only, and only
// as exit-after-mailbox-write:N or exit-after-national-take:N: anything else is a usage error
// (exit 2) before any hub starts. (The chaos run crash-after-mailbox-write and
// national-axis-kill.test.ts prove the hooks themselves.)
import { describe, expect, it } from 'vitest';
import { lgspAsync } from '../helpers/tools.js';

describe('LGSP_FAULT', () => {
  it('refuses anything but exit-after-mailbox-write:N or exit-after-national-take:N with N ≥ 1, before reading the configuration', async () => {
    for (const value of ['exit-after-mailbox-write:0', 'exit-after-mailbox-write', 'exit-after-mailbox-write:-1', 'exit-after-national-take:0', 'exit-after-national-take:x', 'crash-now']) {
      const r = await lgspAsync({ LGSP_FAULT: value }, 'start', '--config', 'no-such-config.json');
      expect(r.status, value).toBe(2);
      expect(r.stderr, value).toContain('USAGE: LGSP_FAULT must be exit-after-mailbox-write:N or exit-after-national-take:N (N ≥ 1)');
    }
    // Unset or empty, it is no fault: the configuration is read (and here is missing).
    const r = await lgspAsync({ LGSP_FAULT: '' }, 'start', '--config', 'no-such-config.json');
    expect(r).toMatchObject({ status: 2, stderr: expect.stringContaining('cannot read the configuration') });
  });
});
