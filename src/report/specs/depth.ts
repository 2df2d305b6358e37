// depth: gradient norm per layer (log scale) at init and after training, BN vs plain; first/last gradient ratio vs depth.
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { curveBand, fmtParam, groupTrials, pickCurve, seedsPhrase, type BandRow } from '../group.js';
import { bandChart, num } from './vega-blocks.js';
import { sweepFigure } from './recipes.js';

function profileFigure(run: RunView): FigureOutcome {
  const id = 'grad-norm-per-layer';
  const depths = [...new Set(run.trials.map((t) => t.params.depth).filter((d): d is number => typeof d === 'number'))];
  const deepest = depths.length ? Math.max(...depths) : null;
  const title = `Gradient norm per layer at init and after training${deepest === null ? '' : ` (${deepest} hidden layers)`}, with and without BN`;
  const init = pickCurve(run.trials, ['gradNormInit', 'gradNormsInit']);
  if (!init) return skip(id, title, 'no curve named "gradNormInit" ([[layer, norm], ...]) in the trials');
  const trained = pickCurve(run.trials, ['gradNormTrained', 'gradNormsTrained']);
  // The deepest net shows the effect most; the other depths are in the ratio figure.
  const trials = run.trials.filter((t) => deepest === null || t.params.depth === deepest);
  const groups = groupTrials(trials, ['depth', 'activation']);
  const acts = [...new Set(trials.map((t) => String(t.params.activation ?? '')))];
  const rows: (BandRow & { panel: string; row: string })[] = [];
  for (const act of acts) {
    for (const g of groups) {
      const sub = { ...g, trials: g.trials.filter((t) => String(t.params.activation ?? '') === act) };
      if (sub.trials.length === 0) continue;
      for (const [curve, panel] of [[init, 'at initialization'], [trained, 'after training']] as const) {
        if (!curve) continue;
        for (const r of curveBand(sub, curve)) if (r.mean > 0) rows.push({ ...r, panel, row: act ? `activation: ${act}` : '' });
      }
    }
  }
  if (rows.length === 0) return skip(id, title, 'gradient norm curves hold no positive finite points');
  // Caption: first/last layer ratio at init per arm, over the activations (the explosion Yang et al. describe).
  const ratio = groups.map((g) => {
    const r = rows.filter((x) => x.series === g.label && x.panel === 'at initialization');
    const byAct = [...new Set(r.map((x) => x.row))].map((row) => {
      const pts = r.filter((x) => x.row === row).sort((a, b) => a.x - b.x);
      return pts.length >= 2 ? pts[0].mean / pts[pts.length - 1].mean : NaN;
    });
    const ok = byAct.filter(Number.isFinite);
    return `${g.label} ${ok.length ? ok.map(num).join(' / ') : 'n/a'}`;
  });
  const caption = 'At initialization the first-to-last layer gradient norm ratio is ' +
    `${ratio.join(', ')}${acts.length > 1 ? ` (per activation: ${acts.join(' / ')})` : ''}; ` +
    `mean over ${seedsPhrase(groups)}, bands are 95% CIs (Student t over seeds).`;
  return figure(
    id,
    title,
    caption,
    bandChart(rows, {
      x: { title: 'Linear layer (1 = nearest the input, last = output)', integer: true },
      y: { title: 'gradient norm ‖∂L/∂W‖ (log scale)', log: true },
      legend: 'arm',
      facet: {
        title: '',
        order: ['at initialization', 'after training'],
        row: acts.length > 1 || acts[0] ? { title: '', order: acts.map((a) => `activation: ${a}`) } : undefined,
      },
    }),
  );
}

/** Figure builders of the depth experiment. */
export const depthFigures: FigureBuilder = (run) => [
  profileFigure(run),
  sweepFigure(run, {
    id: 'grad-ratio-vs-depth',
    title: 'First-to-last layer gradient ratio at initialization vs depth',
    params: ['depth', 'layers'],
    metrics: ['log10GradRatioInit'],
    x: { title: 'hidden layers (depth)', integer: true },
    y: { title: 'log10(‖∂L/∂W₁‖ / ‖∂L/∂W_last‖) at init' },
    caption: (rows, seeds) => {
      const top = Math.max(...rows.map((r) => r.x));
      const at = rows.filter((r) => r.x === top && Number.isFinite(r.mean)).map((r) => `${r.series} ${num(r.mean)}`);
      return `At depth ${fmtParam(top)} the log10 ratio is ${at.join(', ')} (0 = balanced, > 0 = gradients grow towards the input; ` +
        `mean ± 95% CI, Student t over ${seeds}).`;
    },
  }),
];
