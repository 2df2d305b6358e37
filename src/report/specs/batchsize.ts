// batchsize: final test accuracy vs batch size for each normalization (BN, Batch Renorm, Ghost BN, GroupNorm, LayerNorm).
import type { FigureBuilder } from '../figure.js';
import { ACCURACY_AXIS, ACCURACY_METRICS, sweepFigure } from './recipes.js';
import { num } from './vega-blocks.js';

/** Figure builders of the batchsize experiment. */
export const batchsizeFigures: FigureBuilder = (run) => [
  sweepFigure(run, {
    id: 'accuracy-vs-batch-size',
    title: 'Final test accuracy vs batch size, per normalization (same number of examples seen)',
    params: ['batchSize', 'batch'],
    metrics: ACCURACY_METRICS,
    x: { title: 'training batch size (examples, log scale)', log: true },
    y: ACCURACY_AXIS('final test accuracy (%)'),
    legend: 'normalization',
    caption: (rows, seeds) => {
      const small = Math.min(...rows.map((r) => r.x));
      const large = Math.max(...rows.map((r) => r.x));
      const at = (x: number) =>
        rows
          .filter((r) => r.x === x && Number.isFinite(r.mean))
          .sort((a, b) => b.mean - a.mean)
          .map((r) => `${r.series} ${(r.mean * 100).toFixed(1)}%`)
          .join(', ');
      const div = rows.reduce((a, r) => a + r.flagged, 0);
      const crosses = div ? `; crosses mark ${div} diverged trial${div === 1 ? '' : 's'}` : '';
      return `At batch size ${num(small)}: ${at(small)}; at ${num(large)}: ${at(large)}${crosses} (mean ± 95% CI, Student t over ${seeds}).`;
    },
  }),
];
