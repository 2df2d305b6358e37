// cnn: final accuracy and steps to the target vs learning rate per normalization, and test accuracy curves at each arm's best lr.
import type { Trial } from '../../lab/results.js';
import { meanCI } from '../../lab/stats.js';
import type { FigureBuilder, FigureOutcome, RunView } from '../figure.js';
import { ACCURACY_AXIS, ACCURACY_METRICS, STEP_AXIS, curveFigure, fmtValue, sweepFigure } from './recipes.js';
import { num, type SweepRow } from './vega-blocks.js';

const LR_AXIS = { title: 'learning rate (SGD step size, log scale)', log: true };

/**
 * For each group of trials (by `key`, e.g. the arm), the lr with the highest mean final accuracy: the figure of curves
 * shows each arm where it did best, so that a badly chosen shared lr does not decide the picture.
 */
export function bestLrOf(trials: readonly Trial[], key: (t: Trial) => string): Map<string, number> {
  const cells = new Map<string, Map<number, number[]>>();
  for (const t of trials) {
    const lr = t.params.lr;
    const acc = t.metrics.finalTestAccuracy;
    if (typeof lr !== 'number' || typeof acc !== 'number') continue;
    const byLr = cells.get(key(t)) ?? new Map<number, number[]>();
    byLr.set(lr, [...(byLr.get(lr) ?? []), acc]);
    cells.set(key(t), byLr);
  }
  const out = new Map<string, number>();
  for (const [k, byLr] of cells) {
    const best = [...byLr].map(([lr, v]) => [lr, meanCI(v).mean] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
    if (best) out.set(k, best[0]);
  }
  return out;
}

/** "Highest mean: bn at lr = 0.3 (94.0% ± 2.2), ...; crosses mark 8 trials that did not train (...)": accuracy sweeps whose crosses are failures. */
export function trainedCaption(rows: readonly SweepRow[], seeds: string): string {
  const series = [...new Set(rows.map((r) => r.series))];
  const best = series.map((s) => {
    const top = rows.filter((r) => r.series === s && Number.isFinite(r.mean)).sort((a, b) => b.mean - a.mean)[0];
    return top ? `${s} at lr = ${num(top.x)} (${fmtValue(top, true)})` : `${s} n/a`;
  });
  const failed = rows.reduce((a, r) => a + r.flagged, 0);
  const crosses = failed ? `; crosses mark ${failed} trial${failed === 1 ? '' : 's'} that diverged or ended below twice chance` : '';
  return `Highest mean: ${best.join(', ')}${crosses} (mean ± 95% CI, Student t over ${seeds}).`;
}

/** Test accuracy over training of each group at its best lr (groups by `key`). */
export function curvesAtBestLr(run: RunView, o: { id: string; title: string; key?: (t: Trial) => string }): FigureOutcome {
  const key = o.key ?? ((t: Trial) => t.arm);
  const best = bestLrOf(run.trials, key);
  return curveFigure(run, {
    id: o.id,
    title: o.title,
    curves: ['testAccuracy'],
    x: STEP_AXIS,
    y: ACCURACY_AXIS(),
    legend: 'arm (its best lr)',
    what: 'Test accuracy',
    filter: (t) => best.get(key(t)) === t.params.lr,
  });
}

/** Figure builders of the cnn experiment. */
export const cnnFigures: FigureBuilder = (run) => [
  sweepFigure(run, {
    id: 'accuracy-vs-lr',
    title: 'Final test accuracy vs learning rate: no norm, BN, GroupNorm, LayerNorm',
    params: ['lr'],
    metrics: ACCURACY_METRICS,
    x: LR_AXIS,
    y: { ...ACCURACY_AXIS('final test accuracy (%)'), domain: [0, 1] },
    flag: (t) => t.diverged || t.metrics.trained === 0,
    flagLabel: 'did not train (≥1 seed)',
    caption: trainedCaption,
  }),
  sweepFigure(run, {
    id: 'steps-vs-lr',
    title: 'Steps to the target accuracy vs learning rate',
    params: ['lr'],
    metrics: ['stepsToTarget'],
    x: LR_AXIS,
    y: { title: 'steps to target accuracy (mini-batches)', zero: true, min: 0 },
    flag: (t, m) => t.diverged || t.metrics[m] === null,
    flagLabel: 'not reached (≥1 seed)',
  }),
  curvesAtBestLr(run, { id: 'curves-at-best-lr', title: 'Test accuracy over training, each normalization at its best learning rate' }),
];
