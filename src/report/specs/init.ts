// init: heatmaps of final test accuracy over init scale x activation, one panel per arm (BN vs plain).
import type { Trial } from '../../lab/results.js';
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { fmtParam, groupTrials, metricCI, pickMetric, seedsPhrase } from '../group.js';
import { heatmap, type CellRow } from './vega-blocks.js';
import { ACCURACY_METRICS } from './recipes.js';

/** Column label of a trial's init: N(0, std) for a Gaussian of that std, else the scheme's name. */
export function initLabel(p: Trial['params']): string {
  if (typeof p.std === 'number' && (p.init === undefined || p.init === 'normal')) return `N(0, ${fmtParam(p.std)})`;
  return String(p.init ?? p.scheme ?? 'default');
}

/** Gaussian inits by std first (small to large), then the named schemes. */
function initOrder(trials: readonly Trial[]): string[] {
  const normal = [...new Set(trials.filter((t) => typeof t.params.std === 'number').map((t) => t.params.std as number))].sort((a, b) => a - b);
  const named = [...new Set(trials.map((t) => initLabel(t.params)))];
  const first = normal.map((s) => `N(0, ${fmtParam(s)})`);
  return [...first.filter((l) => named.includes(l)), ...named.filter((l) => !first.includes(l))];
}

function heatmapFigure(run: RunView): FigureOutcome {
  const id = 'heatmap';
  const title = 'Final test accuracy over weight init x activation, without and with BN';
  const metric = pickMetric(run.trials, ACCURACY_METRICS);
  if (!metric) return skip(id, title, `no metric named ${ACCURACY_METRICS.join(' or ')}`);
  const trials = run.trials.filter((t) => 'std' in t.params || 'init' in t.params);
  if (trials.length === 0) return skip(id, title, 'no trial has an "init" or "std" param');
  const actOf = (t: Trial) => String(t.params.activation ?? 'default');
  const xOrder = initOrder(trials);
  const yOrder = [...new Set(trials.map(actOf))];
  const arms = [...new Set(trials.map((t) => t.arm))].sort((a, b) => (a === 'plain' ? -1 : b === 'plain' ? 1 : a.localeCompare(b)));
  const rows: CellRow[] = [];
  const armMeans = new Map<string, number[]>();
  for (const arm of arms) {
    for (const act of yOrder) {
      for (const init of xOrder) {
        const ts = trials.filter((t) => t.arm === arm && actOf(t) === act && initLabel(t.params) === init);
        if (ts.length === 0) continue;
        const ci = metricCI({ arm, params: {}, label: arm, trials: ts }, metric);
        const value = Number.isFinite(ci.mean) ? ci.mean : null;
        if (value !== null) armMeans.set(arm, [...(armMeans.get(arm) ?? []), value]);
        const div = ts.filter((t) => t.diverged).length;
        rows.push({ x: init, y: act, panel: arm, value, label: value === null ? 'n/a' : `${Math.round(value * 100)}${div ? '†' : ''}` });
      }
    }
  }
  if (rows.length === 0) return skip(id, title, 'no cells with values');
  const avg = (a: string) => {
    const v = armMeans.get(a) ?? [];
    return v.length ? `${((v.reduce((p, q) => p + q, 0) / v.length) * 100).toFixed(1)}%` : 'n/a';
  };
  const worst = (a: string) => {
    const v = armMeans.get(a) ?? [];
    return v.length ? `${(Math.min(...v) * 100).toFixed(1)}%` : 'n/a';
  };
  const caption =
    `Averaged over the ${xOrder.length * yOrder.length} cells, ${arms.map((a) => `${a} reaches ${avg(a)} (worst cell ${worst(a)})`).join(' vs ')}; ` +
    `cells show mean test accuracy in % over ${seedsPhrase(groupTrials(trials))}, no interval drawn (the findings table holds the tests; ` +
    'N(0, σ): Gaussian weights of std σ; † marks cells where a seed diverged).';
  return figure(
    id,
    title,
    caption,
    heatmap(rows, {
      x: 'weight init',
      y: 'activation',
      color: { title: 'test accuracy', domain: [0, 1], format: '.0%' },
      xOrder,
      yOrder,
      facet: { title: '', order: arms },
    }),
  );
}

/** Figure builders of the init experiment. */
export const initFigures: FigureBuilder = (run) => [heatmapFigure(run)];
