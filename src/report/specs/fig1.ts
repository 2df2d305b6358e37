// fig1: the paper's Figure 1 — test accuracy vs steps (1a) and a last-layer sigmoid input's percentiles over training (1b, 1c).
import type { Trial } from '../../lab/results.js';
import { figure, skip, type FigureBuilder, type FigureOutcome, type RunView } from '../figure.js';
import { curveNames, groupTrials, seedsPhrase, thin } from '../group.js';
import { bootstrapCI } from '../../lab/stats.js';
import { num, percentileChart, type PercentileRow } from './vega-blocks.js';
import { ACCURACY_AXIS, ACCURACY_CURVES, STEP_AXIS, curveFigure } from './recipes.js';

/** Percentile curves are named `<unit>.p<q>` (e.g. unit0.p15); also accepted: `<unit>_p15`, `<unit>P15`. */
const PCT = /^(.*?)[._-]?[pP](\d{1,2})$/;

/** At most this many seeds get a row of panels: more would make the figure too tall for a slide. */
const MAX_SEED_ROWS = 3;

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

/** Bootstrap of the drift caption: fixed seed and resamples, so a report redrawn from the same results says the same. */
const DRIFT_BOOT = { reps: 2000, seed: 1 };

/**
 * Median over seeds of the per-trial drift (range of the 50th percentile) with a percentile-bootstrap 95% CI: a range of a
 * percentile is skewed and bounded below by 0, so the median and a bootstrap interval describe it without assuming normality.
 */
export function driftMedian(trials: readonly Trial[]): ReturnType<typeof bootstrapCI> {
  return bootstrapCI(trials.filter((t) => !t.diverged).map((t) => t.metrics.medianDrift), DRIFT_BOOT);
}

/** Plain first (the paper's 1b is without BN), then BN, then anything else. */
function armOrder(labels: string[]): string[] {
  const rank = (l: string) => (/^(plain|none|no-?bn)/i.test(l) ? 0 : /^bn/i.test(l) ? 1 : 2);
  return [...labels].sort((a, b) => rank(a) - rank(b));
}

/**
 * One unit's percentiles per arm (columns) and seed (rows). Seeds are not averaged: unit 0 of one seed's
 * network is a different neuron from unit 0 of another's, so a mean over seeds would describe no unit.
 * The spread over seeds enters the caption through the per-trial drift metric instead.
 */
function percentileFigure(run: RunView): FigureOutcome {
  const id = 'percentiles';
  const title = "Figure 1b, 1c: a last-layer sigmoid input's 15th/50th/85th percentiles over training, without and with BN";
  const units = percentileUnits(curveNames(run.trials));
  if (units.length === 0) return skip(id, title, 'no percentile curves (named like "unit0.p15", "unit0.p50", "unit0.p85") in the trials');
  const u = units[0];
  const has = (t: Trial) => u.names.get(u.qs[0])! in t.curves;
  const trials = run.trials.filter(has);
  const seeds = [...new Set(trials.map((t) => t.seed))].sort((a, b) => a - b).slice(0, MAX_SEED_ROWS);
  const groups = groupTrials(trials);
  const columns = armOrder(groups.map((g) => g.label));
  const rows: PercentileRow[] = [];
  for (const g of groups) {
    for (const t of g.trials.filter((tr) => seeds.includes(tr.seed))) {
      const byX = new Map<number, PercentileRow>();
      for (const q of u.qs) {
        for (const [x, v] of t.curves[u.names.get(q)!] ?? []) {
          if (!Number.isFinite(x) || !Number.isFinite(v)) continue;
          if (!byX.has(x)) byX.set(x, { panel: g.label, row: `seed ${t.seed}`, x });
          byX.get(x)![`p${q}`] = v;
        }
      }
      // Only points with every percentile: a band needs both edges.
      rows.push(...thin([...byX.values()].filter((r) => u.qs.every((q) => `p${q}` in r)), 400));
    }
  }
  if (rows.length === 0) return skip(id, title, `percentile curves of "${u.unit}" hold no finite points`);
  const drift = columns.map((c) => {
    const g = groups.find((x) => x.label === c)!;
    const b = driftMedian(g.trials);
    if (b.n > 0) return `${c} ${num(b.estimate)} [${num(b.lo)}, ${num(b.hi)}]`;
    // No drift metric: the range of this unit's median over training, per seed, summarized the same way.
    const mid = u.names.get(u.qs[Math.floor(u.qs.length / 2)])!;
    const ranges = g.trials.map((t) => (t.curves[mid] ?? []).map(([, v]) => v)).filter((v) => v.length).map((v) => Math.max(...v) - Math.min(...v));
    const r = bootstrapCI(ranges, DRIFT_BOOT);
    return `${c} ${r.n ? `${num(r.estimate)} [${num(r.lo)}, ${num(r.hi)}]` : 'n/a'}`;
  });
  const shown = seeds.length < new Set(trials.map((t) => t.seed)).size ? ` (the first ${seeds.length} drawn)` : '';
  const caption =
    `Over training the median sigmoid input moved by ${drift.join(' vs ')} (range of the 50th percentile per seed: ` +
    `median over ${seedsPhrase(groups)}${shown} ` +
    `with a seeded percentile-bootstrap 95% CI, ${DRIFT_BOOT.reps.toLocaleString('en-US')} resamples; below 6 seeds it spans at most the ` +
    `smallest to the largest seed and covers less than 95%); shading spans the ${u.qs[0]}th–${u.qs[u.qs.length - 1]}th percentiles ` +
    `of ${u.unit} over test examples.`;
  return figure(
    id,
    title,
    caption,
    percentileChart(rows, { qs: u.qs, x: STEP_AXIS, y: { title: 'sigmoid input' }, columns, rows: seeds.map((s) => `seed ${s}`) }),
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
