// docker-compose.yml as docker-compose reads it (the real tool; no Docker engine is needed to
// render a file): it is valid, it has no default credential, and it publishes no broker port.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/tools.js';

const render = (env: Record<string, string>) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LGSP_BROKER_')));
  const r = spawnSync('docker-compose', ['config'], { cwd: ROOT, encoding: 'utf8', env: { ...clean, ...env } });
  if (r.error) throw r.error;
  return r;
};

describe('docker-compose.yml', () => {
  it('will not render without the two passwords: nothing has a default credential', () => {
    const r = render({});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/set LGSP_BROKER_(ADMIN|HUB)_PASSWORD/);
  });

  it('is valid, publishes only the hubs\' HTTP ports and never the broker\'s, and has no guest user', () => {
    const r = render({ LGSP_BROKER_ADMIN_PASSWORD: 'admin-secret', LGSP_BROKER_HUB_PASSWORD: 'hub-secret' });
    expect(r.status, r.stderr).toBe(0);
    const published = [...r.stdout.matchAll(/published: "?(\d+)"?/g)].map((m) => Number(m[1]));
    expect(published.sort()).toEqual([8701, 8702, 8703]);
    expect(r.stdout).not.toMatch(/guest/);
    expect(r.stdout).toContain('AMQP_URL: amqp://lgsp-hubs:hub-secret@rabbitmq:5672');
  });
});
