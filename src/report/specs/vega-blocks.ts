// Vega-Lite building blocks shared by the figure builders: mean lines with CI bands, points with error bars, bars, heatmaps.
import type { TopLevelSpec } from 'vega-lite';
import type { MeanCI } from '../../lab/stats.js';
import type { BandRow } from '../group.js';

/** How an axis is labelled and scaled. `title` should carry the unit. */
export interface AxisOpts {
  title: string;
  log?: boolean;
  /** d3-format string for tick labels, e.g. '.0%' for accuracies stored as fractions. */
  format?: string;
  /** Fixed domain (e.g. [0, 1] for accuracy). */
  domain?: [number, number];
  /** Include zero when the domain is computed (default false: data-fitted). */
  zero?: boolean;
  /** Lowest value the quantity can take (e.g. 0 for step counts): the axis and CI bars stop there. */
  min?: number;
  /** Whole numbers only on the ticks (layer numbers). */
  integer?: boolean;
  /** Ticks exactly at these values (e.g. the batch sizes of a grid). */
  values?: number[];
}

/** Panel size of single charts; facets use narrower panels. */
export const WIDTH = 460;
export const HEIGHT = 260;
export const FACET_WIDTH = 300;

/**
 * Arm colours kept the same across figures: BN blue, plain red, the other normalizations a fixed
 * cycle, so a reader learns the legend once.
 */
const NAMED_COLORS: Record<string, string> = {
  bn: '#4c78a8',
  plain: '#e45756',
  none: '#e45756',
  'no-bn': '#e45756',
  nobn: '#e45756',
};
const CYCLE = ['#f58518', '#54a24b', '#b279a2', '#72b7b2', '#eeca3b', '#9d755d', '#ff9da6', '#bab0ac', '#4c78a8', '#e45756'];

/** Darker and lighter variants of the named colours, for a second and third series of the same arm. */
const SHADES: Record<string, string[]> = {
  '#4c78a8': ['#4c78a8', '#9ecae9', '#1d3f66'],
  '#e45756': ['#e45756', '#ff9d98', '#8c2221'],
};

/**
 * Colour scale for a list of series labels: known arms get their colour (matched on the label's arm
 * part), shaded lighter/darker when one arm has several series (e.g. "bn (activation=relu)", "bn (activation=tanh)").
 */
export function colorScale(series: readonly string[]): { domain: string[]; range: string[] } {
  let k = 0;
  const seen = new Map<string, number>();
  const range = series.map((s) => {
    const arm = s.split(' (')[0].toLowerCase();
    const base = NAMED_COLORS[arm];
    if (!base) return CYCLE[k++ % CYCLE.length];
    const i = seen.get(arm) ?? 0;
    seen.set(arm, i + 1);
    const shades = SHADES[base];
    return i < shades.length ? shades[i] : CYCLE[k++ % CYCLE.length];
  });
  return { domain: [...series], range };
}

/** Distinct values of `key` in rows, in first-seen order (legend and facet order follow the grid). */
export function distinct<T, K extends keyof T>(rows: readonly T[], key: K): T[K][] {
  return [...new Set(rows.map((r) => r[key]))];
}

function scaleOf(a: AxisOpts): Record<string, unknown> {
  // A log scale cannot include zero; Vega-Lite warns when asked to.
  const s: Record<string, unknown> = a.log ? { type: 'log' } : { zero: a.zero ?? false };
  // Layer numbers end at the last layer, not at the next round number.
  if (a.integer) s.nice = false;
  // Explicit tick values: the axis ends at the data, not at the next power of ten.
  if (a.values) s.nice = false;
  if (a.domain) s.domain = a.domain;
  else if (a.min !== undefined) s.domainMin = a.min;
  return s;
}

/** Decades of the log axis that holds these values once Vega rounds it to powers of ten (for tick counts). */
function decadesOf(values: readonly number[]): number | undefined {
  const v = values.filter((x) => Number.isFinite(x) && x > 0);
  return v.length ? Math.ceil(Math.log10(Math.max(...v))) - Math.floor(Math.log10(Math.min(...v))) : undefined;
}

/**
 * Axis properties. `decades` (log axes): the data's span, so ticks fall on powers of ten only; Vega
 * (d3) otherwise adds every 1-9 multiple when a range spans fewer decades than the tick count.
 */
function axisOf(a: AxisOpts, decades?: number): Record<string, unknown> {
  const axis: Record<string, unknown> = a.format ? { format: a.format } : {};
  if (a.integer) Object.assign(axis, { format: 'd', tickMinStep: 1 });
  // Log axes: few ticks, or Vega draws a grid line at every 1-9 multiple of each decade; exponents keep
  // 1e+8 short where the default prints 100,000,000.
  if (a.log) {
    const labelExpr = "datum.value >= 1e5 || datum.value < 1e-3 ? format(datum.value, '.0e') : format(datum.value, '~g')";
    Object.assign(axis, { tickCount: 5, ...(a.format ? {} : { labelExpr }) });
  }
  // d3's log ticks: a count equal to the decades gives exactly the powers of ten; more adds the 2-9 multiples.
  // Past 8 decades, fewer ticks (every 2nd, 3rd... power) keep the labels apart.
  if (a.log && decades !== undefined) axis.tickCount = Math.max(1, Math.min(decades, 8));
  // Explicit values: no tickCount, or Vega thins the given values down to the count (on log scales).
  if (a.values) {
    axis.values = a.values;
    delete axis.tickCount;
  }
  return axis;
}

/** A facet (small multiples side by side): rows carry `panel`, panels appear in `order`. */
export interface FacetOpts {
  /** Title above the panels; '' for none (when the panel labels say it all). */
  title: string;
  order: string[];
  /** A second facet down the page: rows carry `row`. */
  row?: { title: string; order: string[] };
  /** Each panel gets its own y scale (panels showing different quantities). */
  independentY?: boolean;
}

const HEADER = { labelFontSize: 12, labelFontWeight: 'bold', labelLimit: 400 };

/** Panels per line before a facet wraps onto the next (a row of six would not fit a slide). */
const MAX_COLUMNS = 3;

/** Wraps a layer list into a single chart or a faceted one (wrapped after MAX_COLUMNS panels). */
function wrap(values: object[], layer: object[], facet: FacetOpts | undefined): TopLevelSpec {
  if (!facet) return { data: { values }, width: WIDTH, height: HEIGHT, layer } as TopLevelSpec;
  const column = { field: 'panel', type: 'nominal', title: facet.title || null, sort: facet.order, header: HEADER };
  let f: Record<string, unknown>;
  let columns: number | undefined;
  if (facet.row) f = { column, row: { field: 'row', type: 'nominal', title: facet.row.title || null, sort: facet.row.order, header: HEADER } };
  else if (facet.order.length > MAX_COLUMNS) {
    f = column;
    columns = MAX_COLUMNS;
  } else f = { column };
  return {
    data: { values },
    facet: f,
    ...(columns ? { columns } : {}),
    spec: { width: FACET_WIDTH, height: facet.row || columns ? Math.round(HEIGHT * 0.75) : HEIGHT, layer },
    ...(facet.independentY ? { resolve: { scale: { y: 'independent' } } } : {}),
  } as TopLevelSpec;
}

/**
 * Mean curves (lines) with their 95% CI bands (shaded) per series; rows may carry `panel` for facets.
 * On a log y scale the band's lower edge is clamped above zero (a CI can reach below 0 for positive data).
 */
export function bandChart(
  rows: readonly (BandRow & { panel?: string; row?: string })[],
  o: { x: AxisOpts; y: AxisOpts; legend: string; facet?: FacetOpts },
): TopLevelSpec {
  const series = distinct(rows, 'series');
  // A curve of one or two points (a run that diverged at once) draws next to no line: mark its points.
  const key = (r: { series: string; panel?: string; row?: string }) => `${r.series}|${r.panel ?? ''}|${r.row ?? ''}`;
  const count = new Map<string, number>();
  for (const r of rows) count.set(key(r), (count.get(key(r)) ?? 0) + 1);
  const values = rows.map((r) => ({ ...r, lo: o.y.log ? Math.max(r.lo, r.mean / 10) : r.lo, sparse: count.get(key(r))! < 3 }));
  // Line swatches at full opacity: the merged legend would otherwise take the faded band's look
  // (and legend: null on one layer hides the shared legend altogether).
  const legend = { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 };
  const color = { field: 'series', type: 'nominal', title: o.legend, scale: colorScale(series), sort: series, legend };
  const x = { field: 'x', type: 'quantitative', title: o.x.title, scale: scaleOf(o.x), axis: axisOf(o.x) };
  const span = o.y.log ? decadesOf(values.flatMap((r) => [r.lo, r.hi, r.mean])) : undefined;
  const y = { type: 'quantitative', title: o.y.title, scale: scaleOf(o.y), axis: axisOf(o.y, span) };
  const layer: object[] = [
    { mark: { type: 'area', opacity: 0.18, clip: true }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
    { mark: { type: 'line', strokeWidth: 2, interpolate: 'linear', clip: true }, encoding: { x, y: { ...y, field: 'mean' }, color } },
  ];
  if (values.some((v) => v.sparse)) {
    layer.push({
      transform: [{ filter: 'datum.sparse' }],
      mark: { type: 'point', filled: true, size: 36, clip: true },
      encoding: { x, y: { ...y, field: 'mean' }, color },
    });
  }
  return wrap(values, layer, o.facet);
}

/** A point of a sweep: mean and CI of a metric at one x (as a band row), and how many of its seeds diverged. */
export interface SweepRow extends BandRow {
  /** Trials crossed at this point (diverged by default, see SweepFigureOpts.flag). */
  flagged: number;
  seeds: number;
  panel?: string;
}

/**
 * A sweep over x (learning rate, batch size...): mean per series joined by lines, 95% CI error bars,
 * and a cross at every x where at least one seed diverged (drawn at the bottom when all seeds did).
 */
export function sweepChart(
  rows: readonly SweepRow[],
  o: { x: AxisOpts; y: AxisOpts; legend: string; facet?: FacetOpts; flagLabel?: string },
): TopLevelSpec {
  const series = distinct(rows, 'series');
  const floor = o.y.domain?.[0] ?? o.y.min ?? Math.min(...rows.filter((r) => Number.isFinite(r.mean)).map((r) => r.lo), 0);
  const values = rows.map((r) => ({
    ...r,
    lo: Number.isFinite(r.lo) ? Math.max(r.lo, o.y.min ?? -Infinity) : null,
    hi: Number.isFinite(r.hi) ? r.hi : null,
    mean: Number.isFinite(r.mean) ? r.mean : null,
    markY: Number.isFinite(r.mean) ? r.mean : floor,
    marker: r.flagged > 0 ? (o.flagLabel ?? 'diverged (≥1 seed)') : null,
    flaggedText: `${r.flagged}/${r.seeds}`,
  }));
  const color = { field: 'series', type: 'nominal', title: o.legend, scale: colorScale(series), sort: series };
  // Ticks at the grid values only, every one labelled: a sweep has few x values and they are what the
  // reader looks up.
  const xs = [...new Set(rows.map((r) => r.x))].sort((a, b) => a - b);
  // Padding keeps the first and last points' markers and error bars off the plot's edges; no rounding of
  // the domain to powers of ten, which would leave a log axis mostly empty.
  const x = {
    field: 'x',
    type: 'quantitative',
    title: o.x.title,
    scale: { ...scaleOf(o.x), padding: 18, nice: false },
    axis: { ...axisOf({ ...o.x, values: xs }), grid: true, labelOverlap: false },
  };
  const y = { type: 'quantitative', title: o.y.title, scale: scaleOf(o.y), axis: axisOf(o.y) };
  const layer: object[] = [
    {
      transform: [{ filter: 'isValid(datum.mean)' }],
      mark: { type: 'line', strokeWidth: 2, clip: true },
      encoding: { x, y: { ...y, field: 'mean' }, color },
    },
    {
      transform: [{ filter: 'isValid(datum.lo)' }],
      mark: { type: 'rule', strokeWidth: 1.5, clip: true },
      encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
    },
    {
      transform: [{ filter: 'isValid(datum.mean)' }],
      mark: { type: 'point', filled: true, size: 45, clip: true },
      encoding: { x, y: { ...y, field: 'mean' }, color },
    },
  ];
  if (rows.some((r) => r.flagged > 0)) {
    layer.push({
      transform: [{ filter: 'datum.marker !== null' }],
      mark: { type: 'point', shape: 'cross', size: 160, strokeWidth: 2.5, filled: false },
      encoding: {
        x,
        y: { ...y, field: 'markY' },
        color,
        shape: { field: 'marker', type: 'nominal', title: null, scale: { range: ['cross'] } },
      },
    });
  }
  return wrap(values, layer, o.facet);
}

/** One bar: a category on x, a sub-category side by side within it (and coloured), mean and CI. */
export interface BarRow {
  category: string;
  sub: string;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * Grouped bars with 95% CI error bars: `category` on x, `sub` side by side (xOffset) and coloured.
 * `dots` draws a dot per mean instead of a bar, with a data-fitted y axis: for values that differ by a
 * fraction of their size (bars from zero would hide the difference).
 */
export function barChart(rows: readonly BarRow[], o: { x: string; y: AxisOpts; legend: string; dots?: boolean }): TopLevelSpec {
  const cats = distinct(rows, 'category');
  const subs = distinct(rows, 'sub');
  const x = { field: 'category', type: 'nominal', title: o.x, sort: cats, axis: { labelAngle: 0, labelLimit: 200 } };
  const xOffset = { field: 'sub', type: 'nominal', sort: subs };
  const y = { type: 'quantitative', title: o.y.title, scale: scaleOf({ zero: !o.dots, ...o.y }), axis: axisOf(o.y) };
  const color = {
    field: 'sub',
    type: 'nominal',
    title: o.legend,
    sort: subs,
    scale: { domain: subs, range: CYCLE.slice(0, subs.length).map((c, i) => ['#4c78a8', '#f58518', '#54a24b', '#b279a2'][i] ?? c) },
  };
  const layer = [
    o.dots
      ? { mark: { type: 'point', filled: true, size: 70, clip: true }, encoding: { x, xOffset, y: { ...y, field: 'mean' }, color } }
      : { mark: { type: 'bar', clip: true }, encoding: { x, xOffset, y: { ...y, field: 'mean' }, color } },
    {
      mark: { type: 'rule', strokeWidth: 1.5, clip: true, ...(o.dots ? {} : { color: '#333' }) },
      encoding: { x, xOffset, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, ...(o.dots ? { color } : {}) },
    },
  ];
  return {
    data: { values: rows.map((r) => ({ ...r })) },
    width: Math.max(WIDTH, cats.length * subs.length * 40),
    height: HEIGHT,
    layer,
  } as TopLevelSpec;
}

/** One heatmap cell: ordinal x and y, an optional panel, a value and its printed label. */
export interface CellRow {
  x: string;
  y: string;
  panel: string;
  value: number | null;
  label: string;
}

/** Heatmaps side by side (one per panel) with the value printed in each cell. */
export function heatmap(
  rows: readonly CellRow[],
  o: { x: string; y: string; color: AxisOpts; xOrder: string[]; yOrder: string[]; facet: FacetOpts },
): TopLevelSpec {
  const x = { field: 'x', type: 'ordinal', title: o.x, sort: o.xOrder, axis: { labelAngle: -30, labelAlign: 'right' } };
  const y = { field: 'y', type: 'ordinal', title: o.y, sort: o.yOrder };
  const layer = [
    {
      mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
      encoding: {
        x,
        y,
        color: {
          field: 'value',
          type: 'quantitative',
          title: o.color.title,
          scale: { scheme: 'viridis', ...(o.color.domain ? { domain: o.color.domain } : {}) },
          legend: o.color.format ? { format: o.color.format } : {},
        },
      },
    },
    {
      mark: { type: 'text', fontSize: 11 },
      encoding: {
        x,
        y,
        text: { field: 'label', type: 'nominal' },
        color: { condition: { test: 'datum.value !== null && datum.value > 0.55', value: 'black' }, value: 'white' },
      },
    },
  ];
  return {
    data: { values: rows.map((r) => ({ ...r })) },
    facet: {
      column: {
        field: 'panel',
        type: 'nominal',
        title: o.facet.title || null,
        sort: o.facet.order,
        header: { labelFontSize: 12, labelFontWeight: 'bold' },
      },
    },
    // Cells wide enough for their labels ("N(0, 0.001)" is ~70px at 11px).
    spec: {
      width: o.xOrder.length * Math.max(52, 7 * Math.max(...o.xOrder.map((l) => l.length))),
      height: Math.max(90, o.yOrder.length * 34),
      layer,
    },
  } as TopLevelSpec;
}

/** "95.1 ± 0.3%" for an accuracy CI (fraction in, percent out). */
export function pct(ci: MeanCI | BandRow): string {
  const half = 'half' in ci ? ci.half : (ci.hi - ci.lo) / 2;
  if (!Number.isFinite(ci.mean)) return 'n/a';
  return `${(ci.mean * 100).toFixed(1)} ± ${((Number.isFinite(half) ? half : 0) * 100).toFixed(1)}%`;
}

/** A number for captions with 3 significant digits (1.23e-4 style when tiny or huge). */
export function num(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return Number(v.toPrecision(3)).toExponential();
  return String(Number(v.toPrecision(3)));
}

/** True when values look like fractions in [0, 1] (accuracies), so axes can print percent. */
export function looksLikeFraction(values: readonly number[]): boolean {
  const v = values.filter(Number.isFinite);
  return v.length > 0 && v.every((x) => x >= 0 && x <= 1);
}

/** Percentiles of one panel at one x (wide: one field per percentile, e.g. p15, p50, p85). */
export interface PercentileRow {
  panel: string;
  row: string;
  x: number;
  [q: `p${number}`]: number;
}

/**
 * The paper's Figure 1b/1c look: per panel, the band between the lowest and highest percentile shaded
 * and one line per percentile. Panels in columns (arms) and rows (seeds).
 */
export function percentileChart(
  rows: readonly PercentileRow[],
  o: { qs: number[]; x: AxisOpts; y: AxisOpts; columns: string[]; rows: string[] },
): TopLevelSpec {
  const keys = o.qs.map((q) => `p${q}`);
  const lo = keys[0];
  const hi = keys[keys.length - 1];
  const x = { field: 'x', type: 'quantitative', title: o.x.title, scale: scaleOf(o.x), axis: axisOf(o.x) };
  const y = { type: 'quantitative', title: o.y.title, scale: scaleOf(o.y), axis: axisOf(o.y) };
  const labels = o.qs.map((q) => `${q}th percentile`);
  const layer = [
    { mark: { type: 'area', opacity: 0.15, color: '#4c78a8' }, encoding: { x, y: { ...y, field: lo }, y2: { field: hi } } },
    {
      transform: [{ fold: keys, as: ['key', 'value'] }, { calculate: `replace(datum.key, 'p', '') + 'th percentile'`, as: 'percentile' }],
      mark: { type: 'line', strokeWidth: 2 },
      encoding: {
        x,
        y: { ...y, field: 'value' },
        color: {
          field: 'percentile',
          type: 'nominal',
          title: 'percentile',
          sort: labels,
          scale: { domain: labels, range: ['#f58518', '#4c78a8', '#54a24b', '#b279a2', '#e45756'].slice(0, labels.length) },
          legend: { symbolType: 'stroke', symbolStrokeWidth: 3 },
        },
      },
    },
  ];
  const facet: Record<string, unknown> = { column: { field: 'panel', type: 'nominal', title: null, sort: o.columns, header: HEADER } };
  if (o.rows.length > 1) facet.row = { field: 'row', type: 'nominal', title: null, sort: o.rows, header: HEADER };
  return {
    data: { values: rows.map((r) => ({ ...r })) },
    facet,
    spec: { width: FACET_WIDTH, height: o.rows.length > 1 ? 170 : HEIGHT, layer },
  } as TopLevelSpec;
}
