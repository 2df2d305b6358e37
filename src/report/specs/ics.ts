// ics: input drift and gradient change per layer, smoothness along the gradient over training, and noisy-BN accuracy curves.
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { curveBand, curveNames, groupTrials, layerProfile, seedsPhrase, type BandRow, type Group } from '../group.js';
import { bandChart, num } from './vega-blocks.js';
import { ACCURACY_AXIS, ACCURACY_CURVES, STEP_AXIS, curveFigure } from './recipes.js';

/** A per-layer quantity: curves `<prefix><k>` averaged over training, shown as one facet panel. */
interface LayerPanel {
  prefix: string;
  panel: string;
}

/** "label mean" per group, the mean taken over the group's points in one facet panel: a caption's summary of the first panel. */
function panelAverages(groups: readonly Group[], rows: readonly (BandRow & { panel: string })[], panel: string): string[] {
  return groups.map((g) => {
    const v = rows.filter((r) => r.panel === panel && r.series === g.label).map((r) => r.mean);
    return `${g.label} ${v.length ? num(v.reduce((a, b) => a + b, 0) / v.length) : 'n/a'}`;
  });
}

/** Per-layer profiles of the given prefixes, one facet panel each, independent y scales. */
function layerFigure(run: RunView, o: { id: string; title: string; panels: LayerPanel[]; y: string; what: string }): FigureOutcome {
  const names = curveNames(run.trials);
  const present = o.panels.filter((p) => names.some((n) => new RegExp(`^${p.prefix}\\d+$`).test(n)));
  if (present.length === 0) return skip(o.id, o.title, `no per-layer curves named ${o.panels.map((p) => `"${p.prefix}<layer>"`).join(' or ')}`);
  const groups = groupTrials(run.trials);
  const rows: (BandRow & { panel: string })[] = [];
  for (const p of present) for (const g of groups) for (const r of layerProfile(g, p.prefix)) rows.push({ ...r, panel: p.panel });
  if (rows.length === 0) return skip(o.id, o.title, 'per-layer curves hold no finite points');
  const avg = panelAverages(groups, rows, present[0].panel);
  const caption = `${o.what} averaged over layers and training: ${avg.join(', ')} (each layer's curve averaged over training, ` +
    `then over ${seedsPhrase(groups)}; bands: 95% CI, Student t over seeds).`;
  return figure(
    o.id,
    o.title,
    caption,
    bandChart(rows, {
      x: { title: 'layer (Linear layer number, 1 = first)', integer: true },
      y: { title: o.y },
      legend: 'arm',
      facet: { title: '', order: present.map((p) => p.panel), independentY: true },
    }),
  );
}

function smoothnessFigure(run: RunView): FigureOutcome {
  const id = 'smoothness';
  const title = 'Loss landscape along the gradient over training (Santurkar et al.)';
  const quantities = [
    { curve: 'lossRange', panel: 'loss range along the gradient' },
    { curve: 'gradChange', panel: 'gradient change ‖ΔG‖ along it' },
    { curve: 'betaSmoothness', panel: 'effective β-smoothness' },
  ].filter((q) => curveNames(run.trials).includes(q.curve));
  if (quantities.length === 0) return skip(id, title, 'no curves named "lossRange", "gradChange" or "betaSmoothness"');
  const groups = groupTrials(run.trials);
  const rows: (BandRow & { panel: string })[] = [];
  for (const q of quantities) for (const g of groups) for (const r of curveBand(g, q.curve)) if (r.mean > 0) rows.push({ ...r, panel: q.panel });
  if (rows.length === 0) return skip(id, title, 'smoothness curves hold no positive finite points');
  const first = quantities[0].panel;
  const avg = panelAverages(groups, rows, first);
  const caption = `Smaller is smoother: the mean ${first} over training is ${avg.join(', ')} (lines: mean over ${seedsPhrase(groups)}, bands: ` +
    '95% CI, Student t over seeds).';
  return figure(
    id,
    title,
    caption,
    bandChart(rows, {
      x: STEP_AXIS,
      y: { title: 'range over step sizes (log scale)', log: true },
      legend: 'arm',
      facet: { title: '', order: quantities.map((q) => q.panel), independentY: true },
    }),
  );
}

/** Figure builders of the ics experiment. */
export const icsFigures: FigureBuilder = (run) => [
  layerFigure(run, {
    id: 'drift',
    title: "Distribution drift of each layer's input over training",
    panels: [
      { prefix: 'meanDriftL', panel: 'mean drift' },
      { prefix: 'stdDriftL', panel: 'std drift' },
    ],
    y: 'drift between probes (input units)',
    what: 'Mean drift',
  }),
  layerFigure(run, {
    id: 'gradient-change',
    title: "Internal covariate shift as gradient change per layer (Santurkar et al.'s definition)",
    panels: [
      { prefix: 'icsL2L', panel: '‖G − G′‖₂ after earlier layers update' },
      { prefix: 'icsCosL', panel: 'cos(G, G′)' },
    ],
    y: '‖G − G′‖₂ (left), cosine (right)',
    what: 'Gradient change ‖G − G′‖',
  }),
  smoothnessFigure(run),
  curveFigure(run, {
    id: 'noisy-bn',
    title: 'Test accuracy with plain, BN, and BN followed by fresh noise every step (noisy BN)',
    curves: ACCURACY_CURVES,
    x: STEP_AXIS,
    y: ACCURACY_AXIS(),
    what: 'Test accuracy',
  }),
];
