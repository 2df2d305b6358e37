// Aggregation over seeds: trials grouped by arm (+ params), curve bands and metric means with 95% CIs.
import type { Trial } from '../lab/results.js';
import { meanCI, type MeanCI } from '../lab/stats.js';

/** Trials of one condition (same arm and same params, except the ones plotted on an axis), over seeds. */
export interface Group {
  arm: string;
  /** Params shared by the group (the ignored axis params are left out). */
  params: Trial['params'];
  /** Legend label: the arm, plus params that vary in the run and are not plotted on an axis. */
  label: string;
  trials: Trial[];
}

/** One point of a mean curve with its 95% CI over seeds. */
export interface BandRow {
  series: string;
  x: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

type ParamValue = Trial['params'][string];

/** Param keys that take more than one value across the trials (the grid axes besides the arm). */
export function varyingParams(trials: readonly Trial[]): string[] {
  const seen = new Map<string, Set<string>>();
  for (const t of trials) {
    for (const [k, v] of Object.entries(t.params)) {
      if (!seen.has(k)) seen.set(k, new Set());
      seen.get(k)!.add(String(v));
    }
  }
  return [...seen].filter(([, vals]) => vals.size > 1).map(([k]) => k);
}

/**
 * Groups trials by arm and params, ignoring `ignore` (params plotted on an axis or facet) and seed.
 * Groups keep the order in which they first appear (the experiment's grid order).
 */
export function groupTrials(trials: readonly Trial[], ignore: readonly string[] = []): Group[] {
  const vary = varyingParams(trials).filter((k) => !ignore.includes(k));
  const groups = new Map<string, Group>();
  for (const t of trials) {
    const params: Trial['params'] = {};
    for (const k of Object.keys(t.params).sort()) if (!ignore.includes(k)) params[k] = t.params[k];
    const key = JSON.stringify([t.arm, params]);
    let g = groups.get(key);
    if (!g) {
      const extra = vary.filter((k) => k in params).map((k) => `${k}=${fmtParam(params[k])}`);
      g = { arm: t.arm, params, label: extra.length ? `${t.arm} (${extra.join(', ')})` : t.arm, trials: [] };
      groups.set(key, g);
    }
    g.trials.push(t);
  }
  return [...groups.values()];
}

/** A param value for labels: numbers without float noise (0.30000000000000004 -> 0.3). */
export function fmtParam(v: ParamValue): string {
  return typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
}

/** Names of curves present in at least one trial, in first-seen order. */
export function curveNames(trials: readonly Trial[]): string[] {
  const names = new Set<string>();
  for (const t of trials) for (const k of Object.keys(t.curves)) names.add(k);
  return [...names];
}

/** Names of metrics present (non-null somewhere) in at least one trial, in first-seen order. */
export function metricNames(trials: readonly Trial[]): string[] {
  const names = new Set<string>();
  for (const t of trials) for (const [k, v] of Object.entries(t.metrics)) if (v !== null) names.add(k);
  return [...names];
}

/** The first of `candidates` that some trial has as a curve (exact names first, then case-insensitive). */
export function pickCurve(trials: readonly Trial[], candidates: readonly string[]): string | null {
  return pick(curveNames(trials), candidates);
}

/** The first of `candidates` that some trial has as a metric. */
export function pickMetric(trials: readonly Trial[], candidates: readonly string[]): string | null {
  return pick(metricNames(trials), candidates);
}

/** The first of `candidates` that some trial has as a param. */
export function pickParam(trials: readonly Trial[], candidates: readonly string[]): string | null {
  const names = new Set<string>();
  for (const t of trials) for (const k of Object.keys(t.params)) names.add(k);
  return pick([...names], candidates);
}

function pick(present: readonly string[], candidates: readonly string[]): string | null {
  for (const c of candidates) if (present.includes(c)) return c;
  const lower = new Map(present.map((p) => [p.toLowerCase(), p]));
  for (const c of candidates) {
    const hit = lower.get(c.toLowerCase());
    if (hit) return hit;
  }
  return null;
}

/**
 * Mean curve and 95% CI band of curve `name` over the group's seeds, matching points by x (not by index,
 * as stats.bandOf does): a seed that diverged early stops contributing at its last x instead of shifting
 * later points onto earlier steps. `n` says how many seeds back each point.
 */
export function curveBand(group: Group, name: string): BandRow[] {
  const byX = new Map<number, number[]>();
  for (const t of group.trials) {
    for (const [x, y] of t.curves[name] ?? []) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (!byX.has(x)) byX.set(x, []);
      byX.get(x)!.push(y);
    }
  }
  const rows = [...byX]
    .sort((a, b) => a[0] - b[0])
    .map(([x, ys]) => {
      const ci = meanCI(ys);
      return { series: group.label, x, mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n };
    });
  return thin(rows, MAX_POINTS);
}

/** Points per plotted curve: more cannot be told apart at figure width, and each costs render time. */
const MAX_POINTS = 400;

/** Every k-th row so that at most `max` remain, always keeping the last (the final value captions quote). */
export function thin<T>(rows: T[], max: number): T[] {
  if (rows.length <= max) return rows;
  const k = Math.ceil(rows.length / max);
  return rows.filter((_, i) => i % k === 0 || i === rows.length - 1);
}

/** Mean and 95% CI over the group's seeds of metric `name` (nulls and NaN skipped). */
export function metricCI(group: Group, name: string): MeanCI {
  return meanCI(group.trials.map((t) => t.metrics[name]));
}

/** "3 seeds" or "2–3 seeds": how many seeds back each point, for captions. */
export function seedsPhrase(groups: readonly Group[]): string {
  const counts = groups.map((g) => new Set(g.trials.map((t) => t.seed)).size);
  if (counts.length === 0) return '0 seeds';
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  const n = lo === hi ? String(lo) : `${lo}–${hi}`;
  return `${n} seed${hi === 1 ? '' : 's'}`;
}

/** The last row of each series (the final value of a mean curve). */
export function lastRows(rows: readonly BandRow[]): BandRow[] {
  const last = new Map<string, BandRow>();
  for (const r of rows) {
    const prev = last.get(r.series);
    if (!prev || r.x >= prev.x) last.set(r.series, r);
  }
  return [...last.values()];
}

/**
 * A per-layer profile from per-layer curves named `<prefix><k>` (e.g. meanDriftL1, meanDriftL2...):
 * each trial's curve is averaged over its points, then the layers' values are averaged over seeds.
 * Rows have x = layer number k.
 */
export function layerProfile(group: Group, prefix: string): BandRow[] {
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)$`);
  const layers = new Map<number, string>();
  for (const t of group.trials) {
    for (const name of Object.keys(t.curves)) {
      const m = re.exec(name);
      if (m) layers.set(Number(m[1]), name);
    }
  }
  const rows: BandRow[] = [];
  for (const [k, name] of [...layers].sort((a, b) => a[0] - b[0])) {
    const perTrial = group.trials.map((t) => {
      const ys = (t.curves[name] ?? []).map(([, y]) => y).filter(Number.isFinite);
      return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : null;
    });
    const ci = meanCI(perTrial);
    if (ci.n > 0) rows.push({ series: group.label, x: k, mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n });
  }
  return rows;
}
