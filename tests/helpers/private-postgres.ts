// A throwaway PostgreSQL server of a test's own (initdb + pg_ctl as the postgres user, its own
// port and data directory), which the test may stop and start: an outage without touching the
// shared server. Removed by destroy().
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

/** The installed server's binaries (Debian's layout), the newest version if several: not only 15. */
function installedBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number.parseFloat(a) - Number.parseFloat(b)).at(-1);
  return newest === undefined ? path.join(root, '15', 'bin') : path.join(root, newest, 'bin');
}
const BIN = process.env.LGSP_TEST_PG_BIN ?? installedBin();

export interface PrivatePostgres {
  url: string;
  start(): void;
  /** A fast shutdown: connections are cut, as when the server goes away. */
  stop(): void;
  destroy(): void;
}

/** Runs a PostgreSQL binary as the postgres user (the server refuses to run as root). */
function asPostgres(tool: string, args: string[]): void {
  const command = [path.join(BIN, tool), ...args];
  if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', ...command], { stdio: 'pipe' });
  else execFileSync(command[0]!, command.slice(1), { stdio: 'pipe' });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-pg-'));
  fs.chmodSync(dir, 0o777);
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () => asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop: () => asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    destroy() {
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch (err) {
        // Already stopped (a test that failed while it was down): only the files remain.
        if (!String((err as { stderr?: unknown }).stderr ?? '').includes('PID file')) throw err;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
