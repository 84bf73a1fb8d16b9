// The shared ledger: PostgreSQL (driver `pg`, one pool per hub process), for replicas of a hub
// that share one ledger. Each hub keeps its tables in a schema of its own (lgsp_<hub id>), so one
// database can hold a whole network. The schema is created or migrated on start under an advisory
// lock, so replicas starting together migrate once. State moves are single statements that
// compare and set in the database (the ledger contract): replicas never move a state backwards.
import pg from 'pg';
import { z } from 'zod';
import { fail, ok, type Result } from '../errors.js';
import { redactUrl } from '../config.js';
import type { HopRecord } from '../hop/trace.js';
import { LedgerUnavailable, type AckOutcome, type AckResult, type Delivery, type DeliveryState, type Ledger, type RecipientState, type SentItem, type SubmittedDocument } from './store.js';
import { coalesce, type BatchWrite, type CoalesceOptions } from './coalesce.js';
import {
  CERT_RANK, DELIVERY_RANK, ackOutcomeOf, agencyCodeOf, agencyOf, auditOf, bytesOf, caOf, certOf, countOf, crlOf, deadLetterOf, directoryEntryOf,
  documentIdOf, documentOf, hubCertOf, likeOf, mailboxEntryOf, nationalDirectoryOf, packageOf, rankOf, receivedInOf, receivedOf, recipientOf, retirementOf,
  sealKeyOf, subjectOf, summaryOf, traceOf, waitingOf, confirmationOf, sealKeyPemOf,
} from './rows.js';
import { STATS_ADDED_COLUMNS, STATS_SCHEMA, exchangeStats, type SqlPort } from './exchange-stats.js';
import { retention } from './retention.js';
import { ALERT_MEMORY_SCHEMA, REPLICA_STATE_SCHEMA, replicaState } from './replica-state.js';

/** Each migration once, in order; the list only ever grows. */
const MIGRATIONS: readonly string[] = [`
CREATE TABLE documents (
  doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, sender TEXT NOT NULL, subject TEXT,
  document_id TEXT, code TEXT, digest TEXT NOT NULL, submitted_at TEXT NOT NULL);
CREATE INDEX documents_sender ON documents (sender, submitted_at);
CREATE INDEX documents_business ON documents (sender, document_id);
CREATE TABLE recipients (
  doc_id TEXT NOT NULL, organ_id TEXT NOT NULL, delivery TEXT NOT NULL, status TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (doc_id, organ_id));
CREATE TABLE mailbox (
  doc_id TEXT NOT NULL, agency TEXT NOT NULL, kind TEXT NOT NULL, sender TEXT NOT NULL, subject TEXT,
  status_code TEXT, origin_hub TEXT NOT NULL, bytes BYTEA NOT NULL, received_at TEXT NOT NULL,
  acked_at TEXT, ack_result TEXT, ack_reason TEXT,
  PRIMARY KEY (doc_id, agency));
CREATE INDEX mailbox_pending ON mailbox (agency, acked_at, received_at);
CREATE TABLE trace (
  id BIGINT GENERATED ALWAYS AS IDENTITY, doc_id TEXT NOT NULL, hub TEXT NOT NULL, at TEXT NOT NULL, verdict TEXT NOT NULL,
  checks TEXT NOT NULL, ms DOUBLE PRECISION, PRIMARY KEY (doc_id, hub, verdict));
CREATE TABLE certs (
  fingerprint TEXT PRIMARY KEY, agency TEXT NOT NULL, pem TEXT NOT NULL, subject TEXT NOT NULL,
  not_before TEXT NOT NULL, not_after TEXT NOT NULL, state TEXT NOT NULL, retire_at TEXT, revoked_at TEXT, reason TEXT,
  added_at TEXT NOT NULL, added_by TEXT NOT NULL);
CREATE TABLE crls (
  issuer_fingerprint TEXT PRIMARY KEY, der BYTEA NOT NULL, this_update TEXT NOT NULL, imported_at TEXT NOT NULL, imported_by TEXT NOT NULL);
CREATE TABLE dead_letters (
  id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY, message_key TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL, kind TEXT NOT NULL,
  sender TEXT NOT NULL, reason_code TEXT NOT NULL, reason TEXT NOT NULL, dead_at TEXT NOT NULL, headers TEXT NOT NULL, body BYTEA NOT NULL,
  replayed_at TEXT, deleted_at TEXT);
CREATE INDEX dead_letters_at ON dead_letters (dead_at);
CREATE TABLE agencies (
  code TEXT PRIMARY KEY, name TEXT NOT NULL, parent TEXT, hub_id TEXT NOT NULL, api_key_hash TEXT NOT NULL, added_at TEXT NOT NULL, added_by TEXT NOT NULL);
CREATE TABLE cas (fingerprint TEXT PRIMARY KEY, pem TEXT NOT NULL, added_at TEXT NOT NULL, added_by TEXT NOT NULL);
CREATE TABLE hub_certs (
  hub_id TEXT NOT NULL, fingerprint TEXT NOT NULL, pem TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (hub_id, fingerprint));
CREATE TABLE seal_keys (
  id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key_file TEXT NOT NULL, cert_pem TEXT NOT NULL, activated_at TEXT NOT NULL);
CREATE TABLE audit (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
`,
// Seal keys shared by a hub's replicas (issue 18).
`CREATE TABLE staged_seal_keys (
  fingerprint TEXT PRIMARY KEY, key_pem TEXT NOT NULL, cert_pem TEXT NOT NULL, staged_at TEXT NOT NULL, activated_at TEXT);
CREATE TABLE seal_confirmations (
  fingerprint TEXT NOT NULL, by_hub TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (fingerprint, by_hub));
`,
// The national directory (issue 17).
`CREATE TABLE national_directory (id INTEGER PRIMARY KEY CHECK (id = 1), entries TEXT NOT NULL, fetched_at TEXT NOT NULL);
`,
// Exchange statistics (issue 20).
STATS_SCHEMA, `
-- The agency directory after a restructuring (issue 19).
ALTER TABLE mailbox ADD COLUMN addressed_to TEXT, ADD COLUMN moved_to TEXT, ADD COLUMN document_id TEXT;
CREATE TABLE directory (code TEXT PRIMARY KEY, successor TEXT, successor_from TEXT, hub_id TEXT);
CREATE TABLE hub_retirements (hub_id TEXT PRIMARY KEY, "into" TEXT NOT NULL, at TEXT NOT NULL);
`,
// The exchange statistics split with the national axis (issues 17 and 20).
STATS_ADDED_COLUMNS.map(([table, column, type]) => `ALTER TABLE ${table} ADD COLUMN ${column} ${type};`).join('\n'),
// Console sessions, the console's key and lane pauses shared by a hub's replicas (issue 18).
REPLICA_STATE_SCHEMA,
// What the hub's alerts last said (issue 18).
ALERT_MEMORY_SCHEMA,
// The newest trust change applied per subject (issue 14 item 5); "C" so that text orders as in SQLite and JavaScript.
`CREATE TABLE trust_versions (subject TEXT PRIMARY KEY, at TEXT COLLATE "C" NOT NULL, digest TEXT COLLATE "C" NOT NULL);
`];

/** The schema that holds one hub's ledger. */
export function ledgerSchemaOf(hubId: string): string {
  return `lgsp_${hubId.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
}

/**
 * `onIdleError` hears of a pooled connection that broke while idle (the server restarted): the
 * pool drops it and the next query connects anew, so it is worth a warning, not a crash. Each
 * part below answers one concern of the Ledger port; the statistics, retention and replicas'
 * state run the SQL they share with SQLite over `sql`.
 */
export async function openPostgresLedger(url: string, hubId: string, now: () => Date, onIdleError: (err: Error) => void): Promise<Result<Ledger>> {
  const schema = ledgerSchemaOf(hubId);
  // A server that does not answer fails a call within seconds instead of holding it forever.
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 8, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  pool.on('error', onIdleError);
  try {
    await migrate(pool, schema);
  } catch (err) {
    await pool.end();
    if (!(err instanceof Error)) throw err;
    return fail('UNAVAILABLE', `the ledger at ${redactUrl(url)} cannot be opened: ${err.message}`);
  }
  const store = access(pool, now);
  const sql = sqlPort(store);
  return ok(outageCoded({
    ...messageStore(store), ...mailboxes(store), ...hopTrace(store), ...documentSearch(store),
    ...trustStore(store), ...sealKeyStore(store), ...deadLetterStore(store), ...auditTrail(store), ...agencyDirectory(store),
    ...lifecycle(store),
    // ---- Exchange statistics, retention (issue 20); console sessions, the console's key, lane pauses and alerts (issue 18) ----
    ...exchangeStats(sql, now), ...retention(sql), ...replicaState(sql),
  }));
}

/** What each part of the ledger works with: the pool, ways to query it, and the clock. */
type Store = ReturnType<typeof access>;

function access(pool: pg.Pool, now: () => Date) {
  const query = (sql: Statement, args: unknown[], client: pg.Pool | pg.PoolClient = pool) =>
    client.query(typeof sql === 'string' ? { text: sql, values: args } : { ...sql, values: args });
  const rows = async (sql: Statement, args: unknown[] = [], client: pg.Pool | pg.PoolClient = pool) => (await query(sql, args, client)).rows as unknown[];
  const one = async (sql: Statement, args: unknown[] = []) => (await rows(sql, args))[0];
  const changed = async (sql: Statement, args: unknown[] = [], client: pg.Pool | pg.PoolClient = pool) => ((await query(sql, args, client)).rowCount ?? 0) > 0;
  const tx = <T>(run: (c: pg.PoolClient) => Promise<T>): Promise<T> => transaction(pool, run);
  return { pool, now, query, rows, one, changed, tx };
}

/** The port the statistics and retention share with the SQLite ledger (same SQL, `?` numbered here). */
function sqlPort({ pool, rows, tx }: Store): SqlPort {
  return {
    all: (text, args) => rows(numbered(text), [...args]),
    run: async (text, args) => (await pool.query(numbered(text), [...args])).rowCount ?? 0,
    batch: (steps) => tx(async (c) => { for (const s of steps) await c.query(numbered(s.sql), [...s.args]); }),
    joinText: (expr) => `string_agg(${expr}, ',')`,
    byteLength: (expr) => `octet_length(${expr})`,
  };
}

// A write is one statement where it can be (data-modifying CTEs, arrays unnested): atomic on
// its own, one round trip, and no BEGIN/COMMIT around it. The hot path's writes are such, and
// coalesced (coalesce.ts): the calls made while one is being written go together in the next.
function batched<I, R>(write: BatchWrite<I, R>, maxBytes?: CoalesceOptions<I>['maxBytes']) {
  return coalesce(write, { max: BATCH_MAX, whole: isOutage, ...(maxBytes ? { maxBytes } : {}) });
}

/** WHERE clauses from the filters given, each `?` in a filter standing for its one value. */
function filters(parts: [string, unknown][]) {
  const args: unknown[] = [];
  const where = parts.map(([sql, value]) => {
    args.push(value);
    return sql.replaceAll('?', `$${args.length}`);
  });
  return { where, args };
}

/** The message store's sending side: documents accepted here and their recipients' progress. */
function messageStore(store: Store): Pick<Ledger,
  'recordSubmission' | 'withdrawSubmission' | 'submission' | 'sent' | 'sentMatching' | 'updateRecipients' | 'findByDocumentId'> {
  const { rows, one, tx } = store;
  const recordSubmissions = submissionWriter(store);
  const updateRecipients = recipientUpdater(store);
  const recipientsOf = async (docId: string): Promise<RecipientState[]> =>
    (await rows('SELECT organ_id, delivery, status FROM recipients WHERE doc_id = $1 ORDER BY organ_id', [docId])).map(recipientOf);
  const sentOf = async (r: unknown): Promise<SentItem> => {
    const doc = documentOf(r);
    return { docId: doc.docId, kind: doc.kind, ...(doc.subject ? { subject: doc.subject } : {}), sentAt: doc.submittedAt, recipients: await recipientsOf(doc.docId) };
  };
  return {
    recordSubmission: (doc, recipients, hop) => recordSubmissions({ doc, recipients, hop }),
    withdrawSubmission: (docId) => tx(async (c) => {
      for (const table of ['recipients', 'trace', 'documents']) await c.query(`DELETE FROM ${table} WHERE doc_id = $1`, [docId]);
    }),
    submission: async (docId) => {
      const row = await one('SELECT * FROM documents WHERE doc_id = $1', [docId]);
      return row === undefined ? null : { ...documentOf(row), recipients: await recipientsOf(docId) };
    },
    sent: async (agency, limit) => Promise.all((await rows('SELECT * FROM documents WHERE sender = $1 ORDER BY submitted_at DESC, doc_id LIMIT $2', [agency, limit])).map(sentOf)),
    // A system account of the SDK dialect (issue 17): the agencies whose codes match any of the LIKE patterns.
    sentMatching: async (patterns, limit) =>
      Promise.all((await rows('SELECT * FROM documents WHERE sender LIKE ANY($1::text[]) ORDER BY submitted_at DESC, doc_id LIMIT $2', [patterns.map(likeOf), limit]))
        .map(async (r) => ({ ...await sentOf(r), sender: documentOf(r).sender }))),
    updateRecipients: (docId, organIds, patch, trace = []) => updateRecipients({ docId, organIds, patch, trace }),
    findByDocumentId: async (sender, documentId) => {
      const row = await one("SELECT doc_id FROM documents WHERE sender = $1 AND document_id = $2 AND kind = 'edoc' ORDER BY submitted_at DESC LIMIT 1", [sender, documentId]);
      return row === undefined ? null : documentIdOf(row);
    },
  };
}

// The recipients and the first hop are written only with a new document row; a document twice
// in one batch is new at most once.
function submissionWriter({ rows }: Store) {
  return batched<{ doc: SubmittedDocument; recipients: readonly string[]; hop: HopRecord }, 'new' | 'existing'>(async (items) => {
    const unique = firstOf(items, (i) => i.doc.docId);
    const docs = unique.map((i) => i.doc);
    const created = new Set((await rows(prepared('record_submission', `WITH doc AS (
        INSERT INTO documents (doc_id, kind, sender, subject, document_id, code, digest, submitted_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
        ON CONFLICT DO NOTHING RETURNING doc_id, submitted_at),
      rec AS (INSERT INTO recipients (doc_id, organ_id, delivery, updated_at)
        SELECT doc.doc_id, r.organ_id, 'queued', doc.submitted_at FROM doc JOIN unnest($9::text[], $10::text[]) AS r (doc_id, organ_id) USING (doc_id)
        ON CONFLICT DO NOTHING),
      tr AS (INSERT INTO trace (doc_id, hub, at, verdict, checks, ms)
        SELECT doc.doc_id, t.hub, t.at, t.verdict, t.checks, t.ms FROM doc JOIN ${traceRows(11, ['doc_id'])} USING (doc_id) ON CONFLICT DO NOTHING)
      SELECT doc_id FROM doc`), [
      docs.map((d) => d.docId), docs.map((d) => d.kind), docs.map((d) => d.sender), docs.map((d) => d.subject ?? null), docs.map((d) => d.documentId ?? null),
      docs.map((d) => d.code ?? null), docs.map((d) => d.digest), docs.map((d) => d.submittedAt),
      unique.flatMap((i) => i.recipients.map(() => i.doc.docId)), unique.flatMap((i) => i.recipients),
      ...traceArgs(unique.map((i) => ({ doc_id: i.doc.docId, hops: [i.hop] })), ['doc_id']),
    ])).map(documentIdOf));
    return items.map((i) => (unique.includes(i) && created.has(i.doc.docId) ? 'new' : 'existing'));
  });
}

// Delivery only moves forward; a status given replaces the one held. The calls of a batch are
// folded first into one change per recipient, as applying them in order would leave it.
function recipientUpdater({ query, now }: Store) {
  return batched<{ docId: string; organIds: readonly string[]; patch: { delivery?: DeliveryState; status?: string }; trace: readonly HopRecord[] }, void>(
    async (items) => {
      const changes = new Map<string, { docId: string; organId: string; delivery: DeliveryState | null; status: string | null }>();
      for (const { docId, organIds, patch } of items) {
        for (const organId of organIds) {
          const held = changes.get(JSON.stringify([docId, organId]));
          const delivery = [held?.delivery ?? null, patch.delivery ?? null]
            .reduce((a, b) => (a === null || (b !== null && DELIVERY_RANK[b] > DELIVERY_RANK[a]) ? b : a));
          changes.set(JSON.stringify([docId, organId]), { docId, organId, delivery, status: patch.status ?? held?.status ?? null });
        }
      }
      const c = [...changes.values()];
      await query(prepared('update_recipients', `WITH moved AS (UPDATE recipients r SET
            delivery = CASE WHEN s.delivery IS NOT NULL AND ${rankOf('s.delivery', DELIVERY_RANK)} > ${rankOf('r.delivery', DELIVERY_RANK)} THEN s.delivery ELSE r.delivery END,
            status = coalesce(s.status, r.status), updated_at = $5
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS s (doc_id, organ_id, delivery, status)
          WHERE r.doc_id = s.doc_id AND r.organ_id = s.organ_id)
        INSERT INTO trace (doc_id, hub, at, verdict, checks, ms) SELECT t.doc_id, t.hub, t.at, t.verdict, t.checks, t.ms FROM ${traceRows(6, ['doc_id'])}
        ON CONFLICT DO NOTHING`),
      [c.map((x) => x.docId), c.map((x) => x.organId), c.map((x) => x.delivery), c.map((x) => x.status), now().toISOString(),
        ...traceArgs(items.map((i) => ({ doc_id: i.docId, hops: i.trace })), ['doc_id'])]);
      return [];
    });
}

/**
 * The agencies' mailboxes, an idempotent receiver: a package is stored once per recipient (its
 * key is doc id and agency), and the first acknowledgement stands.
 */
function mailboxes(store: Store): Pick<Ledger,
  'deliver' | 'received' | 'countReceived' | 'receivedMatching' | 'countReceivedMatching' | 'download' | 'ack' | 'isRecipient'> {
  const { rows, one } = store;
  const deliveries = deliveryWriter(store);
  const acks = ackWriter(store);
  return {
    deliver: (d, trace) => deliveries({ d, trace }),
    received: async (agency, kind, limit) => (await rows(prepared('received', `SELECT doc_id, kind, sender, subject, status_code, received_at, addressed_to FROM mailbox
        WHERE agency = $1 AND acked_at IS NULL AND ($2::text IS NULL OR kind = $2) ORDER BY received_at, doc_id LIMIT $3`), [agency, kind ?? null, limit])).map(receivedOf),
    countReceived: async (agency, kind) => countOf(await one(prepared('count_received',
      'SELECT count(*) AS n FROM mailbox WHERE agency = $1 AND acked_at IS NULL AND ($2::text IS NULL OR kind = $2)'), [agency, kind ?? null])),
    // System accounts of the SDK dialect (issue 17): the agencies whose codes match any of the LIKE patterns.
    receivedMatching: async (patterns, kind, limit) => (await rows(`SELECT doc_id, agency, kind, sender, subject, status_code, received_at, addressed_to FROM mailbox
        WHERE agency LIKE ANY($1::text[]) AND acked_at IS NULL AND ($2::text IS NULL OR kind = $2) ORDER BY received_at, doc_id, agency LIMIT $3`,
    [patterns.map(likeOf), kind ?? null, limit])).map(receivedInOf),
    countReceivedMatching: async (patterns, kind) => countOf(await one(`SELECT count(DISTINCT doc_id) AS n FROM mailbox
        WHERE agency LIKE ANY($1::text[]) AND acked_at IS NULL AND ($2::text IS NULL OR kind = $2)`, [patterns.map(likeOf), kind ?? null])),
    download: async (agency, docId) => {
      const row = await one(prepared('download', 'SELECT bytes FROM mailbox WHERE agency = $1 AND doc_id = $2'), [agency, docId]);
      return row === undefined ? null : packageOf(row);
    },
    ack: (agency, docId, result, reason) => acks({ agency, docId, result, reason: reason ?? null }),
    isRecipient: async (agency, docId) => (await one('SELECT 1 FROM mailbox WHERE agency = $1 AND doc_id = $2', [agency, docId])) !== undefined,
  };
}

// The trace is written only with a new mailbox row (a duplicate changes nothing); a package
// twice in one batch is stored at most once.
function deliveryWriter({ rows }: Store) {
  return batched<{ d: Delivery; trace: readonly HopRecord[] }, 'stored' | 'duplicate'>(async (items) => {
    const unique = firstOf(items, (i) => JSON.stringify([i.d.docId, i.d.agency]));
    const ds = unique.map((i) => i.d);
    // The packages travel as one binary parameter, cut by their lengths: a bytea[] would go as hex
    // text, twice the size, for the server to parse character by character.
    const stored = new Set((await rows(prepared('deliver', `WITH src AS (
        SELECT s.*, sum(s.len) OVER (ORDER BY s.n) - s.len AS off
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[])
          WITH ORDINALITY AS s (doc_id, agency, kind, sender, subject, status_code, origin_hub, len, received_at, addressed_to, document_id, n)),
      stored AS (
        INSERT INTO mailbox (doc_id, agency, kind, sender, subject, status_code, origin_hub, bytes, received_at, addressed_to, document_id)
        SELECT doc_id, agency, kind, sender, subject, status_code, origin_hub, substring($12::bytea FROM (off + 1)::int FOR len), received_at, addressed_to, document_id
        FROM src ORDER BY n
        ON CONFLICT DO NOTHING RETURNING doc_id, agency),
      tr AS (INSERT INTO trace (doc_id, hub, at, verdict, checks, ms)
        SELECT t.doc_id, t.hub, t.at, t.verdict, t.checks, t.ms FROM stored JOIN ${traceRows(13, ['doc_id', 'agency'])} USING (doc_id, agency) ON CONFLICT DO NOTHING)
      SELECT doc_id, agency FROM stored`), [
      ds.map((d) => d.docId), ds.map((d) => d.agency), ds.map((d) => d.kind), ds.map((d) => d.sender), ds.map((d) => d.subject ?? null),
      ds.map((d) => d.statusCode ?? null), ds.map((d) => d.originHub), ds.map((d) => d.bytes.byteLength), ds.map((d) => d.receivedAt),
      ds.map((d) => d.addressedTo ?? null), ds.map((d) => d.documentId ?? null), Buffer.concat(ds.map((d) => d.bytes)),
      ...traceArgs(unique.map((i) => ({ doc_id: i.d.docId, agency: i.d.agency, hops: i.trace })), ['doc_id', 'agency']),
    ])).map((r) => JSON.stringify([documentIdOf(r), agencyCodeOf(r)])));
    return items.map((i) => (unique.includes(i) && stored.has(JSON.stringify([i.d.docId, i.d.agency])) ? 'stored' : 'duplicate'));
  }, { bytes: BATCH_MAX_BYTES, weigh: (i) => i.d.bytes.byteLength });
}

// The conditional UPDATE alone decides who is first: only a row not yet acknowledged changes.
// (Unacknowledged is asked of ack_result, set with acked_at, because no index leads with it:
// the row is then found by its key even before autovacuum has gathered statistics, where
// `acked_at IS NULL` led the planner to scan every waiting row of the hub per batch.)
// One statement gives each mailbox entry asked about the row it changed, or else the row as
// held; a repeat within the batch is answered against the first call's outcome.
function ackWriter({ rows, one, now }: Store) {
  return batched<{ agency: string; docId: string; result: AckResult; reason: string | null }, AckOutcome | null>(async (items) => {
    const key = (r: { agency: string; docId: string }) => JSON.stringify([r.agency, r.docId]);
    const unique = firstOf(items, key);
    const held = await rows(prepared('ack', `WITH acked AS (
        UPDATE mailbox m SET acked_at = $1, ack_result = s.result, ack_reason = s.reason
        FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS s (agency, doc_id, result, reason)
        WHERE m.agency = s.agency AND m.doc_id = s.doc_id AND m.ack_result IS NULL
        RETURNING m.agency, m.doc_id, m.origin_hub, m.sender, m.ack_result, m.addressed_to)
      SELECT agency, doc_id, origin_hub, sender, ack_result, addressed_to, true AS recorded FROM acked
      UNION ALL SELECT m.agency, m.doc_id, m.origin_hub, m.sender, m.ack_result, m.addressed_to, false FROM mailbox m
        JOIN unnest($2::text[], $3::text[]) AS s (agency, doc_id) ON m.agency = s.agency AND m.doc_id = s.doc_id
        WHERE NOT EXISTS (SELECT 1 FROM acked a WHERE a.agency = m.agency AND a.doc_id = m.doc_id)`),
    [now().toISOString(), unique.map((i) => i.agency), unique.map((i) => i.docId), unique.map((i) => i.result), unique.map((i) => i.reason)]);
    const entries = new Map<string, { row: unknown; recorded: boolean }>();
    for (const r of held) {
      const { agency, docId, recorded } = AckKey.parse(r);
      // Another call acknowledged the row while this statement ran: its snapshot predates that
      // acknowledgement, so read the row as it is now.
      const row = AckRace.safeParse(r).success
        ? await one('SELECT origin_hub, sender, ack_result, addressed_to FROM mailbox WHERE agency = $1 AND doc_id = $2', [agency, docId]) : r;
      if (row !== undefined) entries.set(key({ agency, docId }), { row, recorded });
    }
    return items.map((i) => {
      const entry = entries.get(key(i));
      return entry === undefined ? null : ackOutcomeOf(entry.row, unique.includes(i) && entry.recorded, i.result);
    });
  });
}

/** Each document's trace: the hops that checked it, here and (as they report back) further on. */
function hopTrace({ query, rows }: Store): Pick<Ledger, 'appendTrace' | 'trace'> {
  const appendTraces = batched<{ docId: string; hops: readonly HopRecord[] }, void>(async (items) => {
    await query(prepared('append_trace', `INSERT INTO trace (doc_id, hub, at, verdict, checks, ms)
      SELECT t.doc_id, t.hub, t.at, t.verdict, t.checks, t.ms FROM ${traceRows(1, ['doc_id'])} ON CONFLICT DO NOTHING`), traceArgs(items.map((i) => ({ doc_id: i.docId, hops: i.hops })), ['doc_id']));
    return [];
  });
  return {
    appendTrace: async (docId, hops) => {
      if (hops.length > 0) await appendTraces({ docId, hops });
    },
    trace: async (docId) => (await rows('SELECT hub, at, verdict, checks, ms FROM trace WHERE doc_id = $1 ORDER BY at, id', [docId])).map(traceOf),
  };
}

/** Every document this hub handled, found by its trace, with what the hub knows of it. */
function documentSearch({ rows, one }: Store): Pick<Ledger, 'searchDocuments' | 'mailboxEntries'> {
  return {
    searchDocuments: async (f) => {
      const { where, args } = filters([
        ...(f.organ === undefined ? [] : [[`(d.sender = ? OR m.sender = ? OR EXISTS (SELECT 1 FROM mailbox x WHERE x.doc_id = t.doc_id AND x.agency = ?)
          OR EXISTS (SELECT 1 FROM recipients r WHERE r.doc_id = t.doc_id AND r.organ_id = ?))`, f.organ] as [string, unknown]]),
        ...(f.since === undefined ? [] : [['t.first_seen >= ?', f.since] as [string, unknown]]),
        ...(f.until === undefined ? [] : [['t.first_seen < ?', f.until] as [string, unknown]]),
        ...(f.status === undefined ? [] : [['(EXISTS (SELECT 1 FROM recipients r WHERE r.doc_id = t.doc_id AND r.status = ?) OR m.status_code = ?)', f.status] as [string, unknown]]),
        ...(f.delivery === undefined ? [] : [['EXISTS (SELECT 1 FROM recipients r WHERE r.doc_id = t.doc_id AND r.delivery = ?)', f.delivery] as [string, unknown]]),
      ]);
      const from = `FROM (SELECT doc_id, min(at) AS first_seen, bool_or(verdict = 'rejected') AS rejected FROM trace GROUP BY doc_id) t
        LEFT JOIN documents d ON d.doc_id = t.doc_id
        LEFT JOIN (SELECT doc_id, min(sender) AS sender, min(subject) AS subject, min(kind) AS kind, min(status_code) AS status_code FROM mailbox GROUP BY doc_id) m ON m.doc_id = t.doc_id
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}`;
      const total = countOf(await one(`SELECT count(*) AS n ${from}`, args));
      const page = await rows(`SELECT t.doc_id, t.first_seen, t.rejected, d.doc_id AS origin, m.doc_id AS delivered,
          coalesce(d.kind, m.kind) AS kind, coalesce(d.sender, m.sender) AS sender, coalesce(d.subject, m.subject) AS subject
        ${from} ORDER BY t.first_seen DESC LIMIT $${args.length + 1} OFFSET $${args.length + 2}`, [...args, f.limit, f.offset]);
      return { total, items: page.map(summaryOf) };
    },
    mailboxEntries: async (docId) => (await rows('SELECT agency, received_at, acked_at, ack_result FROM mailbox WHERE doc_id = $1 ORDER BY agency', [docId])).map(mailboxEntryOf),
  };
}

/** The trust store: agencies' certificates, the CRLs, the trusted CAs and the neighbour hubs' seal certificates. */
function trustStore({ rows, changed }: Store): Pick<Ledger,
  'certificates' | 'addCertificate' | 'updateCertificate' | 'crls' | 'putCrl' | 'trustedCas' | 'addTrustedCa' | 'removeTrustedCa' | 'hubCertificates' | 'addHubCertificate'
  | 'claimTrustVersions'> {
  return {
    certificates: async () => (await rows('SELECT * FROM certs ORDER BY agency, not_before')).map(certOf),
    addCertificate: async (r) => changed(`INSERT INTO certs (fingerprint, agency, pem, subject, not_before, not_after, state, retire_at, revoked_at, reason, added_at, added_by)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
    [r.fingerprint, r.agency, r.pem, r.subject, r.notBefore, r.notAfter, r.state, r.retireAt ?? null, r.revokedAt ?? null, r.reason ?? null, r.addedAt, r.addedBy]),
    // A certificate's state only moves forward (active → retired → revoked); a revocation keeps its first time and reason.
    updateCertificate: async (fingerprint, patch) => changed(`UPDATE certs SET
        state = CASE WHEN $2::text IS NOT NULL AND ${rankOf('$2::text', CERT_RANK)} > ${rankOf('state', CERT_RANK)} THEN $2::text ELSE state END,
        retire_at = coalesce($3, retire_at),
        revoked_at = CASE WHEN state = 'revoked' THEN revoked_at ELSE coalesce($4, revoked_at) END,
        reason = CASE WHEN state = 'revoked' THEN reason ELSE coalesce($5, reason) END
      WHERE fingerprint = $1`, [fingerprint, patch.state ?? null, patch.retireAt ?? null, patch.revokedAt ?? null, patch.reason ?? null]),
    crls: async () => (await rows('SELECT * FROM crls')).map(crlOf),
    // The newest CRL of each CA wins, whichever replica imports it first.
    putCrl: async (r) => changed(`INSERT INTO crls (issuer_fingerprint, der, this_update, imported_at, imported_by) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (issuer_fingerprint) DO UPDATE SET der = excluded.der, this_update = excluded.this_update,
        imported_at = excluded.imported_at, imported_by = excluded.imported_by
      WHERE excluded.this_update > crls.this_update`, [r.issuerFingerprint, r.der, r.thisUpdate, r.importedAt, r.importedBy]),
    trustedCas: async () => (await rows('SELECT fingerprint, pem, added_at, added_by FROM cas ORDER BY added_at')).map(caOf),
    addTrustedCa: async (fingerprint, pem, at, by) => changed('INSERT INTO cas (fingerprint, pem, added_at, added_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [fingerprint, pem, at, by]),
    removeTrustedCa: async (fingerprint) => changed('DELETE FROM cas WHERE fingerprint = $1', [fingerprint]),
    hubCertificates: async () => (await rows('SELECT hub_id, fingerprint, pem, added_at FROM hub_certs ORDER BY hub_id, added_at')).map(hubCertOf),
    addHubCertificate: async (hub, fingerprint, pem, at) =>
      changed('INSERT INTO hub_certs (hub_id, fingerprint, pem, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [hub, fingerprint, pem, at]),
    // One statement: each subject's row changes (or is made) only for a version not older than
    // the one held; a racing replica's claim waits for the row and is compared with what it wrote.
    claimTrustVersions: async (subjects, at, digest) => (await rows(`INSERT INTO trust_versions (subject, at, digest)
        SELECT s, $2, $3 FROM unnest($1::text[]) AS s
      ON CONFLICT (subject) DO UPDATE SET at = excluded.at, digest = excluded.digest
        WHERE (excluded.at, excluded.digest) >= (trust_versions.at, trust_versions.digest)
      RETURNING subject`, [[...new Set(subjects)], at, digest])).map(subjectOf),
  };
}

/** This hub's own seal key: the one in use, and (issue 18) a rotated key staged until the neighbours confirm it. */
function sealKeyStore({ pool, rows, one, changed }: Store): Pick<Ledger,
  'activeSealKey' | 'activateSealKey' | 'stageSealKey' | 'confirmSealKey' | 'sealKeyConfirmations' | 'activateStagedSealKey' | 'currentSealKey'> {
  return {
    activeSealKey: async () => {
      const row = await one('SELECT key_file, cert_pem FROM seal_keys ORDER BY id DESC LIMIT 1');
      return row === undefined ? null : sealKeyOf(row);
    },
    activateSealKey: async (keyFile, certPem, at) => {
      await pool.query('INSERT INTO seal_keys (key_file, cert_pem, activated_at) VALUES ($1, $2, $3)', [keyFile, certPem, at]);
    },
    // Seal keys shared by a hub's replicas (issue 18).
    stageSealKey: async (fingerprint, keyPem, certPem, at) => {
      await pool.query('INSERT INTO staged_seal_keys (fingerprint, key_pem, cert_pem, staged_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [fingerprint, keyPem, certPem, at]);
    },
    confirmSealKey: async (fingerprint, by, at) =>
      changed('INSERT INTO seal_confirmations (fingerprint, by_hub, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [fingerprint, by, at]),
    sealKeyConfirmations: async (fingerprint) =>
      (await rows('SELECT by_hub FROM seal_confirmations WHERE fingerprint = $1 ORDER BY by_hub', [fingerprint])).map(confirmationOf),
    activateStagedSealKey: async (fingerprint, at) => changed('UPDATE staged_seal_keys SET activated_at = $1 WHERE fingerprint = $2', [at, fingerprint]),
    currentSealKey: async () => {
      const row = await one('SELECT fingerprint, key_pem, cert_pem, activated_at FROM staged_seal_keys WHERE activated_at IS NOT NULL ORDER BY activated_at DESC, staged_at DESC LIMIT 1');
      return row === undefined ? null : sealKeyPemOf(row);
    },
  };
}

/** The dead-letter channel's store: each dead letter once (by its message key), browsable, replayed or deleted. */
function deadLetterStore({ rows, one, changed }: Store): Pick<Ledger, 'addDeadLetter' | 'deadLetters' | 'deadLetter' | 'markDeadLetter'> {
  return {
    addDeadLetter: async (d) => (await changed(`INSERT INTO dead_letters (message_key, doc_id, kind, sender, reason_code, reason, dead_at, headers, body)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
    [d.messageKey, d.docId, d.kind, d.sender, d.reasonCode, d.reason, d.deadAt, JSON.stringify(d.headers), d.body])) ? 'stored' : 'duplicate',
    deadLetters: async (f) => {
      const { where, args } = filters([
        ...(f.reason === undefined ? [] : [['reason_code = ?', f.reason] as [string, unknown]]),
        ...(f.agency === undefined ? [] : [['sender = ?', f.agency] as [string, unknown]]),
        ...(f.docId === undefined ? [] : [['doc_id = ?', f.docId] as [string, unknown]]),
        ...(f.since === undefined ? [] : [['dead_at >= ?', f.since] as [string, unknown]]),
        ...(f.until === undefined ? [] : [['dead_at < ?', f.until] as [string, unknown]]),
      ]);
      const clause = ['deleted_at IS NULL', ...where].join(' AND ');
      const total = countOf(await one(`SELECT count(*) AS n FROM dead_letters WHERE ${clause}`, args));
      const page = await rows(`SELECT id, doc_id, kind, sender, reason_code, reason, dead_at, headers, octet_length(body) AS size, replayed_at
        FROM dead_letters WHERE ${clause} ORDER BY dead_at DESC, id DESC LIMIT $${args.length + 1} OFFSET $${args.length + 2}`, [...args, f.limit, f.offset]);
      return { items: page.map(deadLetterOf), total };
    },
    deadLetter: async (id) => {
      const row = await one('SELECT *, octet_length(body) AS size FROM dead_letters WHERE id = $1 AND deleted_at IS NULL', [id]);
      return row === undefined ? null : { ...deadLetterOf(row), body: bytesOf(row, 'body') };
    },
    markDeadLetter: async (id, change, at) =>
      changed(`UPDATE dead_letters SET ${change === 'replayed' ? 'replayed_at' : 'deleted_at'} = $1 WHERE id = $2 AND deleted_at IS NULL`, [at, id]),
  };
}

/** The audit trail: who did what, newest first. */
function auditTrail({ pool, rows, now }: Store): Pick<Ledger, 'audit' | 'auditLog'> {
  return {
    audit: async (actor, action, detail) => {
      await pool.query('INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)', [now().toISOString(), actor, action, JSON.stringify(detail)]);
    },
    auditLog: async (limit) => (await rows('SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT $1', [limit])).map(auditOf),
  };
}

/**
 * Where agencies are: those registered at run time, the national directory's last good copy
 * (issue 17), and the directory after a restructuring with the documents still to carry on (issue 19).
 */
function agencyDirectory({ pool, rows, one, changed, tx }: Store): Pick<Ledger,
  'agencies' | 'addAgency' | 'nationalDirectory' | 'saveNationalDirectory' | 'directoryEntries' | 'putDirectoryEntries' | 'hubRetirements' | 'retireHub'
  | 'waitingAgencies' | 'waitingDocuments' | 'markMoved'> {
  return {
    agencies: async () => (await rows('SELECT code, name, parent, hub_id, api_key_hash FROM agencies ORDER BY code')).map(agencyOf),
    addAgency: async (a, at, by) => changed('INSERT INTO agencies (code, name, parent, hub_id, api_key_hash, added_at, added_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [a.code, a.name, a.parent, a.hubId, a.apiKeyHash, at, by]),
    // The national directory (issue 17).
    nationalDirectory: async () => {
      const row = await one('SELECT entries, fetched_at FROM national_directory WHERE id = 1');
      return row === undefined ? null : nationalDirectoryOf(row);
    },
    saveNationalDirectory: async (entries, fetchedAt) => (await pool.query(`INSERT INTO national_directory (id, entries, fetched_at) VALUES (1, $1, $2)
      ON CONFLICT (id) DO UPDATE SET entries = excluded.entries, fetched_at = excluded.fetched_at WHERE excluded.fetched_at >= national_directory.fetched_at`,
    [JSON.stringify(entries), fetchedAt])).rowCount === 1,
    // The agency directory after a restructuring (issue 19).
    directoryEntries: async () => (await rows('SELECT code, successor, successor_from, hub_id FROM directory ORDER BY code')).map(directoryEntryOf),
    putDirectoryEntries: (entries) => tx(async (c) => {
      for (const e of entries) {
        await c.query(`INSERT INTO directory (code, successor, successor_from, hub_id) VALUES ($1, $2, $3, $4)
          ON CONFLICT (code) DO UPDATE SET successor = coalesce(excluded.successor, directory.successor),
            successor_from = CASE WHEN excluded.successor IS NULL THEN directory.successor_from ELSE excluded.successor_from END,
            hub_id = coalesce(excluded.hub_id, directory.hub_id)`, [e.code, e.successor, e.from, e.hubId]);
      }
    }),
    hubRetirements: async () => (await rows('SELECT hub_id, "into" FROM hub_retirements ORDER BY at, hub_id')).map(retirementOf),
    retireHub: async (hubId, into, at) => changed('INSERT INTO hub_retirements (hub_id, "into", at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [hubId, into, at]),
    waitingAgencies: async () => (await rows('SELECT DISTINCT agency FROM mailbox WHERE acked_at IS NULL AND moved_to IS NULL ORDER BY agency')).map(agencyCodeOf),
    waitingDocuments: async (agency) => (await rows(`SELECT doc_id, kind, sender, subject, status_code, origin_hub, addressed_to, document_id, bytes FROM mailbox
      WHERE agency = $1 AND acked_at IS NULL AND moved_to IS NULL ORDER BY received_at, doc_id`, [agency])).map(waitingOf),
    markMoved: async (agency, docId, to) => {
      await pool.query('UPDATE mailbox SET moved_to = $1 WHERE agency = $2 AND doc_id = $3', [to, agency, docId]);
    },
  };
}

/** Readiness, and closing the pool. */
function lifecycle({ pool, one }: Store): Pick<Ledger, 'reachable' | 'close'> {
  return {
    reachable: async () => {
      try {
        return (await one('SELECT 1 AS one')) !== undefined;
      } catch (err) {
        if (err instanceof Error) return false; // unreachable, or the pool is closed: not ready
        throw err;
      }
    },
    close: () => pool.end(),
  };
}

const CONNECT_TIMEOUT_MS = 5_000;
/** Bounds of one coalesced write: calls, and package bytes (deliveries). */
const BATCH_MAX = 200;
const BATCH_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Trace rows as a statement unnests them from $first on: the key columns (`doc_id`, and `agency`
 * where a row belongs to one mailbox entry), then the hop's own.
 */
function traceRows(first: number, keys: readonly ('doc_id' | 'agency')[]): string {
  const columns = [...keys, 'hub', 'at', 'verdict', 'checks', 'ms'];
  return `unnest(${columns.map((c, i) => `$${first + i}::${c === 'ms' ? 'float8' : 'text'}[]`).join(', ')}) AS t (${columns.join(', ')})`;
}

/** The arguments `traceRows` takes for the same `keys`: one row per hop, its keys repeated. */
function traceArgs(entries: readonly { doc_id: string; agency?: string; hops: readonly HopRecord[] }[], keys: readonly ('doc_id' | 'agency')[]): unknown[][] {
  const flat = entries.flatMap((e) => e.hops.map((h) => ({ ...e, h })));
  return [
    ...keys.map((k) => flat.map((f) => f[k] ?? null)),
    flat.map((f) => f.h.hub), flat.map((f) => f.h.at), flat.map((f) => f.h.verdict), flat.map((f) => JSON.stringify(f.h.checks)), flat.map((f) => f.h.ms ?? null),
  ];
}

/** The first item of each key, in order. */
function firstOf<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(key(i)) && seen.add(key(i)) !== undefined);
}

/** A statement as text, or named so that each pooled connection prepares (parses and plans) it once. */
type Statement = string | { name: string; text: string };

/** The hot path's statements are named: planning a data-modifying CTE costs the server more than running it. */
function prepared(name: string, text: string): Statement {
  return { name: `lgsp_${name}`, text };
}

const AckKey = z.object({ agency: z.string(), doc_id: z.string(), recorded: z.boolean() }).transform((r) => ({ agency: r.agency, docId: r.doc_id, recorded: r.recorded }));
/** An ack row not changed by this statement and not yet acknowledged as read: another call's acknowledgement raced it. */
const AckRace = z.object({ recorded: z.literal(false), ack_result: z.null() });

// Errors that say the server is away, not that the call was wrong: Node's socket errors, the
// driver's own when a connection breaks or cannot be made in time, and SQLSTATE class 08
// (connection exception) and 57P01-57P03 (the server shutting down or starting).
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const DRIVER_OUTAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed/;

function isOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_ERRORS.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code))) return true;
  if (err instanceof AggregateError) return err.errors.some(isOutage);
  return DRIVER_OUTAGE.test(err.message);
}

/** The ledger with every outage of its server thrown as LedgerUnavailable (one type the callers can tell apart). */
function outageCoded(ledger: Ledger): Ledger {
  const coded = {} as Record<string, unknown>;
  for (const [name, method] of Object.entries(ledger) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    coded[name] = async (...args: unknown[]) => {
      try {
        return await method(...args);
      } catch (err) {
        if (isOutage(err)) throw new LedgerUnavailable(`the ledger is unreachable: ${(err as Error).message}`, { cause: err });
        throw err;
      }
    };
  }
  return coded as unknown as Ledger;
}

/** A statement's `?` placeholders as PostgreSQL's $1, $2, … */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/** Runs `run` in one transaction on one pooled connection. */
export async function transaction<T>(pool: pg.Pool, run: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A checked-out connection has no error listener of the pool's: when the server ends it between
  // two statements (a restart), its 'error' event would be unhandled and end the process. The
  // next statement fails instead, and the transaction with it.
  const ignore = () => {};
  client.on('error', ignore);
  const release = (broken: boolean) => {
    client.removeListener('error', ignore);
    client.release(broken);
  };
  try {
    await client.query('BEGIN');
    const value = await run(client);
    await client.query('COMMIT');
    release(false);
    return value;
  } catch (err) {
    // A connection that cannot even roll back is discarded, not handed to the next caller.
    release(await client.query('ROLLBACK').then(() => false, () => true));
    throw err;
  }
}

/** Creates or brings the hub's schema up to date, once, however many replicas start together. */
function migrate(pool: pg.Pool, schema: string): Promise<void> {
  return transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lgsp-ledger:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const applied = countOf((await client.query(`SELECT count(*) AS n FROM ${schema}.migrations`)).rows[0]);
    for (const [i, sql] of MIGRATIONS.entries()) {
      if (i < applied) continue;
      await client.query(`SET LOCAL search_path TO ${schema}`);
      await client.query(sql);
      await client.query(`INSERT INTO ${schema}.migrations (version) VALUES ($1)`, [i + 1]);
    }
  });
}
