// summary.md: the findings and the figures (as PNG links) of every run, for READMEs, issues and slides.
import { findingsTable, multiplicityText } from '../lab/multiplicity.js';
import type { ReportModel, RunReport } from './model.js';
import type { Table } from './table.js';

/** Escapes the characters that break a Markdown table cell. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function tableMd(t: Table): string {
  if (t.rows.length === 0) return '_No trials._';
  const rows = t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`);
  return [`| ${t.header.map(cell).join(' | ')} |`, `|${t.header.map(() => ' --- ').join('|')}|`, ...rows].join('\n');
}

/** Markdown link target: spaces and parentheses would end the link early. */
function href(p: string): string {
  return p.replace(/ /g, '%20').replace(/\(/g, '%28').replace(/\)/g, '%29');
}

function runMd(r: RunReport): string {
  const res = r.run.results;
  const out: string[] = [`## ${res.experiment}${r.info ? ` — ${r.info.title}` : ''}`, ''];
  if (r.info) out.push(`**Claim tested:** ${r.info.claim}`, '', `**What later work says:** ${r.info.context}`, '');
  const seeds = new Set(res.trials.map((t) => t.seed)).size;
  out.push(`Run \`${r.dirLink}\`: ${res.trials.length} trials, ${seeds} seed${seeds === 1 ? '' : 's'}, ` +
    `${res.trials.filter((t) => t.diverged).length} diverged; dataset ${res.meta.dataset}, backend ${res.meta.backend}.`, '');
  out.push('Reproduce:', '', '```sh', r.command, '```', '');
  out.push('### Findings', '');
  if (r.findings.length === 0) out.push('_This run recorded no findings._');
  for (const f of r.findings) out.push(`- **${f.verdict.toUpperCase()}** — ${f.claim}: ${f.text}`);
  const ft = findingsTable(r.findings);
  out.push('', `${multiplicityText(res.multiplicity)}. Differences are a - b with 95% t intervals (paired by seed when both arms share seeds, ` +
    `Welch otherwise).`);
  if (ft.rows.length) out.push('', tableMd(ft));
  out.push('', '### Figures', '');
  for (const f of r.figures) {
    out.push(`![${cell(f.figure.title)}](${href(f.png)})`, '', `*${f.figure.title}.* ${f.figure.caption}`, '');
  }
  for (const s of r.skipped) out.push(`> Figure skipped — **${s.title}**: ${s.reason}.`, '');
  out.push('<details><summary>All metrics (mean ± 95% CI over seeds)</summary>', '', tableMd(r.table), '', '</details>', '');
  return out.join('\n');
}

/** The complete summary.md. */
export function renderMarkdown(model: ReportModel): string {
  const head = [
    '# bnlab report',
    '',
    `Generated ${model.generatedAt}. Lines are means over seeds; bands and error bars are 95% confidence intervals (Student t). Open ` +
      `\`report.html\` for the full page.`,
    '',
    ...model.notes.map((n) => `> ${n}\n`),
  ];
  return [...head, ...model.runs.map(runMd)].join('\n');
}
