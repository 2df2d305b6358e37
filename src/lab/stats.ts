// Statistics over seeds: mean with a 95% confidence interval (Student t), Student's t distribution, percentiles, formatting.
import stdlibTCdf from '@stdlib/stats-base-dists-t-cdf';
import stdlibTQuantile from '@stdlib/stats-base-dists-t-quantile';

/** P(T <= x) for Student's t with df degrees of freedom (df may be fractional, as Welch's is). From @stdlib. */
export function tCdf(x: number, df: number): number {
  return stdlibTCdf(x, df);
}

/** The p-quantile of Student's t with df degrees of freedom: tQuantile(0.975, 2) = 4.303. From @stdlib. */
export function tQuantile(p: number, df: number): number {
  return stdlibTQuantile(p, df);
}

/** Summary of values over seeds. `half` is the half-width of the 95% CI: t_{0.975, n-1} * s / sqrt(n). */
export interface MeanCI {
  mean: number;
  half: number;
  lo: number;
  hi: number;
  n: number;
  sd: number;
}

/** Mean and 95% CI of finite values (NaN/null dropped); half = 0 for a single value, all NaN for none. */
export function meanCI(values: readonly (number | null | undefined)[]): MeanCI {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: NaN, half: NaN, lo: NaN, hi: NaN, n: 0, sd: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, half: 0, lo: mean, hi: mean, n, sd: 0 };
  let ss = 0;
  for (const x of v) ss += (x - mean) * (x - mean);
  const sd = Math.sqrt(ss / (n - 1));
  const t = tQuantile(0.975, n - 1);
  const half = (t * sd) / Math.sqrt(n);
  return { mean, half, lo: mean - half, hi: mean + half, n, sd };
}

/** The q-th percentile (0..100) of values by linear interpolation (numpy's default). Sorts a copy. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** "0.953 ± 0.004" with a number of significant decimals chosen from the CI width. */
export function fmtCI(ci: MeanCI, opts: { percent?: boolean; digits?: number } = {}): string {
  if (ci.n === 0) return 'n/a';
  const k = opts.percent ? 100 : 1;
  const digits = opts.digits ?? (opts.percent ? 1 : 3);
  const unit = opts.percent ? '%' : '';
  return `${(ci.mean * k).toFixed(digits)}${unit} ± ${(ci.half * k).toFixed(digits)}${unit}`;
}

/** Pointwise mean and CI of several curves sampled at the same x values (x taken from the first curve). */
export function bandOf(curves: readonly [number, number][][]): { x: number; mean: number; lo: number; hi: number; n: number }[] {
  if (curves.length === 0) return [];
  const longest = curves.reduce((a, b) => (b.length > a.length ? b : a));
  return longest.map(([x], i) => {
    const ci = meanCI(curves.map((c) => (i < c.length ? c[i][1] : null)));
    return { x, mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n };
  });
}

/**
 * Percentile bootstrap 95% CI of a statistic (default: the median) over finite values: `reps` resamples with
 * replacement drawn by a seeded generator (mulberry32), so the same values and seed always give the same interval.
 * For statistics that are not means (medians, percentile ranges), where no t interval applies. NaN for no values.
 */
export function bootstrapCI(
  values: readonly (number | null | undefined)[],
  opts: { stat?: (v: Float64Array) => number; reps?: number; seed?: number } = {},
): { estimate: number; lo: number; hi: number; n: number } {
  const v = Float64Array.from(values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));
  const stat = opts.stat ?? ((x: Float64Array) => percentile(x, 50));
  if (v.length === 0) return { estimate: NaN, lo: NaN, hi: NaN, n: 0 };
  const reps = opts.reps ?? 2000;
  let s = (opts.seed ?? 0) >>> 0;
  // mulberry32: small and reproducible; the bootstrap needs uniform indices, not cryptographic quality.
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const stats = new Float64Array(reps);
  const r = new Float64Array(v.length);
  for (let k = 0; k < reps; k++) {
    for (let i = 0; i < v.length; i++) r[i] = v[Math.floor(next() * v.length)];
    stats[k] = stat(r);
  }
  return { estimate: stat(v), lo: percentile(stats, 2.5), hi: percentile(stats, 97.5), n: v.length };
}
