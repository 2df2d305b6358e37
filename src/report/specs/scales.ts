// scales: training loss curves for raw / standardized / BN inputs on scales 1 to 10^4, per learning rate.
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { curveBand, fmtParam, groupTrials, pickCurve, seedsPhrase, type BandRow } from '../group.js';
import { bandChart, num } from './vega-blocks.js';
import { ACCURACY_AXIS, ACCURACY_METRICS, LOSS_CURVES, STEP_AXIS, sweepFigure } from './recipes.js';

function lossFigure(run: RunView): FigureOutcome {
  const id = 'loss-curves';
  const title = 'Training loss with raw, standardized and batch-normalized inputs';
  const curve = pickCurve(run.trials, LOSS_CURVES);
  if (!curve) return skip(id, title, `no curve named ${LOSS_CURVES.join(' or ')}`);
  const lrs = [...new Set(run.trials.map((t) => t.params.lr).filter((v): v is number => typeof v === 'number'))].sort((a, b) => a - b);
  const panelOf = (lr: unknown) => (typeof lr === 'number' ? `learning rate ${fmtParam(lr)}` : 'all');
  const groups = groupTrials(run.trials, ['lr']);
  const rows: (BandRow & { panel: string })[] = [];
  for (const g of groups) {
    for (const lr of lrs.length ? lrs : [undefined]) {
      const sub = { ...g, trials: g.trials.filter((t) => lr === undefined || t.params.lr === lr) };
      if (sub.trials.length) for (const r of curveBand(sub, curve)) if (r.mean > 0) rows.push({ ...r, panel: panelOf(lr) });
    }
  }
  if (rows.length === 0) return skip(id, title, `curve "${curve}" holds no positive finite points`);
  // Caption: the final loss of each arm at its best learning rate.
  const best = groups.map((g) => {
    const finals = [...new Set(rows.map((r) => r.panel))].map((p) => {
      const pts = rows.filter((r) => r.series === g.label && r.panel === p);
      return pts.length ? { p, v: pts[pts.length - 1].mean } : null;
    });
    const b = finals.filter((f): f is { p: string; v: number } => f !== null).sort((x, y) => x.v - y.v)[0];
    return b ? `${g.label} ${num(b.v)} (${b.p})` : `${g.label} n/a`;
  });
  const caption = `Lowest final training loss: ${best.join(', ')}; lines: mean over ${seedsPhrase(groups)} (log scale), bands: 95% CI ` +
    '(Student t over seeds); diverged runs end early.';
  return figure(
    id,
    title,
    caption,
    bandChart(rows, {
      x: STEP_AXIS,
      y: { title: 'training loss (cross-entropy, log scale)', log: true },
      legend: 'input handling',
      facet: lrs.length > 1 ? { title: '', order: lrs.map(panelOf) } : undefined,
    }),
  );
}

/** Figure builders of the scales experiment. */
export const scalesFigures: FigureBuilder = (run) => [
  lossFigure(run),
  sweepFigure(run, {
    id: 'accuracy-vs-lr',
    title: 'Final test accuracy vs learning rate, per input handling',
    params: ['lr'],
    metrics: ACCURACY_METRICS,
    x: { title: 'learning rate (SGD step size, log scale)', log: true },
    y: { ...ACCURACY_AXIS('final test accuracy (%)'), domain: [0, 1] },
    legend: 'input handling',
  }),
];
