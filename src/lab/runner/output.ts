// A run's outputs: results.json (compact curves), results.csv (one row per trial) and summary.md (findings and a table with CIs).
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment, BaseConfig } from '../experiment.js';
import type { Results, Trial } from '../results.js';
import { findingsTable, multiplicityText } from '../multiplicity.js';
import { meanCI } from '../stats.js';

/** Writes a file by renaming a temporary one, so a kill never leaves half a file behind. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** JSON with two-space indentation, but [x, y] points and other short number arrays on one line. */
export function stringifyResults(value: unknown): string {
  const text = JSON.stringify(value, null, 2);
  // Collapse arrays whose items are all numbers/null (curve points, lists of lrs) onto one line. Pretty
  // printed arrays always break the line after '[', which JSON strings never contain, so text is safe.
  const num = '(?:-?[\\d.eE+-]+|null)';
  const re = new RegExp(`\\[\\n\\s*(${num}(?:,\\n\\s*${num})*)\\n\\s*\\]`, 'g');
  return text.replace(re, (_, inner: string) => `[${inner.split(/,\n\s*/).join(', ')}]`);
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : String(v)) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** results.csv: id, arm, seed, one column per param and per metric, diverged, divergedAt, durationMs. */
export function resultsCsv(trials: readonly Trial[]): string {
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const metrics = [...new Set(trials.flatMap((t) => Object.keys(t.metrics)))];
  const header = ['id', 'arm', 'seed', ...params, ...metrics, 'diverged', 'divergedAt', 'durationMs'];
  const rows = trials.map((t) => [
    t.id, t.arm, t.seed, ...params.map((p) => t.params[p]), ...metrics.map((m) => t.metrics[m]), t.diverged, t.divergedAt, t.durationMs,
  ]);
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** Groups trials by arm and params (everything but the seed), in first-seen order. */
export function groupTrials(trials: readonly Trial[]): { key: string; arm: string; params: Trial['params']; trials: Trial[] }[] {
  const groups = new Map<string, { key: string; arm: string; params: Trial['params']; trials: Trial[] }>();
  for (const t of trials) {
    const p = Object.keys(t.params)
      .sort()
      .map((k) => `${k}=${String(t.params[k])}`)
      .join(', ');
    const key = p ? `${t.arm} (${p})` : t.arm;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, arm: t.arm, params: t.params, trials: [] }));
    g.trials.push(t);
  }
  return [...groups.values()];
}

/** A number for a table: 4 significant digits, thousands as 1,234. */
function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(4)).toString();
}

function cell(values: (number | null)[]): string {
  const ci = meanCI(values);
  const missing = values.length - ci.n;
  if (ci.n === 0) return 'n/a';
  const s = ci.n > 1 ? `${fmtNum(ci.mean)} ± ${fmtNum(ci.half)}` : fmtNum(ci.mean);
  return missing > 0 ? `${s} (${ci.n}/${values.length})` : s;
}

/** summary.md: the claim, the findings with verdicts, per-arm metrics (mean ± 95% CI over seeds), the config. */
export function summaryMarkdown(results: Results, exp: Pick<Experiment<BaseConfig>, 'title' | 'claim' | 'context'>, dir: string): string {
  const lines: string[] = [];
  lines.push(`# ${results.experiment}: ${exp.title}`, '');
  lines.push(`**Claim:** ${exp.claim}`, '');
  lines.push(`**Context:** ${exp.context}`, '');
  lines.push('## Findings', '');
  if (results.findings.length === 0) lines.push('(none)');
  for (const f of results.findings) lines.push(`- **${f.verdict}** (${f.id}): ${f.text}`);
  const ft = findingsTable(results.findings);
  lines.push('', `${multiplicityText(results.multiplicity)}.`);
  if (ft.rows.length) {
    const row = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
    lines.push('', `| ${ft.header.join(' | ')} |`, `|${ft.header.map(() => ' --- ').join('|')}|`, ...ft.rows.map(row));
  }
  lines.push('', '## Metrics (mean ± 95% CI over seeds; "(k/n)" = only k of n seeds have a value)', '');
  const metrics = [...new Set(results.trials.flatMap((t) => Object.keys(t.metrics)))];
  lines.push(`| arm | seeds | diverged | ${metrics.join(' | ')} |`);
  lines.push(`|---|---|---|${metrics.map(() => '---|').join('')}`);
  for (const g of groupTrials(results.trials)) {
    const div = g.trials.filter((t) => t.diverged).length;
    lines.push(`| ${g.key} | ${g.trials.length} | ${div} | ${metrics.map((m) => cell(g.trials.map((t) => t.metrics[m] ?? null))).join(' | ')} |`);
  }
  lines.push('', '## Run', '');
  const m = results.meta;
  lines.push(
    `- directory: ${dir}`,
    `- command: \`${m.command}\``,
    `- dataset: ${m.dataset}`,
    `- backend: ${m.backend}`,
    `- bnlab ${m.version}, Node ${m.node}`,
    `- started ${m.startedAt}, finished ${m.finishedAt}`,
  );
  lines.push('', '## Config', '', '```json', JSON.stringify(results.config, null, 2), '```', '');
  return lines.join('\n');
}

/** Writes results.json, results.csv and summary.md into `dir`. */
export function writeOutputs(dir: string, results: Results, exp: Pick<Experiment<BaseConfig>, 'title' | 'claim' | 'context'>): void {
  writeAtomic(join(dir, 'results.json'), stringifyResults(results) + '\n');
  writeAtomic(join(dir, 'results.csv'), resultsCsv(results.trials));
  writeAtomic(join(dir, 'summary.md'), summaryMarkdown(results, exp, dir));
}
