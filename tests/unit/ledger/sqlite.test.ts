// The SQLite ledger passes the ledger contract; a second handle on the same file stands for a
// second process sharing it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteLedger } from '../../../src/ledger/sqlite.js';
import { describeLedgerContract } from './contract.js';

describeLedgerContract('SQLite', {
  async create() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-ledger-'));
    const open = async () => openSqliteLedger(dir, () => new Date());
    return { ledger: await open(), handle: open, remove: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  },
});
