// regularization: train and test accuracy per arm (no BN / BN x no dropout / dropout) and the train-test gap over training.
import type { BarRow } from './vega-blocks.js';
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { groupTrials, metricCI, pickMetric, seedsPhrase } from '../group.js';
import { barChart } from './vega-blocks.js';
import { ACCURACY_AXIS, STEP_AXIS, curveFigure } from './recipes.js';

function barsFigure(run: RunView): FigureOutcome {
  const id = 'train-test';
  const title = 'Train and test accuracy per arm: BN and dropout as regularizers';
  const train = pickMetric(run.trials, ['trainAccuracy', 'finalTrainAccuracy']);
  const test = pickMetric(run.trials, ['testAccuracy', 'finalTestAccuracy']);
  if (!train || !test) return skip(id, title, 'needs metrics "trainAccuracy" and "testAccuracy"');
  const groups = groupTrials(run.trials);
  const rows: BarRow[] = [];
  const gaps: string[] = [];
  for (const g of groups) {
    const a = metricCI(g, train);
    const b = metricCI(g, test);
    rows.push({ category: g.label, sub: 'train', mean: a.mean, lo: a.lo, hi: a.hi, n: a.n });
    rows.push({ category: g.label, sub: 'test', mean: b.mean, lo: b.lo, hi: b.hi, n: b.n });
    if (Number.isFinite(a.mean) && Number.isFinite(b.mean)) gaps.push(`${g.label} ${((a.mean - b.mean) * 100).toFixed(1)}`);
  }
  const caption =
    `Train − test gap in points: ${gaps.join(', ')} (bars: mean over ${seedsPhrase(groups)}, error bars: 95% CI, Student t over seeds).`;
  return figure(
    id,
    title,
    caption,
    barChart(rows, { x: 'arm (normalization + dropout)', y: { ...ACCURACY_AXIS('final accuracy (%)'), domain: [0, 1] }, legend: 'split' }),
  );
}

/** Figure builders of the regularization experiment. */
export const regularizationFigures: FigureBuilder = (run) => [
  barsFigure(run),
  curveFigure(run, {
    id: 'gap',
    title: 'Train − test accuracy gap over training',
    curves: ['gap', 'generalizationGap'],
    x: STEP_AXIS,
    y: { title: 'train − test accuracy (points)', format: '.0%' },
    what: 'Gap',
    percent: true,
  }),
];
