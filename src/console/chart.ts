// A line chart drawn on the server as SVG: the console runs no script and fetches nothing from
// elsewhere (its Content-Security-Policy allows neither), so the picture is in the page itself.
// Colours are presentation attributes, not style (no inline style is allowed either).
import { html, type Html } from './html.js';

export interface Series { name: string; colour: string; values: readonly number[] }

const W = 760;
const H = 260;
const PAD = { left: 44, right: 16, top: 16, bottom: 48 };

/** The y axis' step between its four gridlines: a whole 1, 2, 2.5 or 5 times a power of ten (counts are whole). */
function niceStep(max: number): number {
  const raw = Math.max(1, max / 4);
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((v) => v >= raw && Number.isInteger(v))!;
}

/** One line per series over the labelled x positions (days), each point a circle carrying its value. */
export function lineChart(p: { labels: readonly string[]; series: readonly Series[]; title: string; testId: string }): Html {
  const step = niceStep(Math.max(0, ...p.series.flatMap((s) => s.values)));
  const top = step * 4;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (p.labels.length <= 1 ? plotW / 2 : (i * plotW) / (p.labels.length - 1));
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const r = (v: number) => Math.round(v * 10) / 10;
  const every = Math.max(1, Math.ceil(p.labels.length / 10)); // at most ten day labels
  const ticks = [0, 1, 2, 3, 4].map((i) => i * step);
  return html`<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-label="${p.title}" data-testid="${p.testId}">
<title>${p.title}</title>
${ticks.map((v) => html`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${r(y(v))}" y2="${r(y(v))}" stroke="#e3e7ed"/><text x="${PAD.left - 6}" y="${r(y(v)) + 4}" text-anchor="end" font-size="11" fill="#555">${v}</text>`)}
${p.labels.map((label, i) => (i % every === 0 || i === p.labels.length - 1
    ? html`<text x="${r(x(i))}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="11" fill="#555">${label}</text>` : ''))}
${p.series.map((s) => html`<g data-series="${s.name}"><polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${s.values.map((v, i) => `${r(x(i))},${r(y(v))}`).join(' ')}"/>
${s.values.map((v, i) => html`<circle cx="${r(x(i))}" cy="${r(y(v))}" r="3" fill="${s.colour}" data-value="${v}"><title>${p.labels[i]}: ${v}</title></circle>`)}</g>`)}
${p.series.map((s, i) => html`<rect x="${PAD.left + i * 150}" y="${H - 18}" width="12" height="12" fill="${s.colour}"/><text x="${PAD.left + i * 150 + 18}" y="${H - 8}" font-size="12" fill="#1d2733">${s.name}</text>`)}
</svg></figure>`;
}
