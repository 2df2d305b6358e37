// Paired comparisons over seeds for findings (ics, inference, batchsize): per-seed differences and their signs.
import { compare, type Comparison } from '../compare.js';
import type { Trial } from '../results.js';
import { meanCI, type MeanCI } from '../stats.js';

/** Trials of `arm` whose params hold every key of `match` with the same value. */
export function select(trials: readonly Trial[], arm: string, match: Trial['params'] = {}): Trial[] {
  return trials.filter((t) => t.arm === arm && Object.entries(match).every(([k, v]) => t.params[k] === v));
}

/** A metric of each trial keyed by seed (non-finite and null values dropped). */
export function bySeed(trials: readonly Trial[], metric: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const t of trials) {
    const v = t.metrics[metric];
    if (typeof v === 'number' && Number.isFinite(v)) m.set(t.seed, v);
  }
  return m;
}

/** Two conditions summarized over seeds, and their per-seed difference a - b. */
export interface Paired {
  a: MeanCI;
  b: MeanCI;
  /** a - b over the seeds both have: pairing by seed removes the seed-to-seed spread both arms share (same init draw, same batch order). */
  diff: MeanCI;
  /** The same comparison as a test (lab/compare.ts): p-value, effect size, verdict outcome; goes into the finding. */
  cmp: Comparison;
}

/**
 * Compares metric `metric` of trials `a` with metric `metricB` (default the same) of trials `b`, paired by seed;
 * `label` names the comparison in the findings table, `margin` adds an equivalence test.
 */
export function paired(
  a: readonly Trial[],
  b: readonly Trial[],
  metric: string,
  metricB = metric,
  opts: { label?: string; margin?: number } = {},
): Paired {
  const ma = bySeed(a, metric);
  const mb = bySeed(b, metricB);
  const d: number[] = [];
  for (const [s, v] of ma) {
    const w = mb.get(s);
    if (w !== undefined) d.push(v - w);
  }
  const label = opts.label ?? (metric === metricB ? metric : `${metric} - ${metricB}`);
  return { a: meanCI([...ma.values()]), b: meanCI([...mb.values()]), diff: meanCI(d), cmp: compare(label, ma, mb, { margin: opts.margin }) };
}

/** A one-sample comparison of per-seed values against 0 (e.g. a difference of differences), as a paired test. */
export function againstZero(label: string, values: ReadonlyMap<number, number>): Comparison {
  return compare(label, values, new Map([...values.keys()].map((s) => [s, 0])));
}

/** The sign of a paired comparison's outcome at the raw 5% level: +1 / -1 when its 95% CI excludes 0, else 0. */
export function sgn(p: Paired): -1 | 0 | 1 {
  return p.cmp.outcome === 'higher' ? 1 : p.cmp.outcome === 'lower' ? -1 : 0;
}


/** "95.3% ± 0.4%" (n/a without values). */
export function pct(ci: MeanCI): string {
  return ci.n === 0 ? 'n/a' : `${(ci.mean * 100).toFixed(1)}% ± ${(ci.half * 100).toFixed(1)}%`;
}

/** A difference of accuracies in percentage points: "+1.2 ± 0.8 points". */
export function points(ci: MeanCI): string {
  if (ci.n === 0) return 'n/a';
  const s = ci.mean >= 0 ? '+' : '-';
  return `${s}${Math.abs(ci.mean * 100).toFixed(1)} ± ${(ci.half * 100).toFixed(1)} points`;
}

/** A generic quantity with 3 significant digits on the mean and the same decimals on the half-width. */
export function num(ci: MeanCI): string {
  if (ci.n === 0 || !Number.isFinite(ci.mean)) return 'n/a';
  const a = Math.max(Math.abs(ci.mean), Math.abs(ci.half));
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return `${ci.mean.toExponential(2)} ± ${ci.half.toExponential(1)}`;
  const decimals = a === 0 ? 0 : Math.max(0, 2 - Math.floor(Math.log10(a)));
  return `${ci.mean.toFixed(decimals)} ± ${ci.half.toFixed(decimals)}`;
}

/** The numbers of a comparison for a finding's values, under a prefix: mean and half-width of a, b and a - b. */
export function pairedValues(prefix: string, p: Paired, names: [string, string]): Record<string, number | null> {
  const r = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : null);
  return {
    [`${prefix}.${names[0]}`]: r(p.a.mean),
    [`${prefix}.${names[0]}.half`]: r(p.a.half),
    [`${prefix}.${names[1]}`]: r(p.b.mean),
    [`${prefix}.${names[1]}.half`]: r(p.b.half),
    [`${prefix}.diff`]: r(p.diff.mean),
    [`${prefix}.diff.half`]: r(p.diff.half),
    [`${prefix}.seeds`]: p.diff.n,
  };
}

/** "3 seeds" / "1 seed". */
export function seeds(n: number): string {
  return `${n} seed${n === 1 ? '' : 's'}`;
}
