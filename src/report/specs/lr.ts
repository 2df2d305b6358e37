// lr: final accuracy and steps to the target accuracy vs learning rate, BN vs plain, diverged runs crossed.
import type { FigureBuilder } from '../figure.js';
import { ACCURACY_AXIS, ACCURACY_METRICS, sweepFigure } from './recipes.js';

const LR = ['lr', 'learningRate', 'lrMultiplier'];
const LR_AXIS = { title: 'learning rate (SGD step size, log scale)', log: true };

/** Figure builders of the lr experiment. */
export const lrFigures: FigureBuilder = (run) => [
  sweepFigure(run, {
    id: 'accuracy-vs-lr',
    title: 'Final test accuracy vs learning rate, with and without BN',
    params: LR,
    metrics: ACCURACY_METRICS,
    x: LR_AXIS,
    y: { ...ACCURACY_AXIS('final test accuracy (%)'), domain: [0, 1] },
  }),
  sweepFigure(run, {
    id: 'steps-vs-lr',
    title: 'Steps to the target accuracy vs learning rate',
    params: LR,
    metrics: ['stepsToTarget', 'stepsToReach'],
    x: LR_AXIS,
    y: { title: 'steps to target accuracy (mini-batches)', zero: true, min: 0 },
    flag: (t, m) => t.diverged || t.metrics[m] === null,
    flagLabel: 'diverged / not reached (≥1 seed)',
    caption: (rows, seeds) => {
      const series = [...new Set(rows.map((r) => r.series))];
      const parts = series.map((s) => {
        const fastest = rows.filter((r) => r.series === s && Number.isFinite(r.mean)).sort((a, b) => a.mean - b.mean)[0];
        return fastest ? `${s} needs ${Math.round(fastest.mean)} steps at lr ${fastest.x}` : `${s} never reaches it`;
      });
      return `Fewest steps to the target: ${parts.join(', ')} (mean ± 95% CI, Student t over ${seeds}; ` +
        'seeds that never reach the target are left out and crossed).';
    },
  }),
];
