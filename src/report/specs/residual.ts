// residual: accuracy vs learning rate per arm (and batch size), gradient norm per block at initialization, curves at each arm's best lr.
import type { Trial } from '../../lab/results.js';
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { curveBand, groupTrials, seedsPhrase, type BandRow } from '../group.js';
import { bandChart, num } from './vega-blocks.js';
import { ACCURACY_AXIS, ACCURACY_METRICS, sweepFigure } from './recipes.js';
import { curvesAtBestLr, trainedCaption } from './cnn.js';

/** Gradient norm of each block at init: one trial per (arm, seed, batch size) suffices, all lrs start alike. */
function gradFigure(run: RunView): FigureOutcome {
  const id = 'init-grad-per-block';
  const title = 'Gradient norm per residual block at initialization';
  const lrs = run.trials.map((t) => t.params.lr).filter((x): x is number => typeof x === 'number');
  const first = lrs.length ? Math.min(...lrs) : null;
  const trials = run.trials.filter((t: Trial) => (first === null || t.params.lr === first) && (t.curves.initGradNorm ?? []).length > 0);
  if (trials.length === 0) return skip(id, title, 'no curve named "initGradNorm" ([[block, norm], ...]) in the trials');
  const groups = groupTrials(trials, ['lr']);
  // A log axis cannot show 0: SkipInit's identity blocks get gradient only through alpha, which may be exactly 0 nowhere else.
  const rows: BandRow[] = groups.flatMap((g) => curveBand(g, 'initGradNorm')).filter((r) => r.mean > 0);
  if (rows.length === 0) return skip(id, title, 'gradient norm curves hold no positive finite points');
  const ratio = groups.map((g) => {
    const pts = rows.filter((r) => r.series === g.label).sort((a, b) => a.x - b.x);
    return `${g.label} ${pts.length >= 2 ? num(pts[0].mean / pts[pts.length - 1].mean) : 'n/a'}`;
  });
  const caption =
    `First-to-last block gradient norm ratio at initialization: ${ratio.join(', ')} ` +
    `(mean over ${seedsPhrase(groups)}; bands are 95% CIs, Student t over seeds).`;
  const x = { title: 'residual block (1 = nearest the input)', integer: true };
  return figure(id, title, caption, bandChart(rows, { x, y: { title: 'gradient norm of the block (log scale)', log: true }, legend: 'arm' }));
}

/** Figure builders of the residual experiment. */
export const residualFigures: FigureBuilder = (run) => [
  sweepFigure(run, {
    id: 'accuracy-vs-lr',
    title: 'Final test accuracy vs learning rate: BN, no norm, SkipInit, zero last gamma',
    params: ['lr'],
    metrics: ACCURACY_METRICS,
    x: { title: 'learning rate (SGD step size, log scale)', log: true },
    y: { ...ACCURACY_AXIS('final test accuracy (%)'), domain: [0, 1] },
    flag: (t) => t.diverged || t.metrics.trained === 0,
    flagLabel: 'did not train (≥1 seed)',
    caption: trainedCaption,
  }),
  gradFigure(run),
  curvesAtBestLr(run, {
    id: 'curves-at-best-lr',
    title: 'Test accuracy over training, each arm at its best learning rate',
    key: (t) => `${t.arm}|${String(t.params.batchSize)}`,
  }),
];
