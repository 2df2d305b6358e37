// Statistics over seeds: mean with a 95% confidence interval (Student t), percentiles, formatting.

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (beyond: normal 1.96). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

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
  const t = n - 1 <= T975.length ? T975[n - 2] : 1.96;
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
