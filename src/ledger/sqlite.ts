// The embedded ledger: one SQLite file per hub (better-sqlite3). synchronous=FULL, so a write
// that was reported done survives a crash or power loss. Writes are group-committed: those
// issued in the same turn of the event loop share one transaction (and one fsync), each in a
// savepoint of its own so that one failing write rolls back alone; every caller is answered
// only after the commit.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { HopRecord } from '../hop/trace.js';
import type { AckOutcome, AckResult, CrlRecord, Delivery, DeliveryState, Ledger, RecipientState, SentItem, SubmittedDocument } from './store.js';
import {
  CERT_RANK, DELIVERY_RANK, ackOutcomeOf, agencyCodeOf, agencyOf, auditOf, bytesOf, caOf, certOf, countOf, crlOf, deadLetterOf, directoryEntryOf,
  documentIdOf, documentOf, hubCertOf, likeOf, mailboxEntryOf, nationalDirectoryOf, packageOf, rankOf, receivedInOf, receivedOf, recipientOf, retirementOf,
  sealKeyOf, summaryOf, traceOf, waitingOf, confirmationOf, sealKeyPemOf,
} from './rows.js';
import { STATS_ADDED_COLUMNS, STATS_SCHEMA, exchangeStats, type SqlPort } from './exchange-stats.js';
import { retention } from './retention.js';
import { ALERT_MEMORY_SCHEMA, REPLICA_STATE_SCHEMA, replicaState } from './replica-state.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS documents (
  doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, sender TEXT NOT NULL, subject TEXT,
  document_id TEXT, code TEXT, digest TEXT NOT NULL, submitted_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_sender ON documents (sender, submitted_at);
CREATE INDEX IF NOT EXISTS documents_business ON documents (sender, document_id);
CREATE TABLE IF NOT EXISTS recipients (
  doc_id TEXT NOT NULL, organ_id TEXT NOT NULL, delivery TEXT NOT NULL, status TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (doc_id, organ_id));
CREATE TABLE IF NOT EXISTS mailbox (
  doc_id TEXT NOT NULL, agency TEXT NOT NULL, kind TEXT NOT NULL, sender TEXT NOT NULL, subject TEXT,
  status_code TEXT, origin_hub TEXT NOT NULL, bytes BLOB NOT NULL, received_at TEXT NOT NULL,
  acked_at TEXT, ack_result TEXT, ack_reason TEXT,
  PRIMARY KEY (doc_id, agency));
CREATE INDEX IF NOT EXISTS mailbox_pending ON mailbox (agency, acked_at, received_at);
CREATE TABLE IF NOT EXISTS trace (
  doc_id TEXT NOT NULL, hub TEXT NOT NULL, at TEXT NOT NULL, verdict TEXT NOT NULL, checks TEXT NOT NULL, ms REAL,
  PRIMARY KEY (doc_id, hub, verdict));
CREATE TABLE IF NOT EXISTS certs (
  fingerprint TEXT PRIMARY KEY, agency TEXT NOT NULL, pem TEXT NOT NULL, subject TEXT NOT NULL,
  not_before TEXT NOT NULL, not_after TEXT NOT NULL, state TEXT NOT NULL, retire_at TEXT, revoked_at TEXT, reason TEXT,
  added_at TEXT NOT NULL, added_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS crls (
  issuer_fingerprint TEXT PRIMARY KEY, der BLOB NOT NULL, this_update TEXT NOT NULL, imported_at TEXT NOT NULL, imported_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT, message_key TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL, kind TEXT NOT NULL, sender TEXT NOT NULL,
  reason_code TEXT NOT NULL, reason TEXT NOT NULL, dead_at TEXT NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL,
  replayed_at TEXT, deleted_at TEXT);
CREATE INDEX IF NOT EXISTS dead_letters_at ON dead_letters (dead_at);
CREATE TABLE IF NOT EXISTS agencies (
  code TEXT PRIMARY KEY, name TEXT NOT NULL, parent TEXT, hub_id TEXT NOT NULL, api_key_hash TEXT NOT NULL, added_at TEXT NOT NULL, added_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cas (
  fingerprint TEXT PRIMARY KEY, pem TEXT NOT NULL, added_at TEXT NOT NULL, added_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hub_certs (
  hub_id TEXT NOT NULL, fingerprint TEXT NOT NULL, pem TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (hub_id, fingerprint));
CREATE TABLE IF NOT EXISTS seal_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT, key_file TEXT NOT NULL, cert_pem TEXT NOT NULL, activated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS staged_seal_keys (
  fingerprint TEXT PRIMARY KEY, key_pem TEXT NOT NULL, cert_pem TEXT NOT NULL, staged_at TEXT NOT NULL, activated_at TEXT);
CREATE TABLE IF NOT EXISTS seal_confirmations (
  fingerprint TEXT NOT NULL, by_hub TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (fingerprint, by_hub));
CREATE TABLE IF NOT EXISTS national_directory (id INTEGER PRIMARY KEY CHECK (id = 1), entries TEXT NOT NULL, fetched_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS directory (
  code TEXT PRIMARY KEY, successor TEXT, successor_from TEXT, hub_id TEXT);
CREATE TABLE IF NOT EXISTS hub_retirements (hub_id TEXT PRIMARY KEY, "into" TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trust_versions (subject TEXT PRIMARY KEY, at TEXT NOT NULL, digest TEXT NOT NULL);
`;

/** Columns added after the first schema: each added to a ledger that does not have it yet. */
const ADDED_COLUMNS: readonly [table: string, column: string, type: string][] = [
  // The agency directory (issue 19): the code a redirected package named; where a waiting one was carried on to.
  ['mailbox', 'addressed_to', 'TEXT'],
  ['mailbox', 'moved_to', 'TEXT'],
  ['mailbox', 'document_id', 'TEXT'],
];

/**
 * The ledger on one SQLite file: each part below answers one concern of the Ledger port, and the
 * statistics, retention and replicas' state run the SQL they share with PostgreSQL over `sql`.
 */
export function openSqliteLedger(dir: string, now: () => Date): Ledger {
  const db = openDatabase(dir);
  const commits = groupCommit(db);
  const store: Store = { db, write: commits.write, now, appendHop: hopWriter(db) };
  const sql = sqlPort(db, commits.write);
  return {
    ...messageStore(store), ...mailboxes(store), ...hopTrace(store), ...documentSearch(store),
    ...trustStore(store), ...sealKeyStore(store), ...deadLetterStore(store), ...auditTrail(store), ...agencyDirectory(store),
    ...lifecycle(db, commits.drain),
    // ---- Exchange statistics, retention (issue 20); console sessions, the console's key, lane pauses and alerts (issue 18) ----
    ...exchangeStats(sql, now), ...retention(sql), ...replicaState(sql),
  };
}

/** What each part of the ledger works with. */
interface Store {
  db: Database.Database;
  /** Runs `run` in the next group commit; answers once it is committed. */
  write: <T>(run: () => T) => Promise<T>;
  now: () => Date;
  /** Appends one hop to a document's trace (a hop already held is kept); inside a write. */
  appendHop: (docId: string, hop: HopRecord) => void;
}

/** Opens (or creates) the file, and brings its schema up to date. */
function openDatabase(dir: string): Database.Database {
  fs.mkdirSync(dir, { recursive: true });
  const db = new Database(path.join(dir, 'ledger.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(SCHEMA);
  db.exec(STATS_SCHEMA);
  db.exec(REPLICA_STATE_SCHEMA);
  db.exec(ALERT_MEMORY_SCHEMA);
  for (const [table, column, type] of [...ADDED_COLUMNS, ...STATS_ADDED_COLUMNS]) {
    const has = db.prepare(`SELECT 1 FROM pragma_table_info('${table}') WHERE name = ?`).get(column) !== undefined;
    if (!has) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
  return db;
}

/**
 * Group commit: the writes issued in one turn of the event loop share one transaction (one
 * fsync), each in a savepoint so that one failing write rolls back alone. `drain` commits those
 * waiting now (before the file is closed).
 */
function groupCommit(db: Database.Database): { write: Store['write']; drain: () => void } {
  type Write = { run: () => unknown; resolve: (v: unknown) => void; reject: (e: Error) => void };
  let batch: Write[] = [];
  const commit = db.transaction((writes: Write[]) => {
    const results: ({ ok: true; value: unknown } | { ok: false; error: Error })[] = [];
    for (const w of writes) {
      try {
        results.push({ ok: true, value: db.transaction(w.run)() }); // nested: a savepoint
      } catch (err) {
        results.push({ ok: false, error: err as Error });
      }
    }
    return results;
  });
  const flush = () => {
    const writes = batch;
    batch = [];
    let results;
    try {
      results = commit(writes);
    } catch (err) {
      for (const w of writes) w.reject(err as Error); // the commit itself failed: nothing was written
      return;
    }
    results.forEach((r, i) => (r.ok ? writes[i]!.resolve(r.value) : writes[i]!.reject(r.error)));
  };
  const write = <T>(run: () => T): Promise<T> => new Promise<T>((resolve, reject) => {
    if (batch.length === 0) setImmediate(flush);
    batch.push({ run, resolve: resolve as (v: unknown) => void, reject });
  });
  return { write, drain: () => { if (batch.length > 0) flush(); } };
}

/** The port the statistics and retention share with the PostgreSQL ledger (same SQL). */
function sqlPort(db: Database.Database, write: Store['write']): SqlPort {
  /** Prepared statements by their SQL, for the queries built at run time. */
  const statements = new Map<string, Database.Statement>();
  const statement = (sql: string) => statements.get(sql) ?? statements.set(sql, db.prepare(sql)).get(sql)!;
  return {
    all: async (text, args) => statement(text).all(...args),
    run: (text, args) => write(() => statement(text).run(...args).changes),
    batch: (steps) => write(() => { for (const s of steps) statement(s.sql).run(...s.args); }),
    joinText: (expr) => `group_concat(${expr}, ',')`,
    byteLength: (expr) => `length(${expr})`,
  };
}

function hopWriter(db: Database.Database): Store['appendHop'] {
  const appendTrace = db.prepare('INSERT OR IGNORE INTO trace (doc_id, hub, at, verdict, checks, ms) VALUES (?, ?, ?, ?, ?, ?)');
  return (docId, hop) => appendTrace.run(docId, hop.hub, hop.at, hop.verdict, JSON.stringify(hop.checks), hop.ms ?? null);
}

/** The message store's sending side: documents accepted here and their recipients' progress. */
function messageStore({ db, write, now, appendHop }: Store): Pick<Ledger,
  'recordSubmission' | 'withdrawSubmission' | 'submission' | 'sent' | 'sentMatching' | 'updateRecipients' | 'findByDocumentId'> {
  const q = {
    insertDoc: db.prepare(`INSERT OR IGNORE INTO documents (doc_id, kind, sender, subject, document_id, code, digest, submitted_at)
      VALUES (@docId, @kind, @sender, @subject, @documentId, @code, @digest, @submittedAt)`),
    insertRecipient: db.prepare('INSERT OR IGNORE INTO recipients (doc_id, organ_id, delivery, updated_at) VALUES (?, ?, ?, ?)'),
    withdraw: ['recipients', 'trace', 'documents'].map((table) => db.prepare(`DELETE FROM ${table} WHERE doc_id = ?`)),
    doc: db.prepare('SELECT * FROM documents WHERE doc_id = ?'),
    recipientsOf: db.prepare('SELECT * FROM recipients WHERE doc_id = ? ORDER BY organ_id'),
    // Delivery only moves forward; a status given replaces the one held.
    setRecipient: db.prepare(`UPDATE recipients SET
        delivery = CASE WHEN @delivery IS NOT NULL AND ${rankOf('@delivery', DELIVERY_RANK)} > ${rankOf('delivery', DELIVERY_RANK)} THEN @delivery ELSE delivery END,
        status = coalesce(@status, status), updated_at = @at
      WHERE doc_id = @docId AND organ_id = @organId`),
    sent: db.prepare('SELECT * FROM documents WHERE sender = ? ORDER BY submitted_at DESC, doc_id LIMIT ?'),
    // Statuses carry the DocumentId they answer: only a document is the one being answered.
    byDocumentId: db.prepare("SELECT doc_id FROM documents WHERE sender = ? AND document_id = ? AND kind = 'edoc' ORDER BY submitted_at DESC LIMIT 1"),
    sentMatching: db.prepare(`SELECT * FROM documents WHERE EXISTS (SELECT 1 FROM json_each(?) WHERE documents.sender LIKE json_each.value)
      ORDER BY submitted_at DESC, doc_id LIMIT ?`),
  };
  const recipientsOf = (docId: string): RecipientState[] => q.recipientsOf.all(docId).map(recipientOf);
  const sentOf = (r: unknown): SentItem => {
    const doc = documentOf(r);
    return { docId: doc.docId, kind: doc.kind, ...(doc.subject ? { subject: doc.subject } : {}), sentAt: doc.submittedAt, recipients: recipientsOf(doc.docId) };
  };
  const recordSubmission = (doc: SubmittedDocument, recipients: readonly string[], hop: HopRecord) => {
    const inserted = q.insertDoc.run({
      ...doc, subject: doc.subject ?? null, documentId: doc.documentId ?? null, code: doc.code ?? null,
    }).changes === 1;
    if (!inserted) return 'existing' as const;
    for (const r of recipients) q.insertRecipient.run(doc.docId, r, 'queued', doc.submittedAt);
    appendHop(doc.docId, hop);
    return 'new' as const;
  };
  const updateRecipients = (docId: string, organIds: readonly string[],
    patch: { delivery?: DeliveryState; status?: string }, trace: readonly HopRecord[]) => {
    const at = now().toISOString();
    for (const organId of organIds) {
      q.setRecipient.run({ delivery: patch.delivery ?? null, status: patch.status ?? null, at, docId, organId });
    }
    for (const hop of trace) appendHop(docId, hop);
  };
  return {
    recordSubmission: (doc, recipients, hop) => write(() => recordSubmission(doc, recipients, hop)),
    withdrawSubmission: (docId) => write(() => { for (const statement of q.withdraw) statement.run(docId); }),
    submission: async (docId) => {
      const row = q.doc.get(docId);
      return row === undefined ? null : { ...documentOf(row), recipients: recipientsOf(docId) };
    },
    sent: async (agency, limit): Promise<SentItem[]> => q.sent.all(agency, limit).map(sentOf),
    // A system account of the SDK dialect (issue 17). SQLite's LIKE ignores ASCII case: codes are upper case anyway.
    sentMatching: async (patterns, limit) => q.sentMatching.all(JSON.stringify(patterns.map(likeOf)), limit).map((r) => ({ ...sentOf(r), sender: documentOf(r).sender })),
    updateRecipients: (docId, organIds, patch, trace = []) => write(() => updateRecipients(docId, organIds, patch, trace)),
    findByDocumentId: async (sender, documentId) => {
      const row = q.byDocumentId.get(sender, documentId);
      return row === undefined ? null : documentIdOf(row);
    },
  };
}

/**
 * The agencies' mailboxes, an idempotent receiver: a package is stored once per recipient (its
 * key is doc id and agency), and the first acknowledgement stands.
 */
function mailboxes({ db, write, now, appendHop }: Store): Pick<Ledger,
  'deliver' | 'received' | 'countReceived' | 'receivedMatching' | 'countReceivedMatching' | 'download' | 'ack' | 'isRecipient'> {
  const q = {
    deliver: db.prepare(`INSERT OR IGNORE INTO mailbox (doc_id, agency, kind, sender, subject, status_code, origin_hub, bytes, received_at, addressed_to, document_id)
      VALUES (@docId, @agency, @kind, @sender, @subject, @statusCode, @originHub, @bytes, @receivedAt, @addressedTo, @documentId)`),
    received: db.prepare(`SELECT doc_id, kind, sender, subject, status_code, received_at, addressed_to FROM mailbox
      WHERE agency = ? AND acked_at IS NULL AND (? IS NULL OR kind = ?) ORDER BY received_at, doc_id LIMIT ?`),
    countReceived: db.prepare('SELECT count(*) AS n FROM mailbox WHERE agency = ? AND acked_at IS NULL AND (? IS NULL OR kind = ?)'),
    // System accounts (issue 17): the agencies whose codes match any of a JSON array of LIKE patterns.
    receivedMatching: db.prepare(`SELECT doc_id, agency, kind, sender, subject, status_code, received_at, addressed_to FROM mailbox
      WHERE EXISTS (SELECT 1 FROM json_each(?) WHERE mailbox.agency LIKE json_each.value) AND acked_at IS NULL AND (? IS NULL OR kind = ?)
      ORDER BY received_at, doc_id, agency LIMIT ?`),
    countReceivedMatching: db.prepare(`SELECT count(DISTINCT doc_id) AS n FROM mailbox
      WHERE EXISTS (SELECT 1 FROM json_each(?) WHERE mailbox.agency LIKE json_each.value) AND acked_at IS NULL AND (? IS NULL OR kind = ?)`),
    bytes: db.prepare('SELECT bytes FROM mailbox WHERE agency = ? AND doc_id = ?'),
    mailboxEntry: db.prepare('SELECT origin_hub, sender, ack_result, addressed_to FROM mailbox WHERE agency = ? AND doc_id = ?'),
    ack: db.prepare('UPDATE mailbox SET acked_at = ?, ack_result = ?, ack_reason = ? WHERE agency = ? AND doc_id = ? AND acked_at IS NULL'),
  };
  const deliver = (d: Delivery, trace: readonly HopRecord[]) => {
    const stored = q.deliver.run({ ...d, subject: d.subject ?? null, statusCode: d.statusCode ?? null, bytes: Buffer.from(d.bytes), addressedTo: d.addressedTo ?? null, documentId: d.documentId ?? null }).changes === 1;
    if (stored) for (const hop of trace) appendHop(d.docId, hop);
    return stored ? 'stored' as const : 'duplicate' as const;
  };
  return {
    deliver: (d, trace) => write(() => deliver(d, trace)),
    received: async (agency, kind, limit) => q.received.all(agency, kind ?? null, kind ?? null, limit).map(receivedOf),
    countReceived: async (agency, kind) => countOf(q.countReceived.get(agency, kind ?? null, kind ?? null)),
    // SQLite's LIKE ignores ASCII case: codes are upper case anyway.
    receivedMatching: async (patterns, kind, limit) => q.receivedMatching.all(JSON.stringify(patterns.map(likeOf)), kind ?? null, kind ?? null, limit)
      .map(receivedInOf),
    countReceivedMatching: async (patterns, kind) => countOf(q.countReceivedMatching.get(JSON.stringify(patterns.map(likeOf)), kind ?? null, kind ?? null)),
    download: async (agency, docId) => {
      const row = q.bytes.get(agency, docId);
      return row === undefined ? null : packageOf(row);
    },
    ack: (agency, docId, result: AckResult, reason) => write((): AckOutcome | null => {
      // The conditional UPDATE alone decides who is first (only a row not yet acknowledged
      // changes), so two processes on one database cannot both record an acknowledgement.
      const recorded = q.ack.run(now().toISOString(), result, reason ?? null, agency, docId).changes === 1;
      const row = q.mailboxEntry.get(agency, docId);
      return row === undefined ? null : ackOutcomeOf(row, recorded, result);
    }),
    isRecipient: async (agency, docId) => q.mailboxEntry.get(agency, docId) !== undefined,
  };
}

/** Each document's trace: the hops that checked it, here and (as they report back) further on. */
function hopTrace({ db, write, appendHop }: Store): Pick<Ledger, 'appendTrace' | 'trace'> {
  const trace = db.prepare('SELECT hub, at, verdict, checks, ms FROM trace WHERE doc_id = ? ORDER BY at, rowid');
  return {
    appendTrace: (docId, hops) => write(() => { for (const h of hops) appendHop(docId, h); }),
    trace: async (docId) => trace.all(docId).map(traceOf),
  };
}

/** Every document this hub handled, found by its trace, with what the hub knows of it. */
function documentSearch({ db }: Store): Pick<Ledger, 'searchDocuments' | 'mailboxEntries'> {
  return {
    searchDocuments: async (f) => {
      const where: string[] = [];
      const args: Record<string, string | number> = {};
      if (f.organ !== undefined) {
        where.push(`(d.sender = @organ OR m.sender = @organ OR EXISTS (SELECT 1 FROM mailbox x WHERE x.doc_id = t.doc_id AND x.agency = @organ)
          OR EXISTS (SELECT 1 FROM recipients r WHERE r.doc_id = t.doc_id AND r.organ_id = @organ))`);
        args.organ = f.organ;
      }
      if (f.since !== undefined) { where.push('t.first_seen >= @since'); args.since = f.since; }
      if (f.until !== undefined) { where.push('t.first_seen < @until'); args.until = f.until; }
      if (f.status !== undefined) {
        where.push('(EXISTS (SELECT 1 FROM recipients r WHERE r.doc_id = t.doc_id AND r.status = @status) OR m.status_code = @status)');
        args.status = f.status;
      }
      if (f.delivery !== undefined) { where.push('EXISTS (SELECT 1 FROM recipients r WHERE r.doc_id = t.doc_id AND r.delivery = @delivery)'); args.delivery = f.delivery; }
      const from = `FROM (SELECT doc_id, min(at) AS first_seen, max(verdict = 'rejected') AS rejected FROM trace GROUP BY doc_id) t
        LEFT JOIN documents d ON d.doc_id = t.doc_id
        LEFT JOIN (SELECT doc_id, min(sender) AS sender, min(subject) AS subject, min(kind) AS kind, min(status_code) AS status_code FROM mailbox GROUP BY doc_id) m ON m.doc_id = t.doc_id
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}`;
      const total = countOf(db.prepare(`SELECT count(*) AS n ${from}`).get(args));
      const rows = db.prepare(`SELECT t.doc_id, t.first_seen, t.rejected, d.doc_id AS origin, m.doc_id AS delivered,
          coalesce(d.kind, m.kind) AS kind, coalesce(d.sender, m.sender) AS sender, coalesce(d.subject, m.subject) AS subject
        ${from} ORDER BY t.first_seen DESC LIMIT @limit OFFSET @offset`).all({ ...args, limit: f.limit, offset: f.offset });
      return { total, items: rows.map(summaryOf) };
    },
    mailboxEntries: async (docId) => db.prepare('SELECT agency, received_at, acked_at, ack_result FROM mailbox WHERE doc_id = ? ORDER BY agency').all(docId).map(mailboxEntryOf),
  };
}

/** The trust store: agencies' certificates, the CRLs, the trusted CAs and the neighbour hubs' seal certificates. */
function trustStore({ db, write }: Store): Pick<Ledger,
  'certificates' | 'addCertificate' | 'updateCertificate' | 'crls' | 'putCrl' | 'trustedCas' | 'addTrustedCa' | 'removeTrustedCa' | 'hubCertificates' | 'addHubCertificate'
  | 'claimTrustVersions'> {
  const q = {
    certs: db.prepare('SELECT * FROM certs ORDER BY agency, not_before'),
    addCert: db.prepare(`INSERT OR IGNORE INTO certs (fingerprint, agency, pem, subject, not_before, not_after, state, retire_at, revoked_at, reason, added_at, added_by)
      VALUES (@fingerprint, @agency, @pem, @subject, @notBefore, @notAfter, @state, @retireAt, @revokedAt, @reason, @addedAt, @addedBy)`),
    // A certificate's state only moves forward (active → retired → revoked); a revocation keeps
    // its first time and reason.
    setCert: db.prepare(`UPDATE certs SET
        state = CASE WHEN @state IS NOT NULL AND ${rankOf('@state', CERT_RANK)} > ${rankOf('state', CERT_RANK)} THEN @state ELSE state END,
        retire_at = coalesce(@retireAt, retire_at),
        revoked_at = CASE WHEN state = 'revoked' THEN revoked_at ELSE coalesce(@revokedAt, revoked_at) END,
        reason = CASE WHEN state = 'revoked' THEN reason ELSE coalesce(@reason, reason) END
      WHERE fingerprint = @fingerprint`),
    crls: db.prepare('SELECT * FROM crls'),
    // The newest CRL of each CA wins, whichever process imports it first.
    putCrl: db.prepare(`INSERT INTO crls (issuer_fingerprint, der, this_update, imported_at, imported_by)
      VALUES (@issuerFingerprint, @der, @thisUpdate, @importedAt, @importedBy)
      ON CONFLICT (issuer_fingerprint) DO UPDATE SET der = excluded.der, this_update = excluded.this_update,
        imported_at = excluded.imported_at, imported_by = excluded.imported_by
      WHERE excluded.this_update > crls.this_update`),
    cas: db.prepare('SELECT fingerprint, pem, added_at, added_by FROM cas ORDER BY added_at'),
    addCa: db.prepare('INSERT OR IGNORE INTO cas (fingerprint, pem, added_at, added_by) VALUES (?, ?, ?, ?)'),
    removeCa: db.prepare('DELETE FROM cas WHERE fingerprint = ?'),
    hubCerts: db.prepare('SELECT hub_id, fingerprint, pem, added_at FROM hub_certs ORDER BY hub_id, added_at'),
    addHubCert: db.prepare('INSERT OR IGNORE INTO hub_certs (hub_id, fingerprint, pem, added_at) VALUES (?, ?, ?, ?)'),
    // Compare and set in one statement: a row changes (or is made) only for a version not older than the one held.
    claimVersion: db.prepare(`INSERT INTO trust_versions (subject, at, digest) VALUES (?, ?, ?)
      ON CONFLICT (subject) DO UPDATE SET at = excluded.at, digest = excluded.digest
      WHERE (excluded.at, excluded.digest) >= (trust_versions.at, trust_versions.digest)`),
  };
  return {
    certificates: async () => q.certs.all().map(certOf),
    addCertificate: (record) => write(() => q.addCert.run({
      ...record, retireAt: record.retireAt ?? null, revokedAt: record.revokedAt ?? null, reason: record.reason ?? null,
    }).changes === 1),
    updateCertificate: (fingerprint, patch) => write(() => q.setCert.run({
      fingerprint, state: patch.state ?? null, retireAt: patch.retireAt ?? null, revokedAt: patch.revokedAt ?? null, reason: patch.reason ?? null,
    }).changes === 1),
    crls: async () => q.crls.all().map(crlOf),
    putCrl: (record: CrlRecord) => write(() => q.putCrl.run(record).changes === 1),
    trustedCas: async () => q.cas.all().map(caOf),
    addTrustedCa: (fingerprint, pem, at, by) => write(() => q.addCa.run(fingerprint, pem, at, by).changes === 1),
    removeTrustedCa: (fingerprint) => write(() => q.removeCa.run(fingerprint).changes === 1),
    hubCertificates: async () => q.hubCerts.all().map(hubCertOf),
    addHubCertificate: (hubId, fingerprint, pem, at) => write(() => q.addHubCert.run(hubId, fingerprint, pem, at).changes === 1),
    claimTrustVersions: (subjects, at, digest) => write(() => [...new Set(subjects)].filter((s) => q.claimVersion.run(s, at, digest).changes === 1)),
  };
}

/** This hub's own seal key: the one in use, and (issue 18) a rotated key staged until the neighbours confirm it. */
function sealKeyStore({ db, write }: Store): Pick<Ledger,
  'activeSealKey' | 'activateSealKey' | 'stageSealKey' | 'confirmSealKey' | 'sealKeyConfirmations' | 'activateStagedSealKey' | 'currentSealKey'> {
  const q = {
    sealKey: db.prepare('SELECT key_file, cert_pem FROM seal_keys ORDER BY id DESC LIMIT 1'),
    addSealKey: db.prepare('INSERT INTO seal_keys (key_file, cert_pem, activated_at) VALUES (?, ?, ?)'),
    // Seal keys shared by a hub's replicas (issue 18).
    stageSealKey: db.prepare('INSERT OR IGNORE INTO staged_seal_keys (fingerprint, key_pem, cert_pem, staged_at) VALUES (?, ?, ?, ?)'),
    confirmSealKey: db.prepare('INSERT OR IGNORE INTO seal_confirmations (fingerprint, by_hub, at) VALUES (?, ?, ?)'),
    sealKeyConfirmations: db.prepare('SELECT by_hub FROM seal_confirmations WHERE fingerprint = ? ORDER BY by_hub'),
    activateStaged: db.prepare('UPDATE staged_seal_keys SET activated_at = ? WHERE fingerprint = ?'),
    currentSealKey: db.prepare('SELECT fingerprint, key_pem, cert_pem, activated_at FROM staged_seal_keys WHERE activated_at IS NOT NULL ORDER BY activated_at DESC, rowid DESC LIMIT 1'),
  };
  return {
    activeSealKey: async () => {
      const row = q.sealKey.get();
      return row === undefined ? null : sealKeyOf(row);
    },
    activateSealKey: (keyFile, certPem, at) => write(() => { q.addSealKey.run(keyFile, certPem, at); }),
    stageSealKey: (fingerprint, keyPem, certPem, at) => write(() => { q.stageSealKey.run(fingerprint, keyPem, certPem, at); }),
    confirmSealKey: (fingerprint, by, at) => write(() => q.confirmSealKey.run(fingerprint, by, at).changes === 1),
    sealKeyConfirmations: async (fingerprint) => q.sealKeyConfirmations.all(fingerprint).map(confirmationOf),
    activateStagedSealKey: (fingerprint, at) => write(() => q.activateStaged.run(at, fingerprint).changes === 1),
    currentSealKey: async () => {
      const row = q.currentSealKey.get();
      return row === undefined ? null : sealKeyPemOf(row);
    },
  };
}

/** The dead-letter channel's store: each dead letter once (by its message key), browsable, replayed or deleted. */
function deadLetterStore({ db, write }: Store): Pick<Ledger, 'addDeadLetter' | 'deadLetters' | 'deadLetter' | 'markDeadLetter'> {
  const q = {
    addDead: db.prepare(`INSERT OR IGNORE INTO dead_letters (message_key, doc_id, kind, sender, reason_code, reason, dead_at, headers, body)
      VALUES (@messageKey, @docId, @kind, @sender, @reasonCode, @reason, @deadAt, @headers, @body)`),
    dead: db.prepare('SELECT *, length(body) AS size FROM dead_letters WHERE id = ? AND deleted_at IS NULL'),
    markReplayed: db.prepare('UPDATE dead_letters SET replayed_at = ? WHERE id = ? AND deleted_at IS NULL'),
    markDeleted: db.prepare('UPDATE dead_letters SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
  };
  return {
    addDeadLetter: (d) => write(() => q.addDead.run({ ...d, headers: JSON.stringify(d.headers) }).changes === 1 ? 'stored' as const : 'duplicate' as const),
    deadLetters: async (f) => {
      const where = ['deleted_at IS NULL'];
      const args: Record<string, string | number> = {};
      if (f.reason !== undefined) { where.push('reason_code = @reason'); args.reason = f.reason; }
      if (f.agency !== undefined) { where.push('sender = @agency'); args.agency = f.agency; }
      if (f.docId !== undefined) { where.push('doc_id = @docId'); args.docId = f.docId; }
      if (f.since !== undefined) { where.push('dead_at >= @since'); args.since = f.since; }
      if (f.until !== undefined) { where.push('dead_at < @until'); args.until = f.until; }
      const clause = where.join(' AND ');
      const total = countOf(db.prepare(`SELECT count(*) AS n FROM dead_letters WHERE ${clause}`).get(args));
      const rows = db.prepare(`SELECT *, length(body) AS size FROM dead_letters WHERE ${clause} ORDER BY dead_at DESC, id DESC LIMIT @limit OFFSET @offset`)
        .all({ ...args, limit: f.limit, offset: f.offset });
      return { items: rows.map(deadLetterOf), total };
    },
    deadLetter: async (id) => {
      const row = q.dead.get(id);
      if (row === undefined) return null;
      return { ...deadLetterOf(row), body: bytesOf(row, 'body') };
    },
    markDeadLetter: (id, change, at) => write(() => (change === 'replayed' ? q.markReplayed : q.markDeleted).run(at, id).changes === 1),
  };
}

/** The audit trail: who did what, newest first. */
function auditTrail({ db, write, now }: Store): Pick<Ledger, 'audit' | 'auditLog'> {
  const q = {
    audit: db.prepare('INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)'),
    auditLog: db.prepare('SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?'),
  };
  return {
    audit: (actor, action, detail) => write(() => { q.audit.run(now().toISOString(), actor, action, JSON.stringify(detail)); }),
    auditLog: async (limit) => q.auditLog.all(limit).map(auditOf),
  };
}

/**
 * Where agencies are: those registered at run time, the national directory's last good copy
 * (issue 17), and the directory after a restructuring with the documents still to carry on (issue 19).
 */
function agencyDirectory({ db, write }: Store): Pick<Ledger,
  'agencies' | 'addAgency' | 'nationalDirectory' | 'saveNationalDirectory' | 'directoryEntries' | 'putDirectoryEntries' | 'hubRetirements' | 'retireHub'
  | 'waitingAgencies' | 'waitingDocuments' | 'markMoved'> {
  const q = {
    agencies: db.prepare('SELECT code, name, parent, hub_id, api_key_hash FROM agencies ORDER BY code'),
    addAgency: db.prepare('INSERT OR IGNORE INTO agencies (code, name, parent, hub_id, api_key_hash, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?)'),
  };
  return {
    agencies: async () => q.agencies.all().map(agencyOf),
    addAgency: (a, at, by) => write(() => q.addAgency.run(a.code, a.name, a.parent, a.hubId, a.apiKeyHash, at, by).changes === 1),
    // The national directory (issue 17).
    nationalDirectory: async () => {
      const row = db.prepare('SELECT entries, fetched_at FROM national_directory WHERE id = 1').get();
      return row === undefined ? null : nationalDirectoryOf(row);
    },
    saveNationalDirectory: (entries, fetchedAt) => write(() => db.prepare(`INSERT INTO national_directory (id, entries, fetched_at) VALUES (1, ?, ?)
      ON CONFLICT (id) DO UPDATE SET entries = excluded.entries, fetched_at = excluded.fetched_at WHERE excluded.fetched_at >= national_directory.fetched_at`)
      .run(JSON.stringify(entries), fetchedAt).changes === 1),
    // The agency directory after a restructuring (issue 19).
    directoryEntries: async () => db.prepare('SELECT code, successor, successor_from, hub_id FROM directory ORDER BY code').all().map(directoryEntryOf),
    putDirectoryEntries: (entries) => write(() => {
      const put = db.prepare(`INSERT INTO directory (code, successor, successor_from, hub_id) VALUES (@code, @successor, @from, @hubId)
        ON CONFLICT (code) DO UPDATE SET successor = coalesce(excluded.successor, successor),
          successor_from = CASE WHEN excluded.successor IS NULL THEN successor_from ELSE excluded.successor_from END, hub_id = coalesce(excluded.hub_id, hub_id)`);
      for (const e of entries) put.run(e);
    }),
    hubRetirements: async () => db.prepare('SELECT hub_id, "into" FROM hub_retirements ORDER BY at, hub_id').all().map(retirementOf),
    retireHub: (hubId, into, at) => write(() => db.prepare('INSERT OR IGNORE INTO hub_retirements (hub_id, "into", at) VALUES (?, ?, ?)').run(hubId, into, at).changes === 1),
    waitingAgencies: async () => db.prepare('SELECT DISTINCT agency FROM mailbox WHERE acked_at IS NULL AND moved_to IS NULL ORDER BY agency').all().map(agencyCodeOf),
    waitingDocuments: async (agency) => db.prepare(`SELECT doc_id, kind, sender, subject, status_code, origin_hub, addressed_to, document_id, bytes FROM mailbox
      WHERE agency = ? AND acked_at IS NULL AND moved_to IS NULL ORDER BY received_at, doc_id`).all(agency).map(waitingOf),
    markMoved: (agency, docId, to) => write(() => { db.prepare('UPDATE mailbox SET moved_to = ? WHERE agency = ? AND doc_id = ?').run(to, agency, docId); }),
  };
}

/** Readiness, and closing: the writes waiting are committed before the file closes. */
function lifecycle(db: Database.Database, drain: () => void): Pick<Ledger, 'reachable' | 'close'> {
  return {
    reachable: async () => {
      try {
        return db.prepare('SELECT 1 AS one').get() !== undefined;
      } catch (err) {
        if (err instanceof Database.SqliteError || !db.open) return false;
        throw err;
      }
    },
    close: async () => {
      drain();
      db.close();
    },
  };
}
