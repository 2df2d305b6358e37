// Figure recipes used by several experiments: mean curves over steps, and a metric swept over a param.
import type { Trial } from '../../lab/results.js';
import { figure, skip, type FigureOutcome, type RunView } from '../figure.js';
import { curveBand, groupTrials, lastRows, metricCI, pickCurve, pickMetric, pickParam, seedsPhrase, type BandRow, type Group } from '../group.js';
import { bandChart, looksLikeFraction, num, sweepChart, type AxisOpts, type SweepRow } from './vega-blocks.js';

/** Candidate names for the test accuracy, as a curve or a final metric. */
export const ACCURACY_CURVES = ['testAccuracy', 'testAcc', 'accuracy', 'valAccuracy'];
export const ACCURACY_METRICS = ['finalTestAccuracy', 'testAccuracy', 'finalAccuracy', 'accuracy', 'bestTestAccuracy'];
export const LOSS_CURVES = ['trainLoss', 'loss', 'testLoss'];

/** Axis for accuracies: fractions printed as percent, fixed to 0-100% (a CI over few seeds can reach past both; bands are clipped). */
export const ACCURACY_AXIS = (title = 'test accuracy (%)'): AxisOpts => ({ title, format: '.0%', domain: [0, 1] });
export const STEP_AXIS: AxisOpts = { title: 'training step (mini-batches)' };

/** Formats a value for a caption: percent for accuracies, else 3 significant digits. */
export function fmtValue(r: { mean: number; lo: number; hi: number }, percent: boolean): string {
  const half = (r.hi - r.lo) / 2;
  if (!Number.isFinite(r.mean)) return 'n/a';
  if (percent) return `${(r.mean * 100).toFixed(1)}% ± ${((Number.isFinite(half) ? half : 0) * 100).toFixed(1)}`;
  return `${num(r.mean)} ± ${num(Number.isFinite(half) ? half : 0)}`;
}

/**
 * "at step 500, bn 95.1% ± 0.3, plain 90.2% ± 1.0": the final point of each mean curve, for captions.
 * More than five series: only the highest and the lowest are named.
 */
export function finalPhrase(rows: readonly BandRow[], percent: boolean, xName = 'step'): string {
  const last = lastRows(rows);
  if (last.length === 0) return '';
  const step = Math.max(...last.map((r) => r.x));
  let shown = last;
  if (last.length > 5) {
    const sorted = [...last].filter((r) => Number.isFinite(r.mean)).sort((a, b) => b.mean - a.mean);
    shown = [sorted[0], sorted[sorted.length - 1]].filter(Boolean);
  }
  const at = xName === 'step' ? `step ${Math.round(step).toLocaleString('en-US')}` : `${xName} = ${num(step)}`;
  return `at ${at}: ${shown.map((r) => `${r.series} ${fmtValue(r, percent)}`).join(', ')}`;
}

/** Options of a curve figure. */
export interface CurveFigureOpts {
  id: string;
  title: string;
  /** Curve names to try, in order. */
  curves: readonly string[];
  x: AxisOpts;
  /** y axis; `format` '.0%' is added automatically when the values are fractions and `percent` is not false. */
  y: AxisOpts;
  legend?: string;
  /** Words before the final values in the caption, e.g. 'Final test accuracy'. */
  what: string;
  /** Only these trials (e.g. one lr of a grid). */
  filter?: (t: Trial) => boolean;
  /** Values are fractions to print as percent: true/false, or decided from the data (values in [0, 1]) when absent. */
  percent?: boolean;
  /** What x is, for the caption ('step' by default). */
  xName?: string;
}

/** Mean curve ± 95% CI band per arm (and varying params) of the first curve found among `curves`. */
export function curveFigure(run: RunView, o: CurveFigureOpts): FigureOutcome {
  const trials = o.filter ? run.trials.filter(o.filter) : run.trials;
  const name = pickCurve(trials, o.curves);
  if (!name) return skip(o.id, o.title, `no curve named ${o.curves.map((c) => `"${c}"`).join(' or ')} in the trials`);
  const groups = groupTrials(trials.filter((t) => name in t.curves));
  const rows = groups.flatMap((g) => curveBand(g, name));
  if (rows.length === 0) return skip(o.id, o.title, `curve "${name}" holds no finite points`);
  const percent = o.percent ?? looksLikeFraction(rows.map((r) => r.mean));
  const y = percent && !o.y.format && !o.y.log ? { ...o.y, format: '.0%' } : o.y;
  const caption = `${o.what} ${finalPhrase(rows, percent, o.xName)} (mean ± 95% CI, Student t over ${seedsPhrase(groups)}).`;
  return figure(o.id, o.title, caption, bandChart(rows, { x: o.x, y, legend: o.legend ?? 'arm' }));
}

/** Options of a sweep figure. */
export interface SweepFigureOpts {
  id: string;
  title: string;
  /** The swept param, candidates in order (e.g. ['lr', 'learningRate']). */
  params: readonly string[];
  metrics: readonly string[];
  x: AxisOpts;
  y: AxisOpts;
  legend?: string;
  /** Counts a trial as flagged (crossed): default diverged. */
  flag?: (t: Trial, metric: string) => boolean;
  flagLabel?: string;
  /** Caption builder from the sweep rows (defaults to best x per series). */
  caption?: (rows: SweepRow[], seeds: string, metric: string) => string;
}

/** Metric mean ± 95% CI over seeds against a swept numeric param, one line per arm; flagged trials crossed. */
export function sweepFigure(run: RunView, o: SweepFigureOpts): FigureOutcome {
  const param = pickParam(run.trials, o.params);
  if (!param) return skip(o.id, o.title, `no param named ${o.params.map((p) => `"${p}"`).join(' or ')} in the trials`);
  const metric = pickMetric(run.trials, o.metrics);
  if (!metric) return skip(o.id, o.title, `no metric named ${o.metrics.map((m) => `"${m}"`).join(' or ')} in the trials`);
  const trials = run.trials.filter((t) => typeof t.params[param] === 'number');
  if (trials.length === 0) return skip(o.id, o.title, `param "${param}" is not numeric`);
  const flag = o.flag ?? ((t: Trial) => t.diverged);
  const rows = sweepRows(groupTrials(trials, [param]), param, metric, flag);
  const percent = looksLikeFraction(rows.map((r) => r.mean));
  const y = percent && !o.y.format ? { ...o.y, format: '.0%' } : o.y;
  const seeds = seedsPhrase(groupTrials(trials));
  const caption = o.caption ? o.caption(rows, seeds, metric) : bestPhrase(rows, seeds, percent, param);
  return figure(o.id, o.title, caption, sweepChart(rows, { x: o.x, y, legend: o.legend ?? 'arm', flagLabel: o.flagLabel }));
}

/** Splits groups (which ignore the swept param) into one row per (group, param value). */
export function sweepRows(groups: readonly Group[], param: string, metric: string, flag: (t: Trial, metric: string) => boolean): SweepRow[] {
  const rows: SweepRow[] = [];
  for (const g of groups) {
    const xs = [...new Set(g.trials.map((t) => t.params[param] as number))].sort((a, b) => a - b);
    for (const x of xs) {
      const ts = g.trials.filter((t) => t.params[param] === x);
      const ci = metricCI({ ...g, trials: ts }, metric);
      rows.push({
        series: g.label,
        x,
        mean: ci.mean,
        lo: ci.lo,
        hi: ci.hi,
        n: ci.n,
        flagged: ts.filter((t) => flag(t, metric)).length,
        seeds: ts.length,
      });
    }
  }
  return rows;
}

/** "Best lr: bn 0.5 (95.1%), plain 0.1 (90.2%); mean ± 95% CI over 3 seeds." */
function bestPhrase(rows: readonly SweepRow[], seeds: string, percent: boolean, param: string): string {
  const series = [...new Set(rows.map((r) => r.series))];
  const parts = series.map((s) => {
    const best = rows.filter((r) => r.series === s && Number.isFinite(r.mean)).sort((a, b) => b.mean - a.mean)[0];
    return best ? `${s} at ${param} = ${num(best.x)} (${fmtValue(best, percent)})` : `${s} n/a`;
  });
  const flagged = rows.reduce((a, r) => a + r.flagged, 0);
  return `Highest mean: ${parts.join(', ')}${flagged ? `; crosses mark ${flagged} diverged trial${flagged === 1 ? '' : 's'}` : ''} ` +
    `(mean ± 95% CI, Student t over ${seeds}).`;
}
