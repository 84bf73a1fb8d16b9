// The hub's metrics for Prometheus (prom-client, one registry per hub since a process may run
// several): documents in and out by stage and result, rejections by code, hop check latency,
// queue depths and consumers, link state, certificate expiry, the process's CPU time. GET /metrics (http/metrics.ts)
// and the console's dashboard read them; the pipeline writes them through its HopMetrics port.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { secondsToExpiry, type WatchedCert } from '../admin/expiry.js';
import type { QueueStat } from '../bus/queue-stats.js';
import type { HopMetrics } from '../pipeline/hop-pipeline.js';

export interface MetricsDeps {
  hubId: string;
  watched: () => Promise<WatchedCert[]>;
  queues: () => Promise<QueueStat[]>;
  links: () => { neighbour: string; up: boolean }[];
  clock: () => Date;
  /** The link to the national axis at the gateway hub (national/connector.ts), or null. */
  upstream?: () => { up: boolean; lastPollAt: string | null; lastAnswerAt: string | null } | null;
  /** Documents delivered and not acknowledged in time (issue 20). */
  overdue: () => Promise<readonly { agency: string }[]>;
}

export interface HubMetrics {
  registry: Registry;
  hop: HopMetrics;
  /** An agency call refused with RATE_LIMITED. */
  rateLimited(agency: string): void;
  /** A call to the national axis and its outcome (ok, refused, unauthenticated, unavailable). */
  upstreamCall(call: string, result: string): void;
  /** Totals since start, for the console's dashboard. */
  summary(): Promise<{ accepted: number; rejected: number; byCode: { code: string; count: number }[] }>;
}

export function createHubMetrics(deps: MetricsDeps): HubMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ hub: deps.hubId });
  const documents = new Counter({ name: 'lgsp_documents_total', help: 'Packages handled, by stage (submit, ingress, deliver) and result.', labelNames: ['stage', 'result'], registers: [registry] });
  const rejections = new Counter({ name: 'lgsp_rejections_total', help: 'Packages refused, by error code.', labelNames: ['code'], registers: [registry] });
  const limited = new Counter({ name: 'lgsp_rate_limited_total', help: 'Agency calls refused with RATE_LIMITED, by agency.', labelNames: ['agency'], registers: [registry] });
  const checkCpu = new Counter({ name: 'lgsp_hop_check_cpu_seconds_total', help: 'CPU time of the hop checks run on the event loop (packages under hopCheck.inlineBelowBytes and inlineBelowMarkup).', registers: [registry] });
  const checks = new Counter({ name: 'lgsp_hop_checks_total', help: 'Hop checks, by where they ran: inline (the event loop) or pool (a worker thread).', labelNames: ['place'], registers: [registry] });
  const latency = new Histogram({
    name: 'lgsp_hop_check_seconds', help: 'Time of the hop check.', registers: [registry],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
  });
  new Gauge({
    name: 'lgsp_queue_messages', help: 'Messages ready in each of the hub\'s queues.', labelNames: ['queue'], registers: [registry],
    async collect() {
      this.reset();
      for (const q of await deps.queues()) this.set({ queue: q.queue }, q.messages);
    },
  });
  new Gauge({
    name: 'lgsp_link_up', help: '1 when the link to a neighbour hub is connected.', labelNames: ['neighbour'], registers: [registry],
    collect() {
      this.reset();
      for (const l of deps.links()) this.set({ neighbour: l.neighbour }, l.up ? 1 : 0);
    },
  });
  // The link to the national axis (docs/national-axis.md); its outbox depth is lgsp_queue_messages{queue="lgsp.<hub>.out.national"}.
  const upstreamCalls = new Counter({ name: 'lgsp_upstream_calls_total', help: 'Calls to the national axis, by call and result (ok, refused, unauthenticated, unavailable).', labelNames: ['call', 'result'], registers: [registry] });
  const upstream = () => deps.upstream?.() ?? null;
  new Gauge({
    name: 'lgsp_upstream_up', help: '1 when the national axis answered the last call with our credentials taken.', registers: [registry],
    collect() {
      this.reset();
      const u = upstream();
      if (u !== null) this.set(u.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lgsp_upstream_last_poll_timestamp_seconds', help: 'When the last complete poll of the national axis ended (Unix seconds).', registers: [registry],
    collect() {
      this.reset();
      const at = upstream()?.lastPollAt;
      if (at != null) this.set(Date.parse(at) / 1000);
    },
  });
  new Gauge({
    name: 'lgsp_upstream_outbox_messages', help: 'Packages waiting in the national outbox.', registers: [registry],
    async collect() {
      this.reset();
      if (upstream() === null) return;
      const outbox = (await deps.queues()).find((q) => q.queue.endsWith('.out.national'));
      if (outbox !== undefined) this.set(outbox.messages);
    },
  });
  new Gauge({
    name: 'lgsp_certificate_expiry_seconds', help: 'Seconds until the certificate expires (negative once expired).',
    labelNames: ['kind', 'agency', 'fingerprint', 'subject'], registers: [registry],
    async collect() {
      this.reset();
      const now = deps.clock();
      for (const c of await deps.watched()) {
        this.set({ kind: c.kind, agency: c.agency ?? '', fingerprint: c.fingerprint, subject: c.subject }, secondsToExpiry(c.notAfter, now));
      }
    },
  });
  new Gauge({
    name: 'lgsp_documents_overdue', help: 'Documents delivered to an agency\'s mailbox and not acknowledged after alerts.unacknowledgedAfter.',
    labelNames: ['agency'], registers: [registry],
    async collect() {
      this.reset();
      const byAgency = new Map<string, number>();
      for (const o of await deps.overdue()) byAgency.set(o.agency, (byAgency.get(o.agency) ?? 0) + 1);
      for (const [agency, n] of byAgency) this.set({ agency }, n);
    },
  });
  // Per-document CPU cost, for sizing (docs/scale-out.md): its rate over documents handled.
  new Gauge({
    name: 'lgsp_process_cpu_seconds', help: 'CPU time of the process since it started (process.cpuUsage), by mode; a process may run several hubs.',
    labelNames: ['mode'], registers: [registry],
    collect() {
      const used = process.cpuUsage();
      this.set({ mode: 'user' }, used.user / 1e6);
      this.set({ mode: 'system' }, used.system / 1e6);
    },
  });
  return {
    registry,
    rateLimited: (agency) => limited.inc({ agency }),
    upstreamCall: (call, result) => upstreamCalls.inc({ call, result }),
    async summary() {
      const docs = (await documents.get()).values;
      const sum = (result: string) => docs.filter((v) => v.labels.result === result).reduce((a, v) => a + v.value, 0);
      const byCode = (await rejections.get()).values.map((v) => ({ code: String(v.labels.code), count: v.value })).sort((a, b) => b.count - a.count);
      return { accepted: sum('accepted'), rejected: sum('rejected'), byCode };
    },
    hop: {
      accepted: (stage) => documents.inc({ stage, result: 'accepted' }),
      rejected: (stage, code) => { documents.inc({ stage, result: 'rejected' }); rejections.inc({ code }); },
      duplicate: (stage) => documents.inc({ stage, result: 'duplicate' }),
      checked: (seconds, cpuSeconds) => {
        latency.observe(seconds);
        checks.inc({ place: cpuSeconds === undefined ? 'pool' : 'inline' });
        if (cpuSeconds !== undefined) checkCpu.inc(cpuSeconds);
      },
    },
  };
}
