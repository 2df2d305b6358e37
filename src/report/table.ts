// The metrics table of a run: every metric's mean ± 95% CI per condition (arm + params), for HTML and Markdown.
import type { Trial } from '../lab/results.js';
import { groupTrials, metricCI, metricNames, fmtParam } from './group.js';
import { num } from './specs/vega-blocks.js';

/** A table as header plus rows of cells (already formatted strings). */
export interface Table {
  header: string[];
  rows: string[][];
}

/** "0.953 ± 0.004" with 3 significant digits, or "n/a". */
function cell(mean: number, half: number): string {
  if (!Number.isFinite(mean)) return 'n/a';
  return `${num(mean)} ± ${num(Number.isFinite(half) ? half : 0)}`;
}

/** One row per condition: arm, each param, seeds, diverged count, then each metric's mean ± CI. */
export function metricsTable(trials: readonly Trial[]): Table {
  const groups = groupTrials(trials);
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const metrics = metricNames(trials);
  const header = ['arm', ...params, 'seeds', 'diverged', ...metrics];
  const rows = groups.map((g) => [
    g.arm,
    ...params.map((p) => (p in g.params ? fmtParam(g.params[p]) : '')),
    String(g.trials.length),
    String(g.trials.filter((t) => t.diverged).length),
    ...metrics.map((m) => {
      const ci = metricCI(g, m);
      return cell(ci.mean, ci.half);
    }),
  ]);
  return { header, rows };
}
