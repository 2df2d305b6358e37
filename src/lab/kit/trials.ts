// Selecting and summarizing trials for findings: filters, distinct params, a metric's mean and CI, norms and finite curves.
import type { Trial } from '../results.js';
import { meanCI, type MeanCI } from '../stats.js';

/** Trials matching a predicate. */
export function where(trials: readonly Trial[], pred: (t: Trial) => boolean): Trial[] {
  return trials.filter(pred);
}

/** Mean and 95% CI over trials of one metric (null/NaN dropped). */
export function metricCI(trials: readonly Trial[], metric: string): MeanCI {
  return meanCI(trials.map((t) => t.metrics[metric]));
}

/** Distinct values of a param over trials, in first-seen order. */
export function distinct<T extends string | number | boolean | null>(trials: readonly Trial[], param: string): T[] {
  const seen: T[] = [];
  for (const t of trials) {
    const v = t.params[param] as T;
    if (!seen.includes(v)) seen.push(v);
  }
  return seen;
}
/** Sample standard deviation of values (two-pass, float64); NaN for fewer than 1 value. */
export function stdOf(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) * (values[i] - mean);
  return Math.sqrt(ss / n);
}

/** Euclidean (Frobenius) norm of an array, accumulated in float64; 0 for null (no gradient yet). */
export function l2norm(v: ArrayLike<number> | null): number {
  if (v === null) return 0;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Keeps only points with finite x and y (a curve in results must hold finite numbers). */
export function finitePoints(points: [number, number][]): [number, number][] {
  return points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
}
