// fig1: the paper's Figure 1 — test accuracy vs steps (1a) and a last-layer sigmoid input's percentiles over training (1b, 1c).
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { curveBand, curveNames, groupTrials, seedsPhrase, type BandRow } from '../group.js';
import { bandChart } from './common.js';
import { ACCURACY_AXIS, ACCURACY_CURVES, STEP_AXIS, curveFigure } from './shared.js';

/** Percentile curves are named `<unit>.p<q>` (e.g. unit0.p15); also accepted: `<unit>_p15`, `<unit>P15`. */
const PCT = /^(.*?)[._-]?[pP](\d{1,2})$/;

/** Units with percentile curves, each with the percentiles present (sorted), in first-seen order. */
export function percentileUnits(names: readonly string[]): { unit: string; qs: number[]; names: Map<number, string> }[] {
  const units = new Map<string, Map<number, string>>();
  for (const n of names) {
    const m = PCT.exec(n);
    if (!m) continue;
    const q = Number(m[2]);
    if (!units.has(m[1])) units.set(m[1], new Map());
    units.get(m[1])!.set(q, n);
  }
  return [...units].map(([unit, qs]) => ({ unit, qs: [...qs.keys()].sort((a, b) => a - b), names: qs })).filter((u) => u.qs.length >= 2);
}

/** Plain first (the paper's 1b is without BN), then BN, then anything else. */
function armOrder(labels: string[]): string[] {
  const rank = (l: string) => (/^(plain|none|no-?bn)/i.test(l) ? 0 : /^bn/i.test(l) ? 1 : 2);
  return [...labels].sort((a, b) => rank(a) - rank(b));
}

function percentileFigure(run: RunView): FigureOutcome {
  const id = 'percentiles';
  const title = 'Figure 1b, 1c: percentiles of a last-layer sigmoid input over training, without and with BN';
  const units = percentileUnits(curveNames(run.trials));
  if (units.length === 0) return skip(id, title, 'no percentile curves (named like "unit0.p15", "unit0.p50", "unit0.p85") in the trials');
  const u = units[0];
  const groups = groupTrials(run.trials.filter((t) => u.names.get(u.qs[0])! in t.curves));
  const rows: (BandRow & { panel: string })[] = [];
  for (const g of groups) {
    for (const q of u.qs) {
      for (const r of curveBand(g, u.names.get(q)!)) rows.push({ ...r, series: `${q}th percentile`, panel: g.label });
    }
  }
  if (rows.length === 0) return skip(id, title, `percentile curves of "${u.unit}" hold no finite points`);
  const panels = armOrder(groups.map((g) => g.label));
  const mid = u.qs.includes(50) ? 50 : u.qs[Math.floor(u.qs.length / 2)];
  // The drift the paper shows: how far the median moves from the first to the last evaluation.
  const drift = panels.map((p) => {
    const med = rows.filter((r) => r.panel === p && r.series === `${mid}th percentile`);
    if (med.length < 2) return `${p} n/a`;
    return `${p} ${med[0].mean.toFixed(2)} → ${med[med.length - 1].mean.toFixed(2)}`;
  });
  const caption = `The ${mid}th percentile of ${u.unit}'s input moves ${drift.join(', ')} over training; lines are means over ${seedsPhrase(groups)}, shading their 95% CI.`;
  return figure(
    id,
    title,
    caption,
    bandChart(rows, { x: STEP_AXIS, y: { title: 'sigmoid input (pre-activation value)' }, legend: 'percentile', facet: { title: '', order: panels } }),
  );
}

/** Figure builders of the fig1 experiment. */
export const fig1Figures: FigureBuilder = (run) => [
  curveFigure(run, {
    id: 'accuracy',
    title: 'Figure 1a: test accuracy vs training steps, with and without BN',
    curves: ACCURACY_CURVES,
    x: STEP_AXIS,
    y: ACCURACY_AXIS(),
    what: 'Test accuracy',
  }),
  percentileFigure(run),
];
