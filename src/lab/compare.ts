// Two-arm comparisons for findings: mean difference with its 95% CI (paired or Welch), effect size, p, TOST, seeds to resolve, the verdict rule.
import { tCdf, tQuantile } from './stats.js';

/** Significance level of every test in the lab (two-sided 5%, i.e. the 95% intervals the report draws). */
export const ALPHA = 0.05;

/** Power aimed at when estimating how many seeds would resolve a finding. */
export const POWER = 0.8;

/** Largest seed count `seedsToResolve` reports; beyond it the answer is "more than this". */
export const MAX_SEEDS = 1000;

/** Values of one arm: by seed (pairable) or a plain list (null and non-finite values are dropped). */
export type Sample = ReadonlyMap<number, number | null> | readonly (number | null | undefined)[];

/**
 * What a comparison found, before any multiplicity correction:
 * 'higher' / 'lower' when the 95% CI of a - b lies above / below 0, 'equivalent' when it lies within
 * +-margin, 'unresolved' otherwise (also with fewer than two values per arm).
 */
export type Outcome = 'higher' | 'lower' | 'equivalent' | 'unresolved';

/** A comparison of arm a with arm b (the difference is always a - b). */
export interface Comparison {
  /** What is compared, e.g. "final test accuracy, BN - plain". */
  label: string;
  /** 'paired': per-seed differences (both arms share seeds); 'welch': two independent samples. */
  method: 'paired' | 'welch';
  /** Values used: pairs for 'paired'; per arm for 'welch' (nA = nB = n for paired). */
  n: number;
  nA: number;
  nB: number;
  meanA: number;
  meanB: number;
  /** Difference of means a - b, its standard error, degrees of freedom and 95% CI. */
  diff: number;
  se: number;
  df: number;
  lo: number;
  hi: number;
  /** Standardized effect: d_z = mean(d) / sd(d) when paired, Cohen's d = diff / sqrt((sA^2 + sB^2) / 2) for Welch. */
  effect: number;
  /** The spread the effect is scaled by (sd of the differences, or the pooled sd); absent in results written before it was kept. */
  sd?: number;
  /** Two-sided p-value of "a - b = 0". */
  p: number;
  /** Equivalence margin (same units as the values) or null when the finding states none. */
  margin: number | null;
  /** p-value of "|a - b| >= margin" (two one-sided tests, see tost), null without a margin. */
  pEquiv: number | null;
  /** The outcome at the raw p-values. */
  outcome: Outcome;
  /** Seeds per arm that would resolve a difference of the observed size (or show equivalence) with 80% power; null when resolved or not estimable. */
  seedsNeeded: number | null;
  /** False for a comparison a finding reports and counts but whose verdict does not rest on it (a correction then leaves the verdict alone). */
  decides?: boolean;
  /** Filled by adjustFindings: p-values after multiplicity correction, the family size and the outcome they give. */
  pAdj?: number;
  pEquivAdj?: number | null;
  outcomeAdj?: Outcome;
}

/** Options of compare. */
export interface CompareOptions {
  /** Equivalence margin, a positive number in the values' units (e.g. 0.01 for 1 point of accuracy). */
  margin?: number;
  /** Force Welch even when both arms are keyed by seed (e.g. arms whose seeds do not share anything). */
  unpaired?: boolean;
}

/** Error for a comparison asked with bad arguments (e.g. a margin that is not a positive number). */
export class CompareError extends Error {
  override name = 'CompareError';
}

function finite(s: Sample): number[] {
  const v = s instanceof Map ? [...s.values()] : (s as readonly (number | null | undefined)[]);
  return v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
}

function meanSd(v: readonly number[]): { mean: number; sd: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) * (x - mean);
  return { mean, sd: v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : NaN };
}

/** Per-seed differences a - b over the seeds both arms have a finite value for. */
function pairedDiffs(a: ReadonlyMap<number, number | null>, b: ReadonlyMap<number, number | null>): number[] {
  const d: number[] = [];
  for (const [s, x] of a) {
    const y = b.get(s);
    if (typeof x === 'number' && Number.isFinite(x) && typeof y === 'number' && Number.isFinite(y)) d.push(x - y);
  }
  return d;
}

/**
 * Two-sided p of t = est / se with df degrees of freedom: 2 * P(T_df > |t|). A zero standard error
 * (every value equal) gives 1 for a zero estimate and 0 otherwise: the data leave no doubt either way.
 */
export function pTwoSided(est: number, se: number, df: number): number {
  if (!(df > 0) || !Number.isFinite(se)) return NaN;
  if (se === 0) return est === 0 ? 1 : 0;
  return Math.min(1, 2 * tCdf(-Math.abs(est / se), df));
}

/**
 * Two one-sided tests (Schuirmann) of |a - b| < margin: p_low = P(T > (diff + m) / se), p_high = P(T < (diff - m) / se),
 * p = min(1, 2 * max(p_low, p_high)). The doubling makes p < 0.05 exactly when the 95% CI lies within +-margin, so the
 * equivalence verdict agrees with the interval the report shows (stricter than the textbook 90% interval).
 */
export function tost(diff: number, se: number, df: number, margin: number): number {
  if (!(df > 0) || !Number.isFinite(se)) return NaN;
  if (se === 0) return Math.abs(diff) < margin ? 0 : 1;
  const pLow = 1 - tCdf((diff + margin) / se, df);
  const pHigh = tCdf((diff - margin) / se, df);
  return Math.min(1, 2 * Math.max(pLow, pHigh));
}

/**
 * Outcome of p-values at level ALPHA, direction from the estimate. Equivalence comes first: a finding that states a
 * margin says differences below it do not matter, so a CI within +-margin reads 'equivalent' even when it excludes 0.
 */
export function outcomeOf(diff: number, p: number, pEquiv: number | null, alpha = ALPHA): Outcome {
  if (pEquiv !== null && pEquiv < alpha) return 'equivalent';
  if (p < alpha) return diff > 0 ? 'higher' : 'lower';
  return 'unresolved';
}

/**
 * Smallest n with delta * sqrt(n / k) >= t_{1-alpha/2, df(n)} + t_{power, df(n)}: the t-based sample size for a
 * standardized effect delta (k = 1, df = n - 1 paired; k = 2, df = 2n - 2 for two arms of n). It approximates the
 * noncentral t by a shifted central one, which is close from about 5 seeds on. Infinity beyond MAX_SEEDS.
 * `alpha` is the two-sided level the test must pass (ALPHA, or less after a multiplicity or look correction).
 */
export function seedsFor(delta: number, method: Comparison['method'], power = POWER, alpha = ALPHA): number {
  if (!(delta > 0) || !(alpha > 0)) return Infinity;
  const k = method === 'paired' ? 1 : 2;
  // t quantiles exceed normal ones, so the normal-theory size k ((z_{1-alpha/2} + z_power) / delta)^2 is a lower bound to start from.
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  for (let n = Math.max(2, Math.floor(k * (z / delta) ** 2)); n <= MAX_SEEDS; n++) {
    const df = method === 'paired' ? n - 1 : 2 * n - 2;
    if (delta * Math.sqrt(n / k) >= tQuantile(1 - alpha / 2, df) + tQuantile(power, df)) return n;
  }
  return Infinity;
}

/** The p-quantile of the standard normal, as the t quantile at a very large df (exact to ~1e-9 for the lower bound it serves). */
function normalQuantile(p: number): number {
  return tQuantile(p, 1e12);
}

/**
 * Power of the two-sided t-test at standardized effect delta with n seeds (per arm), by the same shifted-t
 * approximation as seedsFor: P(T > t_crit - delta sqrt(n/k)) + P(T < -t_crit - delta sqrt(n/k)).
 */
export function powerOf(delta: number, n: number, method: Comparison['method']): number {
  const k = method === 'paired' ? 1 : 2;
  const df = method === 'paired' ? n - 1 : 2 * n - 2;
  const crit = tQuantile(1 - ALPHA / 2, df);
  const shift = Math.abs(delta) * Math.sqrt(n / k);
  return 1 - tCdf(crit - shift, df) + tCdf(-crit - shift, df);
}

/**
 * Seeds that would resolve a comparison, from the observed spread: for the observed difference when it exceeds the
 * margin (or there is none), else for equivalence, whose distance to cover is margin - |diff|; the test must pass at
 * `alpha` (lower than ALPHA when a correction applies). Null when not estimable or beyond MAX_SEEDS.
 */
export function seedsToResolve(c: Pick<Comparison, 'diff' | 'margin' | 'method'>, sd: number, alpha = ALPHA): number | null {
  if (!(sd > 0) || !Number.isFinite(c.diff)) return null;
  const gap = c.margin !== null && Math.abs(c.diff) < c.margin ? c.margin - Math.abs(c.diff) : Math.abs(c.diff);
  const n = seedsFor(gap / sd, c.method, POWER, alpha);
  return Number.isFinite(n) ? n : null;
}

/**
 * Compares arm a with arm b: paired by seed when both are Maps keyed by seed sharing at least two seeds (the shared
 * init draw and batch order then cancel out of a - b), Welch's unequal-variance t otherwise.
 * Paired: d_i = a_i - b_i, diff = mean(d), se = sd(d)/sqrt(n), df = n - 1.
 * Welch: se = sqrt(sA^2/nA + sB^2/nB), df = se^4 / ((sA^2/nA)^2/(nA-1) + (sB^2/nB)^2/(nB-1)).
 * CI = diff +- t_{0.975, df} * se. Fewer than two values per arm (or pairs) give NaN statistics and 'unresolved'.
 */
export function compare(label: string, a: Sample, b: Sample, opts: CompareOptions = {}): Comparison {
  const margin = opts.margin ?? null;
  if (margin !== null && !(margin > 0 && Number.isFinite(margin))) {
    throw new CompareError(`${label}: an equivalence margin must be a positive number, got ${String(margin)}`);
  }
  const va = finite(a);
  const vb = finite(b);
  const ma = va.length ? meanSd(va) : { mean: NaN, sd: NaN };
  const mb = vb.length ? meanSd(vb) : { mean: NaN, sd: NaN };
  const d = a instanceof Map && b instanceof Map && !opts.unpaired ? pairedDiffs(a, b) : [];
  let s: { method: Comparison['method']; n: number; diff: number; se: number; df: number; effect: number; sd: number };
  if (d.length >= 2) {
    const md = meanSd(d);
    s = { method: 'paired', n: d.length, diff: md.mean, se: md.sd / Math.sqrt(d.length), df: d.length - 1, effect: md.mean / md.sd, sd: md.sd };
  } else {
    const qa = ma.sd ** 2 / va.length;
    const qb = mb.sd ** 2 / vb.length;
    const se = Math.sqrt(qa + qb);
    const df = (qa + qb) ** 2 / (qa ** 2 / (va.length - 1) + qb ** 2 / (vb.length - 1));
    const pooled = Math.sqrt((ma.sd ** 2 + mb.sd ** 2) / 2);
    // Two constant arms have se = 0 and df = 0/0: any df then gives the same (degenerate) answer.
    s = {
      method: 'welch',
      n: Math.min(va.length, vb.length),
      diff: ma.mean - mb.mean,
      se,
      df: se === 0 ? Math.max(1, va.length + vb.length - 2) : df,
      effect: (ma.mean - mb.mean) / pooled,
      sd: pooled,
    };
  }
  const ok = s.n >= 2 && Number.isFinite(s.se);
  const half = ok ? tQuantile(1 - ALPHA / 2, s.df) * s.se : NaN;
  const p = ok ? pTwoSided(s.diff, s.se, s.df) : NaN;
  const pEquiv = margin === null ? null : ok ? tost(s.diff, s.se, s.df, margin) : NaN;
  const base = {
    label, method: s.method, n: s.n, nA: s.method === 'paired' ? s.n : va.length, nB: s.method === 'paired' ? s.n : vb.length,
    meanA: ma.mean, meanB: mb.mean, diff: s.diff, se: s.se, df: s.df, lo: s.diff - half, hi: s.diff + half,
    effect: s.effect, sd: s.sd, p, margin, pEquiv, outcome: ok ? outcomeOf(s.diff, p, pEquiv) : ('unresolved' as Outcome),
  };
  return { ...base, seedsNeeded: ok && base.outcome === 'unresolved' ? seedsToResolve(base, s.sd) : null };
}

/** -1, 0 or +1: the sign the outcome gives a - b (0 for equivalent or unresolved); after correction when adjusted. */
export function signOfOutcome(c: Comparison, adjusted = false): -1 | 0 | 1 {
  const o = adjusted ? (c.outcomeAdj ?? c.outcome) : c.outcome;
  return o === 'higher' ? 1 : o === 'lower' ? -1 : 0;
}

/**
 * The one verdict rule for a directional claim "a - b has sign `expect`": supported when the CI excludes 0 on that side,
 * contradicted when it excludes 0 on the other, equivalent when it lies within the margin, inconclusive otherwise.
 */
export function verdictOf(c: Comparison, expect: 1 | -1): 'supported' | 'contradicted' | 'equivalent' | 'inconclusive' {
  const s = signOfOutcome(c);
  if (s !== 0) return s === expect ? 'supported' : 'contradicted';
  return c.outcome === 'equivalent' ? 'equivalent' : 'inconclusive';
}
