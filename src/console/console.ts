// The web console at /admin: server-rendered pages over the same ledger and hub functions as the
// admin API, in English and Vietnamese. Sessions, the CSRF token and the origin check are the
// frame's (frame.ts); actions are plain form posts (operator role), audited like their API twins.
import type { FastifyInstance } from 'fastify';
import type { AdminRole, Config } from '../config.js';
import type { NationalAgency, Registry } from '../agency/registry.js';
import type { Ledger } from '../ledger/store.js';
import { certState } from '../admin/trust-changes.js';
import { documentDetail } from '../admin/document-detail.js';
import { expiryThreshold, type WatchedCert } from '../admin/expiry.js';
import type { AdminTokens } from '../http/auth.js';
import type { HubMetrics } from '../metrics/hub-metrics.js';
import type { QueueStat } from '../bus/queue-stats.js';
import type { JournalView } from '../bus/journal-index.js';
import type { Lanes } from '../admin/lanes.js';
import { toCsv } from '../admin/dead-letters.js';
import type { DirectoryActions } from '../admin/directory-actions.js';
import { isClosed, oldCodesOf } from '../agency/directory.js';
import { html, type Html } from './html.js';
import { fieldsOf, openConsoleFrame, type ConsoleFrame } from './frame.js';
import { label, valueLabel, type Lang, type Label } from './i18n.js';
import { formatMoment } from '../stats/calendar.js';
import type { ExchangeReports } from '../admin/exchange-report.js';
import { statsPages } from './stats-pages.js';

export interface ConsoleDeps {
  hubId: string;
  admins: AdminTokens;
  ledger: Ledger;
  registry: Registry;
  queues: () => Promise<QueueStat[]>;
  /** Every hub's queues on the broker (management API), or null. */
  allQueues: () => Promise<QueueStat[] | null>;
  links: () => { neighbour: string; up: boolean }[];
  watched: () => Promise<WatchedCert[]>;
  summary: HubMetrics['summary'];
  deadLetterAction: (id: number, action: 'replay' | 'delete', actor: string) => Promise<boolean>;
  journal: JournalView;
  lanes: Lanes;
  clock: () => Date;
  /** The national directory as this hub holds it (national/directory.ts). */
  nationalDirectory: (query: string, limit: number) => { entries: NationalAgency[]; total: number; fetchedAt: string | null };
  /** The link to the national axis, at the gateway hub only. */
  upstream: () => { endpoint: string; systemId: string; up: boolean; lastAnswerAt: string | null; lastPollAt: string | null; lastError: { code: string; message: string } | null } | null;
  /** The exchange statistics and the overdue list (issue 20). */
  reports: ExchangeReports;
  /** Closing an agency into its successor (security role), as the admin API does. */
  directory: DirectoryActions;
}

export async function adminConsole(app: FastifyInstance, deps: ConsoleDeps & { sessions: Config['http']['console'] }): Promise<void> {
  const frame = await openConsoleFrame(app, deps);
  const stats = statsPages(app, frame, deps);
  overviewPages(app, frame, deps, stats.weekChart);
  queuePages(app, frame, deps);
  deadLetterPages(app, frame, deps);
  documentPages(app, frame, deps);
  agencyPages(app, frame, deps);
}

/** The dashboard, certificates, agencies and the audit log. */
function overviewPages(app: FastifyInstance, { view, t }: ConsoleFrame, deps: ConsoleDeps, weekChart: (lang: Lang) => Promise<Html>): void {
  app.get('/admin', view('dashboard', async (lang) => {
    const l = t(lang);
    const [summary, queues, certs, chart] = await Promise.all([deps.summary(), deps.queues(), deps.watched(), weekChart(lang)]);
    const now = deps.clock();
    const expiring = certs.filter((c) => expiryThreshold(c.notAfter, now) !== null);
    return html`<div class="cards">
<div class="card"><div>${l('throughput')} · ${l('accepted')}</div><div class="big ok" data-testid="accepted">${summary.accepted}</div></div>
<div class="card"><div>${l('rejected')}</div><div class="big bad" data-testid="rejected">${summary.rejected}</div></div>
<div class="card"><div>${l('links')}</div>${deps.links().map((k) => html`<div>${k.neighbour}: <span class="${k.up ? 'ok' : 'bad'}">${l(k.up ? 'up' : 'down')}</span></div>`)}</div>
${upstreamCard(l, deps.upstream())}</div>
<h2>${l('last7Days')}</h2>${chart}
<h2>${l('rejectionsByCode')}</h2>${summary.byCode.length === 0 ? html`<p>${l('none')}</p>`
      : html`<table><tr><th>${l('reason')}</th><th>#</th></tr>${summary.byCode.map((r) => html`<tr><td>${r.code}</td><td>${r.count}</td></tr>`)}</table>`}
<h2>${l('queueDepths')}</h2>${queueTable(lang, queues)}
<h2>${l('expiringSoon')}</h2>${expiring.length === 0 ? html`<p>${l('none')}</p>`
      : html`<table><tr><th>${l('agency')}</th><th>${l('subject')}</th><th>${l('notAfter')}</th></tr>${expiring.map((c) => html`<tr><td>${c.agency ?? c.kind}</td><td>${c.subject}</td><td>${formatMoment(c.notAfter)}</td></tr>`)}</table>`}`;
  }));

  app.get('/admin/certificates', view('certificates', async (lang) => {
    const l = t(lang);
    const now = deps.clock();
    const certs = await deps.ledger.certificates();
    return html`<table><tr><th>${l('agency')}</th><th>${l('state')}</th><th>${l('notAfter')}</th><th>${l('subject')}</th><th>SHA-256</th></tr>
${certs.map((c) => html`<tr><td>${c.agency}</td><td>${valueLabel(lang, certState(c, now))}</td><td>${formatMoment(c.notAfter)}</td><td>${c.subject}</td><td><code>${c.fingerprint.slice(0, 16)}…</code></td></tr>`)}</table>`;
  }));

  app.get('/admin/audit', view('audit', async (lang) => {
    const l = t(lang);
    const items = await deps.ledger.auditLog(200);
    return html`<table><tr><th>${l('at')}</th><th>${l('actor')}</th><th>${l('action')}</th><th>${l('detail')}</th></tr>
${items.map((e) => html`<tr><td>${formatMoment(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td><code>${JSON.stringify(e.detail)}</code></td></tr>`)}</table>`;
  }));
}

/** The dashboard's card for the link to the national axis (at the gateway hub). */
function upstreamCard(l: (key: Label) => string, u: ReturnType<ConsoleDeps['upstream']>) {
  return u === null ? '' : html`<div class="card" data-testid="upstream"><div>${l('nationalAxis')} · ${u.systemId}</div>
<div><span class="${u.up ? 'ok' : 'bad'}">${l(u.up ? 'up' : 'down')}</span> · ${u.endpoint}</div>
<div>${l('lastAnswer')}: ${u.lastAnswerAt ?? '—'}</div><div>${l('lastPoll')}: ${u.lastPollAt ?? '—'}</div>
${u.lastError === null ? '' : html`<div>${l('lastError')}: <code>${u.lastError.code}</code> ${u.lastError.message}</div>`}</div>`;
}

/** Queues, and one working queue's messages from the journal with its lane's pause and resume. */
function queuePages(app: FastifyInstance, { view, form, who, langOf, t }: ConsoleFrame, deps: ConsoleDeps): void {
  app.get('/admin/queues', view('queues', async (lang) => queueTable(lang, (await deps.allQueues()) ?? await deps.queues(), deps.journal.queues)));

  // One working queue: its messages from the journal (nothing is taken from the queue), and
  // the operator's pause/resume of its lane.
  app.get('/admin/queues/:name', view('queues', async (lang, request, _admin, token) => {
    const l = t(lang);
    const name = fieldsOf(request.params).name ?? '';
    if (!deps.journal.queues.includes(name) || !deps.lanes.consumers.has(name)) return html`<p>404: ${name}</p>`;
    const q = fieldsOf(request.query);
    const docId = q.docId || undefined;
    const agency = q.agency || undefined;
    const reason = q.reason || undefined;
    const found = deps.journal.index.browse({ queue: name, limit: 200, ...(docId ? { docId } : {}), ...(agency ? { agency } : {}), ...(reason ? { reason } : {}) });
    const paused = (await deps.lanes.paused()).has(name);
    return html`<h2><code>${name}</code> · <span class="${paused ? 'bad' : 'ok'}" data-testid="lane">${l(paused ? 'paused' : 'running')}</span></h2>
<form class="inline" method="post" action="/admin/queues/${name}/${paused ? 'resume' : 'pause'}">${token}<button>${l(paused ? 'resume' : 'pause')}</button></form>
<form method="get"><label>${l('docId')} <input name="docId" value="${docId ?? ''}" size="34"></label> <label>${l('agency')} <input name="agency" value="${agency ?? ''}"></label>
<label>${l('reason')} <input name="reason" value="${reason ?? ''}"></label> <button>${l('filter')}</button></form>
<p>${found.matched}${deps.journal.caughtUp() ? '' : ' …'}</p>
<table data-testid="messages"><tr><th>${l('at')}</th><th>${l('docId')}</th><th>${l('sender')}</th><th>${l('recipients')}</th><th>${l('subject')}</th><th>${l('reason')}</th><th>${l('bytes')}</th></tr>
${found.items.map((m) => html`<tr><td>${formatMoment(m.at)}</td><td>${m.docId ? html`<a href="/admin/documents/${m.docId}">${m.docId}</a>` : ''}</td><td>${m.sender ?? ''}</td>
<td>${m.recipients.join(', ')}</td><td>${m.subject ?? m.statusCode ?? ''}</td><td>${m.reasonCode ?? ''}</td><td>${m.bytes}</td></tr>`)}</table>`;
  }));
  for (const action of ['pause', 'resume'] as const) {
    app.post(`/admin/queues/:name/${action}`, form, async (request, reply) => {
      const admin = (await who(request))!;
      const name = fieldsOf(request.params).name ?? '';
      const back = `/admin/queues/${encodeURIComponent(name)}`;
      const done = admin.roles.includes('operator') && (await deps.lanes.act(name, action, admin.name)).ok;
      return reply.redirect(done ? back : `${back}?flash=${encodeURIComponent(label(langOf(request, reply), 'notAllowed'))}`);
    });
  }
}

/** Dead letters: list, CSV, replay and delete (operator). */
function deadLetterPages(app: FastifyInstance, { view, form, who, langOf, t }: ConsoleFrame, deps: ConsoleDeps): void {
  app.get('/admin/dead-letters', view('deadLetters', async (lang, request, _admin, token) => {
    const l = t(lang);
    const reason = fieldsOf(request.query).reason || undefined;
    const { items, total } = await deps.ledger.deadLetters({ limit: 200, offset: 0, ...(reason ? { reason } : {}) });
    return html`<form method="get"><label>${l('reason')} <input name="reason" value="${reason ?? ''}"></label> <button>${l('filter')}</button>
<a href="/admin/dead-letters.csv${reason ? `?reason=${encodeURIComponent(reason)}` : ''}">CSV</a></form><p>${total}</p>
<table><tr><th>${l('at')}</th><th>${l('docId')}</th><th>${l('sender')}</th><th>${l('reason')}</th><th></th></tr>
${items.map((d) => html`<tr data-dead-letter="${d.id}"><td>${formatMoment(d.deadAt)}</td><td><a href="/admin/documents/${d.docId}">${d.docId}</a></td><td>${d.sender}</td>
<td><strong>${d.reasonCode}</strong><br><small>${d.reason}</small></td>
<td><form class="inline" method="post" action="/admin/dead-letters/${d.id}/replay">${token}<button>${l('replay')}</button></form>
<form class="inline" method="post" action="/admin/dead-letters/${d.id}/delete">${token}<button>${l('delete')}</button></form></td></tr>`)}</table>`;
  }));
  // The export for a browser, which has the session cookie and not the API's bearer token.
  app.get('/admin/dead-letters.csv', async (request, reply) => {
    if ((await who(request)) === null) return reply.redirect('/admin/login');
    const reason = fieldsOf(request.query).reason || undefined;
    const { items } = await deps.ledger.deadLetters({ limit: 1000, offset: 0, ...(reason ? { reason } : {}) });
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="dead-letters.csv"').send(toCsv(items));
  });
  for (const action of ['replay', 'delete'] as const) {
    app.post(`/admin/dead-letters/:id/${action}`, form, async (request, reply) => {
      const admin = (await who(request))!;
      const lang = langOf(request, reply);
      const operator: AdminRole = 'operator';
      if (!admin.roles.includes(operator)) return reply.redirect(`/admin/dead-letters?flash=${encodeURIComponent(label(lang, 'notAllowed'))}`);
      const id = Number(fieldsOf(request.params).id);
      const done = Number.isInteger(id) && await deps.deadLetterAction(id, action, admin.name);
      return reply.redirect(`/admin/dead-letters?flash=${encodeURIComponent(`${label(lang, action)} #${id}: ${done ? label(lang, 'done') : '404'}`)}`);
    });
  }
}

/** The agencies of the network with successors and closed codes, and the form that closes one (security role). */
function agencyPages(app: FastifyInstance, { view, form, who, langOf, t }: ConsoleFrame, deps: ConsoleDeps): void {
  app.get('/admin/agencies', view('agencies', async (lang, request, _admin, token) => {
    const l = t(lang);
    const now = deps.clock();
    const query = fieldsOf(request.query).q ?? '';
    const national = deps.nationalDirectory(query, 500);
    const agencies = [...deps.registry.agencies.values()].sort((a, b) => a.code.localeCompare(b.code));
    return html`<table data-testid="agencies"><tr><th>${l('code')}</th><th>${l('name')}</th><th>${l('hub')}</th><th>${l('successor')}</th><th>${l('oldCodes')}</th></tr>
${agencies.map((a) => html`<tr data-agency="${a.code}"><td>${a.code}</td><td>${a.name}</td><td>${a.hubId}</td>
<td>${a.successor === undefined ? '' : html`<span class="${isClosed(a, now) ? 'bad' : ''}">${l(isClosed(a, now) ? 'closedInto' : 'closesInto')} ${a.successor.code}</span><br><small>${l('since')} ${a.successor.from ?? ''}</small>`}</td>
<td>${oldCodesOf(deps.registry, a.code).join(', ')}</td></tr>`)}</table>
<h2>${l('closeAgency')}</h2>
<form method="post" action="/admin/agencies/close">${token}<label>${l('code')} <input name="code" required></label>
<label>${l('successor')} <input name="successor" required></label> <label>${l('since')} <input name="from" placeholder="2025-07-01T00:00:00+07:00"></label>
<button>${l('closeAgency')}</button></form>
<h2>${l('nationalDirectory')}</h2>${deps.registry.upstreams.size === 0 ? html`<p>${l('notLinked')}</p>` : html`
<form method="get"><label>${l('search')} <input name="q" value="${query}"></label> <button>${l('search')}</button></form>
<p>${national.total} · ${l('readAt')} ${national.fetchedAt ?? '—'}</p>
<table data-testid="national-directory"><tr><th>${l('code')}</th><th>${l('name')}</th><th>${l('parentCode')}</th><th>${l('mail')}</th><th>${l('oldCode')}</th></tr>
${national.entries.map((e) => html`<tr><td>${e.code}</td><td>${e.name}</td><td>${e.pid}</td><td>${e.mail}</td><td>${e.oldCode}</td></tr>`)}</table>`}`;
  }));
  app.post('/admin/agencies/close', form, async (request, reply) => {
    const admin = (await who(request))!;
    const lang = langOf(request, reply);
    if (!admin.roles.includes('security')) return reply.redirect(`/admin/agencies?flash=${encodeURIComponent(label(lang, 'notAllowed'))}`);
    const body = fieldsOf(request.body);
    const from = body.from?.trim() || undefined;
    const closed = from !== undefined && Number.isNaN(Date.parse(from))
      ? { ok: false as const, error: { code: 'SCHEMA_INVALID', message: `"${from}" is not an ISO time` } }
      : await deps.directory.close(admin.name, body.code?.trim() ?? '', body.successor?.trim() ?? '', from);
    const flash = closed.ok ? `${label(lang, 'done')}: ${closed.value.code} → ${closed.value.successor}` : `${closed.error.code}: ${closed.error.message}`;
    return reply.redirect(`/admin/agencies?flash=${encodeURIComponent(flash)}`);
  });
}

/** Document search, and one document's detail with its timeline. */
function documentPages(app: FastifyInstance, { view, who, t }: ConsoleFrame, deps: ConsoleDeps): void {
  const documentList = view('documents', async (lang, request) => {
    const l = t(lang);
    const q = fieldsOf(request.query);
    const organ = q.organ || undefined;
    const docId = q.docId || undefined;
    const { items, total } = await deps.ledger.searchDocuments({ limit: 200, offset: 0, ...(organ ? { organ } : {}) });
    return html`<form method="get" data-testid="search"><label>${l('docId')} <input name="docId" value="${docId ?? ''}" size="34"></label>
<label>${l('agency')} <input name="organ" value="${organ ?? ''}"></label> <button>${l('search')}</button></form><p>${total}</p>
<table><tr><th>${l('at')}</th><th>${l('docId')}</th><th>${l('role')}</th><th>${l('sender')}</th><th>${l('subject')}</th></tr>
${items.map((d) => html`<tr><td>${formatMoment(d.firstSeen)}</td><td><a href="/admin/documents/${d.docId}">${d.docId}</a></td><td>${valueLabel(lang, d.role)}${d.rejected ? html` <span class="bad">✗</span>` : ''}</td>
<td>${d.sender ?? ''}</td><td>${d.subject ?? ''}</td></tr>`)}</table>`;
  });
  // A doc id typed in the search box opens that document's page.
  app.get('/admin/documents', async (request, reply) => {
    const docId = fieldsOf(request.query).docId?.trim().toLowerCase();
    if (docId !== undefined && /^[0-9a-f]{32}$/.test(docId) && (await who(request)) !== null) return reply.redirect(`/admin/documents/${docId}`);
    return documentList(request, reply);
  });

  app.get('/admin/documents/:docId', view('documents', async (lang, request) => {
    const l = t(lang);
    const docId = fieldsOf(request.params).docId ?? '';
    const d = await documentDetail(deps.ledger, docId);
    if (d === null) return html`<p>404: ${docId}</p>`;
    return html`<h2><code>${docId}</code></h2>${d.recipients ? html`<p>${l('sender')}: ${d.sender} · ${l('subject')}: ${d.subject ?? ''}</p>
<h3>${l('recipients')}</h3><table><tr><th>${l('agency')}</th><th>${l('delivery')}</th><th>${l('state')}</th></tr>
${d.recipients.map((r) => html`<tr><td>${r.organId}</td><td>${valueLabel(lang, r.delivery)}</td><td>${r.status ?? ''}</td></tr>`)}</table>` : ''}
${d.mailbox.length > 0 ? html`<h3>${l('recipients')}</h3><ul>${d.mailbox.map((m) => html`<li>${m.agency}: ${formatMoment(m.receivedAt)}${m.ackedAt ? ` · ${l('ackedAt')} ${formatMoment(m.ackedAt)}` : ` · ${l('unacked')}`}</li>`)}</ul>` : ''}
<h3>${l('timeline')}</h3><ol class="timeline" data-testid="timeline">${d.timeline.map((h) => html`<li data-hub="${h.hub}">
<strong>${l('hub')} ${h.hub}</strong> · +${h.sinceFirstMs} ms · <span class="${h.verdict === 'accepted' ? 'ok' : 'bad'}">${l(h.verdict === 'accepted' ? 'hopAccepted' : 'hopRejected')}</span>${h.ms === undefined ? '' : ` · ${h.ms} ms`}
<br><small>${Object.entries(h.checks).map(([k, v]) => `${k}: ${v}`).join(' · ')}</small></li>`)}</ol>`;
  }));
}


/** Queue figures; the names in `browsable` link to their message view. */
function queueTable(lang: Lang, queues: QueueStat[], browsable: readonly string[] = []): Html {
  const l = (k: Label) => label(lang, k);
  const rate = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
  return html`<table data-testid="queues"><tr><th>${l('queue')}</th><th>${l('messages')}</th><th>${l('unacked')}</th><th>${l('consumers')}</th><th>${l('publishRate')}</th><th>${l('deliverRate')}</th></tr>
${queues.map((q) => html`<tr><td>${browsable.includes(q.queue) ? html`<a href="/admin/queues/${q.queue}">${q.queue}</a>` : q.queue}</td><td>${q.messages}</td><td>${q.unacked ?? '–'}</td><td>${q.consumers}</td><td>${rate(q.publishPerSec)}</td><td>${rate(q.deliverPerSec)}</td></tr>`)}</table>`;
}
