// The hub configuration: parsed once at start-up with every problem reported together, then
// frozen and passed down. Nothing below this module reads process.env.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { fail, ok, type Result } from './errors.js';
import { ancestorCodes, codePatternProblem, parseAgencyCode, type AgencyCode } from './agency/code.js';
import { buildRegistry } from './agency/registry.js';
import { DEFAULT_LIMITS } from './edxml/limits.js';
import { OUTSIDE_SENDER_MODES } from './trust/binding.js';

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const MiB = 1024 * 1024;
/** hopCheck.inlineBelowMarkup: npm run bench:hostile times the worst package under it. */
export const DEFAULT_INLINE_BELOW_MARKUP = 1_000;

/**
 * Where a hub's ledger lives. Absent: an embedded SQLite file under dataDir (one process per
 * hub). A PostgreSQL URL: one database shared by every replica of the hub (docs/architecture.md).
 */
export const LedgerConfig = z.object({ url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgresql:// URL') });
export type LedgerConfig = z.output<typeof LedgerConfig>;

/** TLS to an amqps:// broker: its CA, and a client certificate and key where the broker asks for one. */
export const AmqpTls = z.object({
  caFile: z.string(),
  certFile: z.string().optional(),
  keyFile: z.string().optional(),
}).refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), 'certFile and keyFile go together');
export type AmqpTls = z.output<typeof AmqpTls>;

/** A broker node's URL: amqp:// or amqps://. */
const AmqpUrl = z.string().regex(/^amqps?:\/\//, 'an amqp:// or amqps:// URL');
/** The nodes of one RabbitMQ cluster: a hub connects to one that answers, and moves to another when it dies. */
const AmqpUrls = z.array(AmqpUrl).min(1);
const oneBrokerKey = { message: 'give amqpUrl (one broker) or amqpUrls (the nodes of one cluster), not both' };

const Code = z.string().refine((c) => parseAgencyCode(c).ok, { message: 'not an agency code of the form DDD.DD.DD.XNN' });

// The national axis (issue 17): the province is one system on it, with one secret.
export const UpstreamConfig = z.object({
  kind: z.literal('vxp'),
  /** The axis's base URL; each call is a POST (downloadEdoc a GET) to `{endpoint}/<call>`. */
  endpoint: z.string().url().refine((u) => /^https?:/.test(u), 'an http(s) URL'),
  /** The province's system id on the axis (its agency code). */
  systemId: Code,
  /** A file holding the HMAC secret alone (relative to the configuration file); never logged. */
  secretFile: z.string().min(1),
  /** How often getReceivedEdocList is polled. */
  pollIntervalMs: z.number().int().min(100).default(5_000),
  /** How often getAgenciesList is read again. */
  directoryIntervalMs: z.number().int().min(1_000).default(3_600_000),
  /** /readyz warns when the axis has not answered for longer than this. */
  staleAfterMs: z.number().int().positive().default(60_000),
  /** One call is abandoned after this (then retried with backoff). */
  timeoutMs: z.number().int().positive().default(30_000),
});
export type UpstreamConfig = z.output<typeof UpstreamConfig>;

export const HubConfig = z.object({
  /** The agency code of the tree node this hub serves. */
  id: Code,
  name: z.string().min(1).optional(),
  /** The parent hub; by default the nearest ancestor code that is a hub. null: top of the tree. */
  parentId: Code.nullable().optional(),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
  /** The broker this hub's queues live on; by default the configuration's amqpUrl(s). */
  amqpUrl: z.string().optional(),
  /** The nodes of the cluster this hub's queues live on, instead of amqpUrl. */
  amqpUrls: AmqpUrls.optional(),
  /** TLS for this hub's amqps:// broker; by default the configuration's amqpTls. */
  amqpTls: AmqpTls.optional(),
  /** The hub seal: its key signs trace seals and the statuses the hub emits. */
  sealKeyFile: z.string(),
  sealCertFile: z.string(),
  /** This hub's ledger, overriding the configuration's. */
  ledger: LedgerConfig.optional(),
  /** The link up to the national document axis (docs/national-axis.md); normally on the top hub. */
  upstream: UpstreamConfig.optional(),
}).refine((h) => h.amqpUrl === undefined || h.amqpUrls === undefined, { ...oneBrokerKey, path: ['amqpUrls'] });
export type HubConfig = z.output<typeof HubConfig>;

export const AgencyConfig = z.object({
  code: Code,
  name: z.string().min(1),
  /** The parent in the agency tree; by default by code arithmetic. */
  parent: Code.nullable().optional(),
  /** The hub that serves the agency; by default the nearest hub at or above its code. */
  hubId: Code.optional(),
  /** Lowercase hex SHA-256 of the agency's API key. */
  apiKeyHash: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256 of the API key'),
  /** A file holding the API key itself: the HMAC secret of the SDK dialect (/vxp); must match apiKeyHash. */
  apiKeyFile: z.string().optional(),
  /** Signing certificates registered for the agency. */
  certFiles: z.array(z.string()).default([]),
});
export type AgencyConfig = z.output<typeof AgencyConfig>;

export const ADMIN_ROLES = ['observer', 'operator', 'security'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export const AdminConfig = z.object({
  name: z.string().min(1),
  /** Lowercase hex SHA-256 of the admin token. */
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256 of the token'),
  roles: z.array(z.enum(ADMIN_ROLES)).min(1),
});
export type AdminConfig = z.output<typeof AdminConfig>;

/** A duration such as 90s, 5m, 24h or 30d, in ms. */
const SdkDuration = z.string().regex(/^[1-9]\d*(s|m|h|d)$/, 'a duration such as 90s, 5m, 24h or 30d')
  .transform((s) => Number.parseInt(s, 10) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[s.slice(-1) as 's' | 'm' | 'h' | 'd']);
/** A duration, or off (null): no limit. */
const SdkWindow = z.union([z.literal('off').transform(() => null), SdkDuration]);

// Senders outside the network (issue 17, docs/national-axis.md, "Senders outside the network").
/** A subject attribute: a short name @peculiar/x509 knows, or a dotted OID (e.g. 0.9.2342.19200300.100.1.1, UID). */
const SubjectAttribute = z.union([z.enum(['CN', 'OU', 'O', 'L', 'ST', 'C', 'DC', 'E', 'G', 'I', 'SN', 'T']), z.string().regex(/^[0-2](\.\d+)+$/, 'a dotted OID')]);
/**
 * How the signer of a sender the network does not serve is bound: its certificate chains to a
 * trusted CA and names the sender's code in `codeAttribute` (with-code, the default); or also
 * names no code at all (any: a risk, see the doc); or no outside sender is accepted (none).
 */
export const OutsideSendersConfig = z.object({
  accept: z.enum(OUTSIDE_SENDER_MODES).default('with-code'),
  codeAttribute: SubjectAttribute.default('OU'),
}).prefault({});

// System accounts of the SDK dialect (issue 17, item 7, docs/national-sdk.md "A province as one system").
/** An agency code, or `*.` and a code's last segments (*.H41). */
const CodePattern = z.string().superRefine((p, ctx) => {
  const problem = codePatternProblem(p);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});
/** One account (systemid + secret) that sends and receives on behalf of many agencies. */
export const SdkSystemConfig = z.object({
  /** Its systemid, e.g. the province's code. */
  systemId: Code,
  name: z.string().min(1).optional(),
  /** The HMAC secret, alone in a file (relative to the configuration file). */
  secretFile: z.string(),
  /** The hub whose /vxp serves it; by default the top of the tree, when the configuration has one. */
  hubId: Code.optional(),
  /** The agencies it may send for: `from` (the real sender) must match one. */
  sendsFor: z.array(CodePattern).min(1),
  /** The agencies served by its hub whose mailboxes it reads; by default those it sends for. */
  receivesFor: z.array(CodePattern).min(1).optional(),
}).transform((s) => ({ ...s, receivesFor: s.receivesFor ?? s.sendsFor }));
export type SdkSystemConfig = z.output<typeof SdkSystemConfig>;

/** A broker that neither confirms nor nacks for this long is taken as gone (the publisher's bound). */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 30_000;

export const Config = z.object({
  dataDir: z.string().default('data'),
  /** Every hub's ledger unless a hub names its own; absent: SQLite under dataDir. */
  ledger: LedgerConfig.optional(),
  amqpUrl: z.string().default(DEFAULT_AMQP_URL),
  /** The nodes of one RabbitMQ cluster, instead of amqpUrl (docs/scale-out.md). */
  amqpUrls: AmqpUrls.optional(),
  /** TLS for amqps:// brokers (files relative to the configuration file). */
  amqpTls: AmqpTls.optional(),
  /** How long a publish waits for the broker's confirm (nacks retried meanwhile) before it fails: a submission then answers 503, nothing accepted. */
  amqpConfirmTimeoutMs: z.number().int().positive().default(DEFAULT_CONFIRM_TIMEOUT_MS),
  /** RabbitMQ's management API (e.g. http://guest:guest@127.0.0.1:15672): adds unacked counts and rates to queue stats. */
  managementUrl: z.string().url().optional(),
  trust: z.object({
    caFiles: z.array(z.string()).min(1),
    crlFiles: z.array(z.string()).default([]),
    /** CRLs fetched by every hub at start and then on an interval. */
    crlSources: z.array(z.object({ url: z.string().url(), intervalMs: z.number().int().positive().default(3_600_000) })).default([]),
    /** A CA whose CRL is past nextUpdate: keep using the last CRL (default), or refuse its certificates. */
    crlPolicy: z.enum(['keep-last', 'fail-closed']).default('keep-last'),
    outsideSenders: OutsideSendersConfig,
  }),
  policy: z.object({
    allowLegacy: z.boolean().default(false),
    requireSignature: z.boolean().default(true),
    maxBytes: z.number().int().positive().default(50 * MiB),
    /** Structure limits, checked before the XSD and canonicalization (docs/hop-pipeline.md). */
    maxElements: z.number().int().positive().default(DEFAULT_LIMITS.maxElements),
    /** At most 256: libxml2's c14n overflows the WebAssembly stack somewhere between 1,000 and 1,500 levels. */
    maxDepth: z.number().int().positive().max(256).default(DEFAULT_LIMITS.maxDepth),
    maxAttributes: z.number().int().positive().default(DEFAULT_LIMITS.maxAttributes),
    maxAttributesPerElement: z.number().int().positive().default(DEFAULT_LIMITS.maxAttributesPerElement),
    maxNamespaceDeclarations: z.number().int().positive().default(DEFAULT_LIMITS.maxNamespaceDeclarations),
    maxNamespacesInScope: z.number().int().positive().default(DEFAULT_LIMITS.maxNamespacesInScope),
  }).prefault({}),
  /**
   * Where the hop check runs (docs/performance.md). Packages of inlineBelowBytes or
   * inlineBelowMarkup and more go to a pool of `workers` threads, so that a large or
   * markup-heavy one never stalls the event loop; the others are checked on the event loop,
   * where they block it for at most a few ms and the hand-off would cost more than it frees.
   * workers 0: every check on the event loop.
   */
  hopCheck: z.object({
    workers: z.number().int().min(0).max(64).default(availableParallelism()),
    inlineBelowBytes: z.number().int().min(0).default(MiB),
    /** '<' and '=' together: the national samples have 57-262; c14n's cost follows elements and attributes. */
    inlineBelowMarkup: z.number().int().min(0).default(DEFAULT_INLINE_BELOW_MARKUP),
  }).prefault({}),
  /** The HTTP edge (docs/security.md): slow clients are cut off, and each agency's calls are rate limited. */
  http: z.object({
    /** Headers and body must arrive within this; 120 s carries the 50 MiB maximum at 3.5 Mbit/s. */
    requestTimeoutMs: z.number().int().positive().default(120_000),
    /** The request headers must arrive within this. */
    headersTimeoutMs: z.number().int().positive().default(10_000),
    /** How often the two timeouts above are checked, so a cut-off comes at most this late. */
    timeoutCheckMs: z.number().int().positive().default(1_000),
    /** A token bucket per agency over its /api/v1 calls: refilled at perSecond, holding at most burst. */
    rateLimit: z.object({
      perSecond: z.number().positive().default(200),
      burst: z.number().int().positive().default(400),
    }).prefault({}),
    /** The largest body of an admin API call or console form (JSON and forms are small). */
    adminBodyBytes: z.number().int().positive().default(256 * 1024),
    /** The largest CRL the hub takes, uploaded (POST /api/admin/crls) or fetched from a crlSource. */
    crlMaxBytes: z.number().int().positive().default(10 * MiB),
    /**
     * Who may read /metrics (it names certificate subjects and agencies): a bearer token whose
     * SHA-256 is this, or any admin token. Unset: admin tokens only. Never open.
     */
    metricsTokenHash: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256 of the token').optional(),
    /** Believe X-Forwarded-Proto/-Host from the proxy in front (for the console's Secure cookie and Origin check). */
    trustProxy: z.boolean().default(false),
    console: z.object({
      /** A console session ends this long after sign-in (or at sign-out). */
      sessionTtlMs: z.number().int().positive().default(8 * 3_600_000),
      /** Mark the session cookie Secure even when the request did not come over https (TLS ends before the hub). */
      secureCookie: z.boolean().default(false),
    }).prefault({}),
  }).refine((h) => h.headersTimeoutMs <= h.requestTimeoutMs, { message: 'must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] }).prefault({}),
  /**
   * The national SDK dialect's freshness rules (docs/national-sdk.md, "Freshness and replay"). The
   * real SDK stamps a service object once and repeats its signed headers for the life of the
   * process, so by default a timestamp of any age passes and nothing is a replay; agencies whose
   * clients stamp each call can be held to a window of minutes and a replay guard. Only those may
   * send updateStatus's parameters in the body (anyone else signs them: sdk-auth.ts unsignedParameter).
   */
  sdk: z.object({
    timestampWindow: SdkWindow.prefault('off'),
    strict: z.object({
      agencies: z.array(z.string()).default([]),
      timestampWindow: SdkDuration.prefault('5m'),
    }).prefault({}),
    systems: z.array(SdkSystemConfig).default([]),
  }).prefault({}),
  hubs: z.array(HubConfig).min(1),
  agencies: z.array(AgencyConfig).default([]),
  admins: z.array(AdminConfig).default([]),
  alerts: z.object({
    /** POSTed a JSON alert when a certificate crosses 60, 30, 14, 7 or 1 days before expiry. */
    webhookUrl: z.string().url().optional(),
    /** One webhook call is abandoned after this. */
    webhookTimeoutMs: z.number().int().positive().default(5_000),
    /** A failed call is retried in the background this many times, waiting webhookRetryMs, then twice as long each time. */
    webhookRetries: z.number().int().min(0).max(20).default(5),
    webhookRetryMs: z.number().int().positive().default(2_000),
    expiryCheckIntervalMs: z.number().int().positive().default(3_600_000),
    // Exchange statistics (issue 20): a document delivered and not acknowledged this long is overdue.
    unacknowledgedAfter: SdkDuration.prefault('24h'),
    /** How often the overdue list is checked (and the webhook told when it changed, or once a day). */
    overdueCheckIntervalMs: z.number().int().positive().default(300_000),
  }).prefault({}),
  /**
   * Retention (issue 20): the bytes of packages acknowledged longer ago than packagesAfterAck are
   * removed (their metadata, trace and counts stay; `lgsp ledger export` archives them first), and
   * dead letters older than deadLettersAfter are deleted. Checked at start and every checkIntervalMs.
   */
  retention: z.object({
    packagesAfterAck: SdkDuration.prefault('365d'),
    deadLettersAfter: SdkDuration.prefault('90d'),
    checkIntervalMs: z.number().int().positive().default(3_600_000),
  }).prefault({}),
  /**
   * State a hub's replicas share at the HTTP edge (docs/replicas.md): the per-agency rate limits
   * and the /vxp replay guard in this Redis. Absent: each process keeps its own.
   */
  sharedState: z.object({ redisUrl: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL') }).optional(),
  // The agency directory after a restructuring (issue 19, docs/directory.md).
  directory: z.object({
    /** How long a closed agency's API key may still read and acknowledge what it had. */
    closedKeyGrace: SdkDuration.prefault('30d'),
    /** How often a hub looks for closures and moves that have come due (a successor `from` later). */
    sweepIntervalMs: z.number().int().positive().default(60_000),
  }).prefault({}),
}).superRefine((c, ctx) => {
  const hubs = new Set(c.hubs.map((h) => h.id));
  const dup = (list: string[], what: string, at: string) => list.forEach((x, i) => {
    if (list.indexOf(x) !== i) ctx.addIssue({ code: 'custom', path: [at, i], message: `duplicate ${what} ${x}` });
  });
  dup(c.hubs.map((h) => h.id), 'hub', 'hubs');
  dup(c.agencies.map((a) => a.code), 'agency', 'agencies');
  c.hubs.forEach((h, i) => {
    if (h.parentId && !hubs.has(h.parentId)) ctx.addIssue({ code: 'custom', path: ['hubs', i, 'parentId'], message: `no hub ${h.parentId}` });
  });
  c.agencies.forEach((a, i) => {
    if (a.hubId && !hubs.has(a.hubId)) ctx.addIssue({ code: 'custom', path: ['agencies', i, 'hubId'], message: `no hub ${a.hubId}` });
  });
  dup(c.sdk.systems.map((s) => s.systemId), 'SDK system', 'sdk.systems');
  const tops = topHubs(c.hubs);
  c.sdk.systems.forEach((s, i) => {
    const at = ['sdk', 'systems', i];
    if (s.hubId !== undefined && !hubs.has(s.hubId)) ctx.addIssue({ code: 'custom', path: [...at, 'hubId'], message: `no hub ${s.hubId}` });
    if (s.hubId === undefined && tops.length !== 1) ctx.addIssue({ code: 'custom', path: [...at, 'hubId'], message: 'name the hub that serves it: the configuration has more than one top hub' });
    // One systemid, one secret: an agency's own /vxp account and a system account cannot share it.
    if (c.agencies.some((a) => a.code === s.systemId && a.apiKeyFile !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [...at, 'systemId'], message: `agency ${s.systemId} has its own /vxp account (apiKeyFile): a system needs a systemid of its own` });
    }
  });
  // One link up per network: the hubs' trees are told apart by their top hub.
  const linked = new Map<string, number>();
  c.hubs.forEach((h, i) => {
    if (h.upstream === undefined) return;
    const top = topOf(c.hubs, h.id);
    if (linked.has(top)) ctx.addIssue({ code: 'custom', path: ['hubs', i, 'upstream'], message: `hub ${c.hubs[linked.get(top)!]!.id} already links the network of ${top} to the national axis` });
    linked.set(top, i);
  });
});
export type Config = z.output<typeof Config>;

/** The hubs at the top of the configuration's trees. */
function topHubs(hubs: readonly { id: string; parentId?: string | null | undefined }[]): string[] {
  return [...buildRegistry({ hubs, agencies: [] }).hubs.values()].filter((h) => h.parentId === null).map((h) => h.id);
}

/** The top of hub `id`'s tree: explicit parents, else the nearest ancestor code that is a hub (as agency/registry.ts). */
function topOf(hubs: readonly { id: string; parentId?: string | null | undefined }[], id: string): string {
  const ids = new Set(hubs.map((h) => h.id));
  const seen = new Set<string>();
  let cur = id;
  for (;;) {
    seen.add(cur);
    const h = hubs.find((x) => x.id === cur);
    const parent = h?.parentId !== undefined ? h.parentId : ancestorCodes(cur as AgencyCode).find((c) => ids.has(c)) ?? null;
    if (parent === null || seen.has(parent)) return cur;
    cur = parent;
  }
}

/** A broker or database URL from the configuration without its credentials, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** What brokerNodes reads: the network's broker and any hub's own. */
export interface BrokerSource {
  amqpUrl: string;
  amqpUrls?: string[] | undefined;
  hubs: readonly { id: string; amqpUrl?: string | undefined; amqpUrls?: string[] | undefined }[];
}

/**
 * The broker nodes a hub's queues live on: the hub's own (amqpUrls or amqpUrl), else the
 * configuration's (amqpUrls, which wins over amqpUrl).
 */
export function brokerNodes(config: BrokerSource, hubId: string): string[] {
  const hub = config.hubs.find((h) => h.id === hubId);
  if (hub?.amqpUrls !== undefined) return hub.amqpUrls;
  if (hub?.amqpUrl !== undefined) return [hub.amqpUrl];
  return config.amqpUrls ?? [config.amqpUrl];
}

/**
 * Whether two node lists name the same broker (a node of one cluster in both), whatever user each
 * connects as (each hub may have its own).
 */
export function sameBroker(a: readonly string[], b: readonly string[]): boolean {
  const ofB = new Set(b.map(anonymous));
  return a.some((url) => ofB.has(anonymous(url)));
}

function anonymous(url: string): string {
  return withCredentials(url, '', '');
}

/** The URL with this user and password (URL-encoded), replacing any it had. */
export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

// A broker user per hub from one secret (docs/security.md, "Broker users"): `lgsp broker users`
// creates them and `lgsp start` connects as them, each knowing the passwords without a file
// passing between them; an HMAC, so that one hub's password tells nothing of another's or of
// the secret.
/** The secret every hub's broker password is derived from (LGSP_BROKER_USER_SECRET). Its value is never echoed. */
export const BrokerUserSecret = z.string().min(16, 'at least 16 characters (e.g. openssl rand -hex 32)');

/** A hub's broker user. */
export function brokerUserOf(hubId: string): string {
  return `lgsp-${hubId}`;
}

/** A hub's broker password: hex HMAC-SHA256 of its id under the secret (hex: nothing to escape in a URL or for rabbitmqctl). */
export function brokerPasswordOf(secret: string, hubId: string): string {
  return createHmac('sha256', secret).update(hubId).digest('hex');
}

/** Environment variables that override the configuration file's brokers. */
export interface BrokerEnv {
  /** The configuration's default broker (not a hub's own). */
  AMQP_URL?: string | undefined;
  /** The nodes of one cluster, comma-separated, instead of AMQP_URL. */
  AMQP_URLS?: string | undefined;
  /**
   * Each hub connects as `lgsp-<hub id>` with its derived password, on whatever nodes the file
   * or AMQP_URL(S) name: this replaces the user and password in every hub's broker URLs.
   */
  LGSP_BROKER_USER_SECRET?: string | undefined;
}

/** Reads a configuration file; relative paths inside it are taken from the file's folder. */
export function loadConfig(file: string, env: BrokerEnv): Result<Readonly<Config>> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return fail('USAGE', `cannot read the configuration ${file}: ${(err as Error).message}`);
  }
  return parseConfig(raw, path.dirname(path.resolve(file)), env);
}

export function parseConfig(raw: unknown, baseDir: string, env: BrokerEnv): Result<Readonly<Config>> {
  // amqpUrl has a default, so only the raw file can tell whether both were given.
  if (typeof raw === 'object' && raw !== null && 'amqpUrl' in raw && 'amqpUrls' in raw) {
    return fail('USAGE', `invalid configuration: amqpUrls: ${oneBrokerKey.message}`);
  }
  const parsed = Config.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return fail('USAGE', `invalid configuration: ${issues.join('; ')}`);
  }
  const c = parsed.data;
  const at = (p: string) => path.resolve(baseDir, p);
  const tlsAt = (t: AmqpTls | undefined) => t === undefined ? {} : {
    amqpTls: { caFile: at(t.caFile), ...(t.certFile === undefined ? {} : { certFile: at(t.certFile) }), ...(t.keyFile === undefined ? {} : { keyFile: at(t.keyFile) }) },
  };
  // AMQP_URLS or AMQP_URL override the file's default broker (not a hub's own).
  const envNodes = env.AMQP_URLS?.split(',').map((u) => u.trim()).filter((u) => u !== '') ?? [];
  const brokers = envNodes.length > 0 ? { amqpUrl: envNodes[0]!, amqpUrls: envNodes }
    : env.AMQP_URL !== undefined ? { amqpUrl: env.AMQP_URL, amqpUrls: undefined }
    : { amqpUrl: c.amqpUrl, amqpUrls: c.amqpUrls };
  const badNode = brokers.amqpUrls?.find((u) => !AmqpUrl.safeParse(u).success);
  if (badNode !== undefined) return fail('USAGE', `AMQP_URLS: ${redactUrl(badNode)} is not an amqp:// or amqps:// URL`);
  const hubs = asHubUsers({ ...c, ...brokers }, env.LGSP_BROKER_USER_SECRET);
  if (!hubs.ok) return hubs;
  return ok(Object.freeze({
    ...c,
    ...brokers,
    ...tlsAt(c.amqpTls),
    dataDir: at(c.dataDir),
    trust: { ...c.trust, caFiles: c.trust.caFiles.map(at), crlFiles: c.trust.crlFiles.map(at) },
    hubs: hubs.value.map((h) => ({
      ...h, ...tlsAt(h.amqpTls), sealKeyFile: at(h.sealKeyFile), sealCertFile: at(h.sealCertFile),
      ...(h.upstream === undefined ? {} : { upstream: { ...h.upstream, secretFile: at(h.upstream.secretFile) } }),
    })),
    agencies: c.agencies.map((a) => ({ ...a, certFiles: a.certFiles.map(at), ...(a.apiKeyFile === undefined ? {} : { apiKeyFile: at(a.apiKeyFile) }) })),
    sdk: {
      ...c.sdk,
      systems: c.sdk.systems.map((s) => ({ ...s, secretFile: at(s.secretFile), hubId: s.hubId ?? topHubs(c.hubs)[0]! })),
    },
  }));
}

/**
 * With LGSP_BROKER_USER_SECRET, each hub carries its broker nodes with its own user and derived
 * password (the secret wins over any credentials in the file's or AMQP_URL(S)'s URLs); without
 * it, the hubs as they are.
 */
function asHubUsers(c: Pick<Config, 'amqpUrl' | 'amqpUrls' | 'hubs'>, secret: string | undefined): Result<Config['hubs']> {
  if (secret === undefined) return ok(c.hubs);
  const checked = BrokerUserSecret.safeParse(secret);
  if (!checked.success) return fail('USAGE', `LGSP_BROKER_USER_SECRET: ${checked.error.issues[0]!.message}`);
  const hubs: Config['hubs'] = [];
  for (const h of c.hubs) {
    const nodes = brokerNodes(c, h.id);
    const bad = nodes.find((u) => !AmqpUrl.safeParse(u).success || !URL.canParse(u));
    if (bad !== undefined) return fail('USAGE', `hub ${h.id}: its broker ${redactUrl(bad)} is not an amqp:// or amqps:// URL`);
    const own = nodes.map((u) => withCredentials(u, brokerUserOf(h.id), brokerPasswordOf(checked.data, h.id)));
    const { amqpUrl: _url, amqpUrls: _urls, ...rest } = h;
    hubs.push(own.length === 1 ? { ...rest, amqpUrl: own[0]! } : { ...rest, amqpUrls: own });
  }
  return ok(hubs);
}
