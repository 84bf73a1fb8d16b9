// Server-rendered pages: an escaping template tag and the page frame. No front-end build.
import { label, type Lang, type Label } from './i18n.js';

export class Html {
  constructor(readonly text: string) {}
}

const escape = (v: unknown) => String(v).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

/** A template whose interpolations are escaped unless they are Html (or arrays of Html). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    const render = (x: unknown): string => (x instanceof Html ? x.text : Array.isArray(x) ? x.map(render).join('') : x === undefined || x === null ? '' : escape(x));
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

const NAV: [string, Label][] = [['', 'dashboard'], ['stats', 'stats'], ['queues', 'queues'], ['dead-letters', 'deadLetters'], ['documents', 'documents'],
  ['certificates', 'certificates'], ['agencies', 'agencies'], ['audit', 'audit']];

/** A console page; `token` is the CSRF field every form of it carries. */
export function page(lang: Lang, hubId: string, title: Label, body: Html, token: Html, flash?: string): string {
  const t = (k: Label) => label(lang, k);
  return '<!doctype html>' + html`<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t(title)} · ${hubId}</title><link rel="stylesheet" href="/admin/console.css"></head><body>
<header><strong>${t('title')}</strong> <span class="hub">${t('hub')} ${hubId}</span>
<nav>${NAV.map(([path, key]) => html`<a href="/admin/${path}" class="${key === title ? 'on' : ''}">${t(key)}</a>`)}</nav>
<span class="right"><a href="?lang=${lang === 'vi' ? 'en' : 'vi'}">${lang === 'vi' ? 'English' : 'Tiếng Việt'}</a>
<form method="post" action="/admin/logout">${token}<button>${t('logout')}</button></form></span></header>
<main><h1>${t(title)}</h1>${flash ? html`<p class="flash" role="status">${flash}</p>` : ''}${body}</main></body></html>`.text;
}

export const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
header{display:flex;gap:16px;align-items:center;padding:10px 20px;background:#8b1a1a;color:#fff;flex-wrap:wrap}
header a{color:#fde8e8;text-decoration:none;margin-right:10px}header a.on{color:#fff;font-weight:600;border-bottom:2px solid #ffd54f}
.hub{opacity:.85}.right{margin-left:auto;display:flex;gap:10px;align-items:center}.right form{margin:0}
main{padding:16px 20px;max-width:1200px}table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0 20px}
th,td{border-bottom:1px solid #e3e7ed;padding:6px 8px;text-align:left;vertical-align:top}th{background:#eef1f5}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px}.card{background:#fff;padding:12px;border-radius:6px;box-shadow:0 1px 2px #0002}
.big{font-size:28px;font-weight:600}.ok{color:#1b7d3a}.bad{color:#b3261e}.flash{background:#e8f5e9;padding:8px 12px;border-left:4px solid #1b7d3a}
form.inline{display:inline}button{cursor:pointer}code{font-size:12px}input{padding:4px}
body.login{max-width:360px;margin:80px auto;background:#fff}
figure.chart{margin:8px 0 20px;background:#fff;padding:8px;border-radius:6px;box-shadow:0 1px 2px #0002}figure.chart svg{width:100%;height:auto}
a.button{display:inline-block;padding:3px 10px;border:1px solid #8b1a1a;border-radius:4px;color:#8b1a1a;text-decoration:none;margin-left:6px}
th a{color:inherit;text-decoration:none}tr.total th{background:#f7ecd0}`;
