// The web console at /admin: server-rendered pages over the same ledger and hub functions as the
// admin API. Sign-in with an admin token opens a session held by the hub (sessions.ts); its
// cookie is HttpOnly, SameSite=Strict and Secure behind TLS. Actions are plain form posts
// (operator role), audited like their API twins. SameSite does not stop a sibling subdomain or
// another port of the same host, so every post must also come from this hub's own origin
// (Origin, else Referer) and carry a CSRF token bound to the session (@fastify/csrf-protection).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie, { type CookieSerializeOptions } from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import type { AdminRole, Config } from '../config.js';
import type { Registry } from '../agency/registry.js';
import type { Ledger } from '../ledger/store.js';
import { certState } from '../admin/trust-changes.js';
import { documentDetail } from '../admin/document-detail.js';
import { expiryThreshold, type WatchedCert } from '../admin/expiry.js';
import { hashApiKey, type AdminIdentity, type AdminTokens } from '../http/auth.js';
import { fail } from '../errors.js';
import { replyError } from '../http/errors.js';
import type { HubMetrics } from '../metrics/hub-metrics.js';
import type { QueueStat } from '../bus/queue-stats.js';
import type { JournalView } from '../bus/journal-index.js';
import { actOnLane, type Lanes } from '../admin/lanes.js';
import { toCsv } from '../admin/dead-letters.js';
import { html, page, STYLE, type Html } from './html.js';
import { createSessions } from './sessions.js';
import { label, LANGS, type Lang, type Label } from './i18n.js';

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
}

const SESSION_COOKIE = 'lgsp_session';
const CSRF_COOKIE = 'lgsp_csrf';
const LANG_COOKIE = 'lgsp_lang';

/** The value of a Referer, as an origin (undefined if it is not a URL). */
const originOf = (url: string | undefined) => (url !== undefined && URL.canParse(url) ? new URL(url).origin : undefined);

export async function adminConsole(app: FastifyInstance, deps: ConsoleDeps & { sessions: Config['http']['console'] }): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))));
  // A malformed percent-encoding in a cookie leaves that cookie's text as it came (never an error).
  await app.register(cookie);
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie', cookieKey: CSRF_COOKIE, cookieOpts: { path: '/admin', httpOnly: true, sameSite: 'strict' },
    // Each token is bound to the session it was made for: it dies with that session.
    getUserInfo: (request) => request.cookies[SESSION_COOKIE] ?? '',
    csrfOpts: { hmacKey: randomBytes(32) },
  });
  const sessions = createSessions(deps.sessions.sessionTtlMs, () => deps.clock().getTime());
  const cookieAttrs = (request: FastifyRequest): CookieSerializeOptions => ({
    path: '/admin', httpOnly: true, sameSite: 'strict', secure: deps.sessions.secureCookie || request.protocol === 'https',
  });

  const langOf = (request: FastifyRequest, reply: FastifyReply): Lang => {
    const asked = (request.query as Record<string, string | undefined>).lang;
    if (asked !== undefined && (LANGS as readonly string[]).includes(asked)) {
      reply.setCookie(LANG_COOKIE, asked, cookieAttrs(request));
      return asked as Lang;
    }
    return request.cookies[LANG_COOKIE] === 'en' ? 'en' : 'vi';
  };
  const who = (request: FastifyRequest): AdminIdentity | null => {
    const id = request.cookies[SESSION_COOKIE];
    return id === undefined ? null : sessions.find(id);
  };
  /**
   * Before a console post's body is read: it must come from this hub's own pages (a browser
   * always sends Origin on a form post), and, but for sign-in, from a live session.
   */
  const guard = (needsSession: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    const claimed = request.headers.origin ?? originOf(request.headers.referer);
    const own = `${request.protocol}://${request.host}`;
    if (claimed !== own) {
      return replyError(reply, fail('FORBIDDEN', `a console form must be posted from this hub's own pages (${own}), not from ${claimed ?? 'an unknown origin'}`).error);
    }
    if (needsSession && who(request) === null) return reply.redirect('/admin/login');
  };
  const form = { onRequest: guard(true), preHandler: app.csrfProtection };
  /** A page for a signed-in admin; everyone else goes to the sign-in form. */
  const view = (title: Label, render: (lang: Lang, request: FastifyRequest, admin: AdminIdentity, token: Html) => Promise<Html>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const lang = langOf(request, reply);
      const admin = who(request);
      if (admin === null) return reply.redirect('/admin/login');
      const flash = (request.query as Record<string, string | undefined>).flash;
      const token = html`<input type="hidden" name="_csrf" value="${reply.generateCsrf({ ...cookieAttrs(request), userInfo: request.cookies[SESSION_COOKIE]! })}">`;
      return reply.type('text/html; charset=utf-8').send(page(lang, deps.hubId, title, await render(lang, request, admin, token), token, flash));
    };
  const t = (lang: Lang) => (k: Label) => label(lang, k);

  // The stylesheet is a file of its own: the Content-Security-Policy allows no inline style.
  app.get('/admin/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=3600').send(STYLE));

  app.get('/admin/login', async (request, reply) => {
    const lang = langOf(request, reply);
    const bad = (request.query as Record<string, string | undefined>).error !== undefined;
    return reply.type('text/html; charset=utf-8').send('<!doctype html>' + html`<html lang="${lang}"><head><meta charset="utf-8"><title>${label(lang, 'login')}</title>
<link rel="stylesheet" href="/admin/console.css"></head>
<body class="login"><h1>${label(lang, 'title')}</h1><p>${label(lang, 'hub')} ${deps.hubId}</p>
${bad ? html`<p role="alert" class="bad">${label(lang, 'badToken')}</p>` : ''}
<form method="post" action="/admin/login"><label>${label(lang, 'token')} <input name="token" type="password" autocomplete="off" required></label>
<button type="submit">${label(lang, 'login')}</button></form></body></html>`.text);
  });
  app.post('/admin/login', { onRequest: guard(false) }, async (request, reply) => {
    const token = String((request.body as Record<string, unknown> | undefined)?.token ?? '');
    const admin = deps.admins.get(hashApiKey(token));
    if (admin === undefined) return reply.redirect('/admin/login?error=1');
    const id = sessions.open(admin);
    return reply.setCookie(SESSION_COOKIE, id, { ...cookieAttrs(request), maxAge: Math.floor(deps.sessions.sessionTtlMs / 1000) }).redirect('/admin');
  });
  app.post('/admin/logout', form, async (request, reply) => {
    sessions.close(request.cookies[SESSION_COOKIE]!);
    return reply.clearCookie(SESSION_COOKIE, cookieAttrs(request)).clearCookie(CSRF_COOKIE, cookieAttrs(request)).redirect('/admin/login');
  });

  app.get('/admin', view('dashboard', async (lang) => {
    const l = t(lang);
    const [summary, queues, certs] = await Promise.all([deps.summary(), deps.queues(), deps.watched()]);
    const now = deps.clock();
    const expiring = certs.filter((c) => expiryThreshold(c.notAfter, now) !== null);
    return html`<div class="cards">
<div class="card"><div>${l('throughput')} · ${l('accepted')}</div><div class="big ok" data-testid="accepted">${summary.accepted}</div></div>
<div class="card"><div>${l('rejected')}</div><div class="big bad" data-testid="rejected">${summary.rejected}</div></div>
<div class="card"><div>${l('links')}</div>${deps.links().map((k) => html`<div>${k.neighbour}: <span class="${k.up ? 'ok' : 'bad'}">${l(k.up ? 'up' : 'down')}</span></div>`)}</div></div>
<h2>${l('rejectionsByCode')}</h2>${summary.byCode.length === 0 ? html`<p>${l('none')}</p>`
      : html`<table><tr><th>${l('reason')}</th><th>#</th></tr>${summary.byCode.map((r) => html`<tr><td>${r.code}</td><td>${r.count}</td></tr>`)}</table>`}
<h2>${l('queueDepths')}</h2>${queueTable(lang, queues)}
<h2>${l('expiringSoon')}</h2>${expiring.length === 0 ? html`<p>${l('none')}</p>`
      : html`<table><tr><th>${l('agency')}</th><th>${l('subject')}</th><th>${l('notAfter')}</th></tr>${expiring.map((c) => html`<tr><td>${c.agency ?? c.kind}</td><td>${c.subject}</td><td>${c.notAfter.toISOString()}</td></tr>`)}</table>`}`;
  }));

  app.get('/admin/queues', view('queues', async (lang) => queueTable(lang, (await deps.allQueues()) ?? await deps.queues(), deps.journal.queues)));

  // One working queue: its messages from the journal (nothing is taken from the queue), and
  // the operator's pause/resume of its lane.
  app.get('/admin/queues/:name', view('queues', async (lang, request, _admin, token) => {
    const l = t(lang);
    const name = (request.params as { name: string }).name;
    const lane = deps.lanes.consumers.get(name);
    if (!deps.journal.queues.includes(name) || lane === undefined) return html`<p>404: ${name}</p>`;
    const q = request.query as Record<string, string | undefined>;
    const docId = q.docId || undefined;
    const agency = q.agency || undefined;
    const reason = q.reason || undefined;
    const found = deps.journal.index.browse({ queue: name, limit: 200, ...(docId ? { docId } : {}), ...(agency ? { agency } : {}), ...(reason ? { reason } : {}) });
    const paused = lane.paused();
    return html`<h2><code>${name}</code> · <span class="${paused ? 'bad' : 'ok'}" data-testid="lane">${l(paused ? 'paused' : 'running')}</span></h2>
<form class="inline" method="post" action="/admin/queues/${name}/${paused ? 'resume' : 'pause'}">${token}<button>${l(paused ? 'resume' : 'pause')}</button></form>
<form method="get"><label>${l('docId')} <input name="docId" value="${docId ?? ''}" size="34"></label> <label>${l('agency')} <input name="agency" value="${agency ?? ''}"></label>
<label>${l('reason')} <input name="reason" value="${reason ?? ''}"></label> <button>${l('filter')}</button></form>
<p>${found.matched}${deps.journal.caughtUp() ? '' : ' …'}</p>
<table data-testid="messages"><tr><th>${l('at')}</th><th>${l('docId')}</th><th>${l('sender')}</th><th>${l('recipients')}</th><th>${l('subject')}</th><th>${l('reason')}</th><th>bytes</th></tr>
${found.items.map((m) => html`<tr><td>${m.at}</td><td>${m.docId ? html`<a href="/admin/documents/${m.docId}">${m.docId}</a>` : ''}</td><td>${m.sender ?? ''}</td>
<td>${m.recipients.join(', ')}</td><td>${m.subject ?? m.statusCode ?? ''}</td><td>${m.reasonCode ?? ''}</td><td>${m.bytes}</td></tr>`)}</table>`;
  }));
  for (const action of ['pause', 'resume'] as const) {
    app.post(`/admin/queues/:name/${action}`, form, async (request, reply) => {
      const admin = who(request)!;
      const name = (request.params as { name: string }).name;
      const back = `/admin/queues/${encodeURIComponent(name)}`;
      const done = admin.roles.includes('operator') && (await actOnLane(deps.lanes, name, action, admin.name)).ok;
      return reply.redirect(done ? back : `${back}?flash=${encodeURIComponent(label(langOf(request, reply), 'notAllowed'))}`);
    });
  }

  app.get('/admin/dead-letters', view('deadLetters', async (lang, request, _admin, token) => {
    const l = t(lang);
    const reason = (request.query as Record<string, string | undefined>).reason || undefined;
    const { items, total } = await deps.ledger.deadLetters({ limit: 200, offset: 0, ...(reason ? { reason } : {}) });
    return html`<form method="get"><label>${l('reason')} <input name="reason" value="${reason ?? ''}"></label> <button>${l('filter')}</button>
<a href="/admin/dead-letters.csv${reason ? `?reason=${encodeURIComponent(reason)}` : ''}">CSV</a></form><p>${total}</p>
<table><tr><th>${l('at')}</th><th>${l('docId')}</th><th>${l('sender')}</th><th>${l('reason')}</th><th></th></tr>
${items.map((d) => html`<tr data-dead-letter="${d.id}"><td>${d.deadAt}</td><td><a href="/admin/documents/${d.docId}">${d.docId}</a></td><td>${d.sender}</td>
<td><strong>${d.reasonCode}</strong><br><small>${d.reason}</small></td>
<td><form class="inline" method="post" action="/admin/dead-letters/${d.id}/replay">${token}<button>${l('replay')}</button></form>
<form class="inline" method="post" action="/admin/dead-letters/${d.id}/delete">${token}<button>${l('delete')}</button></form></td></tr>`)}</table>`;
  }));
  // The export for a browser, which has the session cookie and not the API's bearer token.
  app.get('/admin/dead-letters.csv', async (request, reply) => {
    if (who(request) === null) return reply.redirect('/admin/login');
    const reason = (request.query as Record<string, string | undefined>).reason || undefined;
    const { items } = await deps.ledger.deadLetters({ limit: 1000, offset: 0, ...(reason ? { reason } : {}) });
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="dead-letters.csv"').send(toCsv(items));
  });
  for (const action of ['replay', 'delete'] as const) {
    app.post(`/admin/dead-letters/:id/${action}`, form, async (request, reply) => {
      const admin = who(request)!;
      const lang = langOf(request, reply);
      const operator: AdminRole = 'operator';
      if (!admin.roles.includes(operator)) return reply.redirect(`/admin/dead-letters?flash=${encodeURIComponent(label(lang, 'notAllowed'))}`);
      const id = Number((request.params as { id: string }).id);
      const done = Number.isInteger(id) && await deps.deadLetterAction(id, action, admin.name);
      return reply.redirect(`/admin/dead-letters?flash=${encodeURIComponent(`${label(lang, action)} #${id}: ${done ? label(lang, 'done') : '404'}`)}`);
    });
  }

  const documentList = view('documents', async (lang, request) => {
    const l = t(lang);
    const q = request.query as Record<string, string | undefined>;
    const organ = q.organ || undefined;
    const docId = q.docId || undefined;
    const { items, total } = await deps.ledger.searchDocuments({ limit: 200, offset: 0, ...(organ ? { organ } : {}) });
    return html`<form method="get" data-testid="search"><label>${l('docId')} <input name="docId" value="${docId ?? ''}" size="34"></label>
<label>${l('agency')} <input name="organ" value="${organ ?? ''}"></label> <button>${l('search')}</button></form><p>${total}</p>
<table><tr><th>${l('at')}</th><th>${l('docId')}</th><th>${l('role')}</th><th>${l('sender')}</th><th>${l('subject')}</th></tr>
${items.map((d) => html`<tr><td>${d.firstSeen}</td><td><a href="/admin/documents/${d.docId}">${d.docId}</a></td><td>${d.role}${d.rejected ? html` <span class="bad">✗</span>` : ''}</td>
<td>${d.sender ?? ''}</td><td>${d.subject ?? ''}</td></tr>`)}</table>`;
  });
  // A doc id typed in the search box opens that document's page.
  app.get('/admin/documents', async (request, reply) => {
    const docId = (request.query as Record<string, string | undefined>).docId?.trim().toLowerCase();
    if (docId !== undefined && /^[0-9a-f]{32}$/.test(docId) && who(request) !== null) return reply.redirect(`/admin/documents/${docId}`);
    return documentList(request, reply);
  });

  app.get('/admin/documents/:docId', view('documents', async (lang, request) => {
    const l = t(lang);
    const docId = (request.params as { docId: string }).docId;
    const d = await documentDetail(deps.ledger, docId);
    if (d === null) return html`<p>404: ${docId}</p>`;
    return html`<h2><code>${docId}</code></h2>${d.recipients ? html`<p>${l('sender')}: ${d.sender} · ${l('subject')}: ${d.subject ?? ''}</p>
<h3>${l('recipients')}</h3><table><tr><th>${l('agency')}</th><th>${l('delivery')}</th><th>${l('state')}</th></tr>
${d.recipients.map((r) => html`<tr><td>${r.organId}</td><td>${r.delivery}</td><td>${r.status ?? ''}</td></tr>`)}</table>` : ''}
${d.mailbox.length > 0 ? html`<h3>${l('recipients')}</h3><ul>${d.mailbox.map((m) => html`<li>${m.agency}: ${m.receivedAt}${m.ackedAt ? ` · ack ${m.ackedAt}` : ''}</li>`)}</ul>` : ''}
<h3>${l('timeline')}</h3><ol class="timeline" data-testid="timeline">${d.timeline.map((h) => html`<li data-hub="${h.hub}">
<strong>${l('hub')} ${h.hub}</strong> · +${h.sinceFirstMs} ms · <span class="${h.verdict === 'accepted' ? 'ok' : 'bad'}">${h.verdict}</span>${h.ms === undefined ? '' : ` · ${h.ms} ms`}
<br><small>${Object.entries(h.checks).map(([k, v]) => `${k}: ${v}`).join(' · ')}</small></li>`)}</ol>`;
  }));

  app.get('/admin/certificates', view('certificates', async (lang) => {
    const l = t(lang);
    const now = deps.clock();
    const certs = await deps.ledger.certificates();
    return html`<table><tr><th>${l('agency')}</th><th>${l('state')}</th><th>${l('notAfter')}</th><th>${l('subject')}</th><th>SHA-256</th></tr>
${certs.map((c) => html`<tr><td>${c.agency}</td><td>${certState(c, now)}</td><td>${c.notAfter}</td><td>${c.subject}</td><td><code>${c.fingerprint.slice(0, 16)}…</code></td></tr>`)}</table>`;
  }));

  app.get('/admin/agencies', view('agencies', async (lang) => {
    const l = t(lang);
    return html`<table><tr><th>${l('code')}</th><th>${l('name')}</th><th>${l('hub')}</th></tr>
${[...deps.registry.agencies.values()].map((a) => html`<tr><td>${a.code}</td><td>${a.name}</td><td>${a.hubId}</td></tr>`)}</table>`;
  }));

  app.get('/admin/audit', view('audit', async (lang) => {
    const l = t(lang);
    const items = await deps.ledger.auditLog(200);
    return html`<table><tr><th>${l('at')}</th><th>${l('actor')}</th><th>${l('action')}</th><th>${l('detail')}</th></tr>
${items.map((e) => html`<tr><td>${e.at}</td><td>${e.actor}</td><td>${e.action}</td><td><code>${JSON.stringify(e.detail)}</code></td></tr>`)}</table>`;
  }));
}

/** Queue figures; the names in `browsable` link to their message view. */
function queueTable(lang: Lang, queues: QueueStat[], browsable: readonly string[] = []): Html {
  const l = (k: Label) => label(lang, k);
  const rate = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
  return html`<table data-testid="queues"><tr><th>${l('queue')}</th><th>${l('messages')}</th><th>unacked</th><th>${l('consumers')}</th><th>publish/s</th><th>deliver/s</th></tr>
${queues.map((q) => html`<tr><td>${browsable.includes(q.queue) ? html`<a href="/admin/queues/${q.queue}">${q.queue}</a>` : q.queue}</td><td>${q.messages}</td><td>${q.unacked ?? '–'}</td><td>${q.consumers}</td><td>${rate(q.publishPerSec)}</td><td>${rate(q.deliverPerSec)}</td></tr>`)}</table>`;
}
