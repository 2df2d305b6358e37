// inference: accuracy with running averages / batch statistics / population statistics vs momentum and eval batch size.
import type { Trial } from '../../lab/results.js';
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { curveBand, groupTrials, metricCI, pickCurve, seedsPhrase, type BandRow, type Group } from '../group.js';
import { bandChart, barChart, type BarRow } from './vega-blocks.js';
import { ACCURACY_AXIS, STEP_AXIS, finalPhrase } from './recipes.js';

/** The ways of normalizing at inference the experiment measures, by metric name. */
const MODES = [
  { metric: 'accRunning', label: 'running averages (eval mode)' },
  { metric: 'accRunningBiased', label: 'running averages, biased variance' },
  { metric: 'accPopulation', label: 'population statistics' },
  { metric: 'accBatchStats', label: 'batch statistics (train mode)' },
];

/** "momentum 0.1" / "cumulative average" (momentum null is PyTorch's cumulative moving average). */
function momentumLabel(t: Trial): string {
  if (!('momentum' in t.params)) return t.arm;
  const m = t.params.momentum;
  return m === null ? 'cumulative average' : `momentum ${String(m)}`;
}

/** "85.3%" or "85.3–87.5%": accuracies (fractions) as one value or their range. */
function pctRange(values: readonly number[]): string {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return 'n/a';
  const lo = (Math.min(...v) * 100).toFixed(1);
  const hi = (Math.max(...v) * 100).toFixed(1);
  return lo === hi ? `${lo}%` : `${lo}–${hi}%`;
}

/** Groups by momentum with readable labels. */
function byMomentum(trials: readonly Trial[]): Group[] {
  return groupTrials(trials).map((g) => ({ ...g, label: momentumLabel(g.trials[0]) }));
}

function modesFigure(run: RunView): FigureOutcome {
  const id = 'modes-vs-momentum';
  const title = 'Test accuracy by inference statistics and running-average momentum';
  const modes = MODES.filter((m) => run.trials.some((t) => typeof t.metrics[m.metric] === 'number'));
  if (modes.length === 0) return skip(id, title, `no metrics named ${MODES.map((m) => `"${m.metric}"`).join(', ')}`);
  const groups = byMomentum(run.trials);
  const rows: BarRow[] = [];
  for (const g of groups) {
    for (const m of modes) {
      const ci = metricCI(g, m.metric);
      if (ci.n > 0) rows.push({ category: g.label, sub: m.label, mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n });
    }
  }
  if (rows.length === 0) return skip(id, title, 'all inference metrics are null (every trial diverged?)');
  // One phrase per way of inference: its mean accuracy, as a range over the momenta when there are several.
  const parts = modes.map((m) => `${m.label.split(' (')[0]} ${pctRange(rows.filter((r) => r.sub === m.label).map((r) => r.mean))}`);
  const caption = `Test accuracy over ${groups.length === 1 ? groups[0].label : `${groups.length} momenta`}: ${parts.join(', ')} ` +
    `(dots: mean over ${seedsPhrase(groups)}, bars: 95% CI, Student t over seeds).`;
  return figure(
    id,
    title,
    caption,
    barChart(rows, { x: 'running-average momentum (PyTorch convention)', y: ACCURACY_AXIS(), legend: 'statistics used at inference', dots: true }),
  );
}

function evalBatchFigure(run: RunView): FigureOutcome {
  const id = 'accuracy-vs-eval-batch';
  const title = 'Test accuracy with batch statistics at inference vs evaluation batch size';
  const curve = pickCurve(run.trials, ['accuracyVsEvalBatch', 'accVsEvalBatch']);
  if (!curve) return skip(id, title, 'no curve named "accuracyVsEvalBatch" ([[batch size, accuracy], ...])');
  const groups = byMomentum(run.trials);
  const rows: BandRow[] = groups.flatMap((g) => curveBand(g, curve));
  if (rows.length === 0) return skip(id, title, `curve "${curve}" holds no finite points`);
  const small = Math.min(...rows.map((r) => r.x));
  const large = Math.max(...rows.map((r) => r.x));
  const at = (x: number) => pctRange(rows.filter((r) => r.x === x).map((r) => r.mean));
  const running = pctRange(groups.map((g) => metricCI(g, 'accRunning').mean));
  const caption = `Normalizing test batches with their own statistics gives ${at(small)} at batch size ${small} and ${at(large)} at ${large}, ` +
    `vs ${running} with running averages (lines: mean over ${seedsPhrase(groups)}, bands: 95% CI, Student t over seeds).`;
  const xs = [...new Set(rows.map((r) => r.x))].sort((a, b) => a - b);
  return figure(
    id,
    title,
    caption,
    bandChart(rows, {
      x: { title: 'evaluation batch size (examples, log scale)', log: true, values: xs },
      y: ACCURACY_AXIS(),
      legend: 'BN trained with',
    }),
  );
}

function trackingFigure(run: RunView): FigureOutcome {
  const id = 'running-vs-population';
  const title = 'How far running averages are from population statistics during training';
  const panels = [
    { curve: 'runningMeanError', panel: 'mean: |running − population|' },
    { curve: 'runningVarError', panel: 'variance: |log running − log population|' },
  ].filter((p) => run.trials.some((t) => (t.curves[p.curve]?.length ?? 0) > 0));
  if (panels.length === 0) return skip(id, title, 'no curves named "runningMeanError" or "runningVarError"');
  const groups = byMomentum(run.trials);
  const rows: (BandRow & { panel: string })[] = [];
  for (const p of panels) for (const g of groups) for (const r of curveBand(g, p.curve)) rows.push({ ...r, panel: p.panel });
  const caption = `Error of the running statistics ${finalPhrase(rows.filter((r) => r.panel === panels[0].panel), false)} (${panels[0].panel}; ` +
    `mean ± 95% CI, Student t over ${seedsPhrase(groups)}).`;
  return figure(
    id,
    title,
    caption,
    bandChart(rows, {
      x: STEP_AXIS,
      y: { title: 'error, averaged over BN units' },
      legend: 'BN trained with',
      facet: { title: '', order: panels.map((p) => p.panel), independentY: true },
    }),
  );
}

/** Figure builders of the inference experiment. */
export const inferenceFigures: FigureBuilder = (run) => [modesFigure(run), evalBatchFigure(run), trackingFigure(run)];
