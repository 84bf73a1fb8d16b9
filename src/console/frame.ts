// The console's frame: what every page and form shares. Sign-in opens a session held by the hub
// (sessions.ts), never the admin token in a cookie; its cookie is HttpOnly, SameSite=Strict and
// Secure behind TLS. SameSite does not stop a sibling subdomain or another port of the same host,
// so every post must also come from this hub's own origin (Origin, else Referer) and carry a CSRF
// token bound to the session (@fastify/csrf-protection). Sessions and the CSRF key are kept in the
// hub's ledger, so that any replica of the hub serves any page or post (docs/replicas.md).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie, { type CookieSerializeOptions } from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import type { Config } from '../config.js';
import { hashApiKey, type AdminIdentity, type AdminTokens } from '../http/auth.js';
import { fail } from '../errors.js';
import { replyError } from '../http/errors.js';
import { html, page, STYLE, type Html } from './html.js';
import type { Ledger } from '../ledger/store.js';
import { createSessions } from './sessions.js';
import { label, LANGS, type Lang, type Label } from './i18n.js';
import { z } from 'zod';

export interface FrameDeps {
  hubId: string;
  admins: AdminTokens;
  clock: () => Date;
  sessions: Config['http']['console'];
  ledger: Pick<Ledger, 'openConsoleSession' | 'consoleSession' | 'closeConsoleSession' | 'hubSecret'>;
}

const SESSION_COOKIE = 'lgsp_session';
const CSRF_COOKIE = 'lgsp_csrf';
const LANG_COOKIE = 'lgsp_lang';

/** The name the CSRF key is kept under in the ledger. */
const CSRF_KEY = 'console-csrf-hmac';

/** A field as a page reads it: text; a field given twice (a hand-made link, two inputs of one name) counts once, its first. */
const Field = z.unknown().transform((v) => {
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : undefined;
});
const Fields = z.record(z.string(), Field).catch({});

/**
 * A console request's query, path or form fields, read at the boundary: text or absent, never an
 * array or an object a page would trip over (a repeated query field answered 503 before). Pages
 * are for people, so nothing here is refused: what is not text is absent.
 */
export function fieldsOf(value: unknown): Record<string, string | undefined> {
  return Fields.parse(value ?? {});
}

/** The value of a Referer, as an origin (undefined if it is not a URL). */
const originOf = (url: string | undefined) => (url !== undefined && URL.canParse(url) ? new URL(url).origin : undefined);

/** Registers sign-in, sign-out and the stylesheet, and gives the pages their frame. */
export async function openConsoleFrame(app: FastifyInstance, deps: FrameDeps) {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))));
  // A malformed percent-encoding in a cookie leaves that cookie's text as it came (never an error).
  await app.register(cookie);
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie', cookieKey: CSRF_COOKIE, cookieOpts: { path: '/admin', httpOnly: true, sameSite: 'strict' },
    // Each token is bound to the session it was made for: it dies with that session.
    getUserInfo: (request) => request.cookies[SESSION_COOKIE] ?? '',
    // One key for all the hub's replicas: a token made by one verifies at another.
    csrfOpts: { hmacKey: Buffer.from(await deps.ledger.hubSecret(CSRF_KEY, randomBytes(32).toString('base64'), deps.clock().toISOString()), 'base64') },
  });
  const sessions = createSessions(deps.ledger, deps.sessions.sessionTtlMs, () => deps.clock().getTime());
  const cookieAttrs = (request: FastifyRequest): CookieSerializeOptions => ({
    path: '/admin', httpOnly: true, sameSite: 'strict', secure: deps.sessions.secureCookie || request.protocol === 'https',
  });

  const langOf = (request: FastifyRequest, reply: FastifyReply): Lang => {
    const asked = fieldsOf(request.query).lang;
    if (asked !== undefined && (LANGS as readonly string[]).includes(asked)) {
      reply.setCookie(LANG_COOKIE, asked, cookieAttrs(request));
      return asked as Lang;
    }
    return request.cookies[LANG_COOKIE] === 'en' ? 'en' : 'vi';
  };
  // Asked by the guard and again by the handler: the ledger is read once a request.
  const seen = new WeakMap<FastifyRequest, Promise<AdminIdentity | null>>();
  const who = (request: FastifyRequest): Promise<AdminIdentity | null> => {
    const known = seen.get(request);
    if (known !== undefined) return known;
    const id = request.cookies[SESSION_COOKIE];
    const found = id === undefined ? Promise.resolve(null) : sessions.find(id);
    seen.set(request, found);
    return found;
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
    if (needsSession && (await who(request)) === null) return reply.redirect('/admin/login');
  };
  const form = { onRequest: guard(true), preHandler: app.csrfProtection };
  /** A page for a signed-in admin; everyone else goes to the sign-in form. */
  const view = (title: Label, render: (lang: Lang, request: FastifyRequest, admin: AdminIdentity, token: Html) => Promise<Html>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const lang = langOf(request, reply);
      const admin = await who(request);
      if (admin === null) return reply.redirect('/admin/login');
      const flash = fieldsOf(request.query).flash;
      const token = html`<input type="hidden" name="_csrf" value="${reply.generateCsrf({ ...cookieAttrs(request), userInfo: request.cookies[SESSION_COOKIE]! })}">`;
      return reply.type('text/html; charset=utf-8').send(page(lang, deps.hubId, title, await render(lang, request, admin, token), token, flash));
    };
  const t = (lang: Lang) => (k: Label) => label(lang, k);

  // The stylesheet is a file of its own: the Content-Security-Policy allows no inline style.
  app.get('/admin/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=3600').send(STYLE));

  app.get('/admin/login', async (request, reply) => {
    const lang = langOf(request, reply);
    const bad = fieldsOf(request.query).error !== undefined;
    return reply.type('text/html; charset=utf-8').send('<!doctype html>' + html`<html lang="${lang}"><head><meta charset="utf-8"><title>${label(lang, 'login')}</title>
<link rel="stylesheet" href="/admin/console.css"></head>
<body class="login"><h1>${label(lang, 'title')}</h1><p>${label(lang, 'hub')} ${deps.hubId}</p>
${bad ? html`<p role="alert" class="bad">${label(lang, 'badToken')}</p>` : ''}
<form method="post" action="/admin/login"><label>${label(lang, 'token')} <input name="token" type="password" autocomplete="off" required></label>
<button type="submit">${label(lang, 'login')}</button></form></body></html>`.text);
  });
  app.post('/admin/login', { onRequest: guard(false) }, async (request, reply) => {
    const token = fieldsOf(request.body).token ?? '';
    const admin = deps.admins.get(hashApiKey(token));
    if (admin === undefined) return reply.redirect('/admin/login?error=1');
    const id = await sessions.open(admin);
    return reply.setCookie(SESSION_COOKIE, id, { ...cookieAttrs(request), maxAge: Math.floor(deps.sessions.sessionTtlMs / 1000) }).redirect('/admin');
  });
  app.post('/admin/logout', form, async (request, reply) => {
    await sessions.close(request.cookies[SESSION_COOKIE]!);
    return reply.clearCookie(SESSION_COOKIE, cookieAttrs(request)).clearCookie(CSRF_COOKIE, cookieAttrs(request)).redirect('/admin/login');
  });

  return { view, form, who, langOf, t };
}

export type ConsoleFrame = Awaited<ReturnType<typeof openConsoleFrame>>;
