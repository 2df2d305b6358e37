// placement: final accuracy per BN placement in each net and activation, and test accuracy curves per placement.
import type { Trial } from '../../lab/results.js';
import { meanCI } from '../../lab/stats.js';
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { curveBand, groupTrials, seedsPhrase, type BandRow } from '../group.js';
import { bandChart, barChart, type BarRow } from './vega-blocks.js';
import { ACCURACY_AXIS, STEP_AXIS } from './recipes.js';

const panelOf = (t: Trial) => `${t.params.net === 'cnn' ? 'convnet' : 'MLP'}, ${String(t.params.activation)}`;

function barsFigure(run: RunView): FigureOutcome {
  const id = 'accuracy-by-placement';
  const title = 'Final test accuracy per BN placement, in the MLP and the convnet, with ReLU and sigmoid';
  const trials = run.trials.filter((t) => typeof t.metrics.finalTestAccuracy === 'number');
  if (trials.length === 0) return skip(id, title, 'no metric "finalTestAccuracy" in the trials');
  const panels = [...new Set(trials.map(panelOf))];
  const arms = [...new Set(trials.map((t) => t.arm))];
  const rows: BarRow[] = [];
  for (const p of panels) {
    for (const a of arms) {
      const ci = meanCI(trials.filter((t) => panelOf(t) === p && t.arm === a).map((t) => t.metrics.finalTestAccuracy));
      if (ci.n > 0) rows.push({ category: p, sub: a, mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n });
    }
  }
  const best = panels.map((p) => {
    const top = rows.filter((r) => r.category === p).sort((a, b) => b.mean - a.mean)[0];
    return `${p}: ${top.sub} (${(100 * top.mean).toFixed(1)}%)`;
  });
  const caption = `Highest mean: ${best.join('; ')} (bars: mean over ${seedsPhrase(groupTrials(trials))}, error bars: 95% CI, Student t over seeds).`;
  const y = { ...ACCURACY_AXIS('final test accuracy (%)'), domain: [0, 1] as [number, number] };
  return figure(id, title, caption, barChart(rows, { x: 'net, activation', y, legend: 'placement' }));
}

function curvesFigure(run: RunView): FigureOutcome {
  const id = 'curves-by-placement';
  const title = 'Test accuracy over training per BN placement';
  const trials = run.trials.filter((t) => (t.curves.testAccuracy ?? []).length > 0);
  if (trials.length === 0) return skip(id, title, 'no curve named "testAccuracy" in the trials');
  const panels = [...new Set(trials.map(panelOf))];
  const rows: (BandRow & { panel: string })[] = [];
  for (const p of panels) {
    const groups = groupTrials(trials.filter((t) => panelOf(t) === p), ['net', 'activation']);
    for (const g of groups) rows.push(...curveBand(g, 'testAccuracy').map((r) => ({ ...r, panel: p })));
  }
  const seeds = seedsPhrase(groupTrials(trials, ['net', 'activation']));
  const caption = `Mean test accuracy per placement in each net and activation (bands: 95% CI, Student t over ${seeds}).`;
  return figure(id, title, caption, bandChart(rows, { x: STEP_AXIS, y: ACCURACY_AXIS(), legend: 'placement', facet: { title: '', order: panels } }));
}

/** Figure builders of the placement experiment. */
export const placementFigures: FigureBuilder = (run) => [barsFigure(run), curvesFigure(run)];
