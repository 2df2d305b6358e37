// report.html: one self-contained page (inline SVG figures, inline CSS, no scripts or external URLs), works from file://.
import { findingsTable, multiplicityText } from '../lab/multiplicity.js';
import type { Verdict } from '../lab/results.js';
import type { ReportModel, RunReport, RenderedFigure } from './model.js';
import type { Table } from './table.js';

/** Escapes text for HTML element content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON safe inside a <script> element: `</script>` and `<!--` cannot appear. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

/** Badge colour of each verdict (the browser lab uses the same). */
export const VERDICT_COLORS: Record<Verdict, string> = {
  supported: '#2e7d32',
  contradicted: '#c62828',
  equivalent: '#1565c0',
  mixed: '#ef6c00',
  inconclusive: '#616161',
};

const CSS = `
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; color: #222; max-width: 1200px; margin: 0 auto; padding: 24px; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 2em; } h3 { font-size: 1.05em; }
.meta, .note { color: #555; font-size: 0.9em; }
.context { color: #444; }
nav ul { columns: 2; }
.verdict { display: inline-block; color: white; border-radius: 3px; padding: 0 6px; font-size: 0.8em; text-transform: uppercase;
  letter-spacing: 0.03em; margin-right: 6px; }
.findings li { margin-bottom: 0.5em; }
figure.chart { margin: 1.5em 0; padding: 12px; border: 1px solid #e5e5e5; border-radius: 6px; background: white; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9em; color: #333; margin-top: 8px; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.85em; background: #f5f5f5; padding: 1px 4px;
  border-radius: 3px; }
.skipped { border-left: 4px solid #ef6c00; background: #fff8f0; padding: 6px 10px; margin: 0.8em 0; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.8em; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; white-space: nowrap; } th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.table-wrap { overflow-x: auto; }
details { margin: 0.6em 0; } summary { cursor: pointer; color: #444; }
`;

function verdictBadge(v: Verdict): string {
  return `<span class="verdict" style="background:${VERDICT_COLORS[v] ?? '#616161'}">${esc(v)}</span>`;
}

function tableHtml(t: Table): string {
  if (t.rows.length === 0) return '<p class="note">No trials.</p>';
  const head = `<tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table>${head}\n${body}</table></div>`;
}

/** Anchor id of a figure: experiment and figure id, run index to keep two runs of one experiment apart. */
export function anchorOf(runIndex: number, r: RunReport, f: RenderedFigure): string {
  return `fig-${runIndex}-${r.run.results.experiment}-${f.figure.id}`.replace(/[^A-Za-z0-9_-]/g, '-');
}

/**
 * Prefixes the ids inside one SVG (Vega numbers its clip paths clip1, clip2... in every SVG it writes):
 * inlined side by side, the second figure's url(#clip1) would otherwise clip with the first one's path.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  if (ids.size === 0) return svg;
  return svg.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (all, head: string, id: string) => (ids.has(id) ? `${head}${prefix}${id}` : all));
}

/** A figure: the SVG carries the title, caption and command itself (as the PNG does), the caption below adds links. */
/** Shows an SVG 1.2x its drawn size (11px labels read small on screens), shrinking to fit narrow windows. */
function enlarge(svg: string): string {
  return svg.replace(/^<svg([^>]*?) width="([\d.]+)"/, (all, attrs: string, w: string) => `<svg${attrs} style="width:${Math.round(Number(w) * 1.2)}px" width="${w}"`);
}

function figureHtml(runIndex: number, r: RunReport, f: RenderedFigure): string {
  const id = anchorOf(runIndex, r, f);
  const data = esc(`${r.run.results.experiment}/${f.figure.id}`);
  return `<figure class="chart" id="${id}" data-figure="${data}" aria-label="${esc(`${f.figure.title}. ${f.figure.caption}`)}">
${enlarge(scopeSvgIds(f.svg, `${id}-`))}
<figcaption>Reproduce: <code>${esc(r.command)}</code> · <a href="${esc(f.png)}">PNG</a> (${f.width}×${f.height}, for slides)</figcaption>
<script type="application/json" class="vega-lite-spec">${scriptJson(f.spec)}</script>
</figure>`;
}

function runHtml(r: RunReport, i: number): string {
  const res = r.run.results;
  const m = res.meta;
  const diverged = res.trials.filter((t) => t.diverged).length;
  const seeds = new Set(res.trials.map((t) => t.seed)).size;
  const when = m.startedAt ? ` · ${esc(m.startedAt)} → ${esc(m.finishedAt)}` : '';
  const findings = r.findings.length
    ? `<ul class="findings">${r.findings.map((f) => `<li>${verdictBadge(f.verdict)}<strong>${esc(f.claim)}</strong><br>${esc(f.text)}</li>`)
      .join('\n')}</ul>`
    : '<p class="note">This run recorded no findings.</p>';
  const skipped = r.skipped.map((s) => `<div class="skipped">Figure skipped — <strong>${esc(s.title)}</strong>: ${esc(s.reason)}.</div>`).join('\n');
  return `<section class="run" id="run-${i}" data-experiment="${esc(res.experiment)}">
<h2>${esc(res.experiment)}${r.info ? ` — ${esc(r.info.title)}` : ''}</h2>
${r.info ? `<p><strong>Claim tested:</strong> ${esc(r.info.claim)}</p>\n<p class="context"><strong>What later work says:</strong> ` +
  `${esc(r.info.context)}</p>` : ''}
<p class="meta">Run <code>${esc(r.dirLink)}</code> · ${res.trials.length} trials (${seeds} seed${seeds === 1 ? '' : 's'}, ${diverged} diverged)
· dataset ${esc(m.dataset)} · backend ${esc(m.backend)} · bnlab ${esc(m.version)} · Node ${esc(m.node)}${when}<br>
Reproduce: <code>${esc(r.command)}</code></p>
<h3>Findings</h3>
${findings}
<p class="note">${esc(multiplicityText(res.multiplicity))}. Differences are a - b with 95% t intervals (paired by seed when both arms share seeds,
Welch otherwise); effect size d_z (paired) or Cohen's d (Welch).</p>
${findingsTable(r.findings).rows.length ? tableHtml(findingsTable(r.findings)) : ''}
<h3>Figures</h3>
${r.figures.map((f) => figureHtml(i, r, f)).join('\n')}
${skipped}
<h3>All metrics (mean ± 95% CI over seeds)</h3>
${tableHtml(r.table)}
<details><summary>Config</summary><pre>${esc(JSON.stringify(res.config, null, 2))}</pre></details>
</section>`;
}

/** The complete report page. */
export function renderHtml(model: ReportModel): string {
  const title = model.runs.length === 1 ? `bnlab report: ${model.runs[0].run.results.experiment}` : `bnlab report: ${model.runs.length} experiments`;
  const toc = model.runs
    .map((r, i) => `<li><a href="#run-${i}">${esc(r.run.results.experiment)}</a> — ${r.figures.length} ` +
      `figure${r.figures.length === 1 ? '' : 's'}${r.skipped.length ? `, ${r.skipped.length} skipped` : ''}</li>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">Generated ${esc(model.generatedAt)} by <code>bnlab report</code>. Lines are means over seeds; shaded bands and error bars are
95% confidence intervals (Student t). Each figure's Vega-Lite spec is embedded next to it.</p>
${model.notes.map((n) => `<p class="skipped">${esc(n)}</p>`).join('\n')}
<nav><ul>
${toc}
</ul></nav>
${model.runs.map(runHtml).join('\n')}
</body>
</html>
`;
}
