// How findings write numbers: percentages and step counts with their CIs, short numbers, seed counts, rounding for results.json.
import type { MeanCI } from '../stats.js';

/** Integer with thousands separators: 1450 -> "1,450". */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A fraction as a percentage: 0.953 -> "95.3%". */
export function percent(x: number, digits = 1): string {
  return `${(100 * x).toFixed(digits)}%`;
}

/** "1,450 ± 120" for step counts; the bare mean from one seed (no interval), n/a when there are none. */
export function fmtSteps(ci: MeanCI): string {
  if (ci.n === 0) return 'n/a';
  return ci.n === 1 ? fmtInt(ci.mean) : `${fmtInt(ci.mean)} ± ${fmtInt(ci.half)}`;
}

/** "95.3% ± 0.4%"; the bare mean from one seed (no interval), n/a when there are none. */
export function fmtPct(ci: MeanCI): string {
  if (ci.n === 0) return 'n/a';
  return ci.n === 1 ? percent(ci.mean) : `${percent(ci.mean)} ± ${percent(ci.half)}`;
}

/** A number in short form: 0.001 -> "0.001", 30 -> "30", 1e-4 -> "1e-4". */
export function fmtNum(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(3)));
  return x.toExponential(1).replace('.0e', 'e').replace('e+', 'e');
}

/** "3 seeds" / "1 seed". */
export function seedsText(n: number): string {
  return `${n} seed${n === 1 ? '' : 's'}`;
}

/** A CI rounded for a finding's values (keeps results.json readable). */
export function round(x: number, digits = 4): number | null {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : null;
}

/** Why there is no verdict: the difference's CI includes 0, or a single seed that has no interval at all. */
export function noDifference(seeds: number): string {
  return seeds < 2 ? 'no verdict from 1 seed (no confidence interval)' : 'no clear difference (the 95% CI of the difference includes 0)';
}
