// A comparison (lab/compare.ts) in a finding's words: the difference with its 95% CI, p and effect size, and the seeds that would resolve it.
import type { Comparison } from '../compare.js';

/** How a difference is written: accuracy points, step counts, decades of learning rate, or plain numbers. */
export type DiffUnit = 'points' | 'steps' | 'decades' | 'plain';

function fmt(x: number, unit: DiffUnit): string {
  const sign = x > 0 ? '+' : x < 0 ? '-' : '';
  const a = Math.abs(x);
  switch (unit) {
    case 'points':
      return `${sign}${(100 * a).toFixed(1)}`;
    case 'steps':
      return `${sign}${Math.round(a).toLocaleString('en-US')}`;
    case 'decades':
      return `${sign}${a.toFixed(2)}`;
    case 'plain':
      return `${sign}${Number(a.toPrecision(3))}`;
  }
}

const UNIT_WORD: Record<DiffUnit, string> = { points: ' points', steps: ' steps', decades: ' decades', plain: '' };

/**
 * "+1.2 points, 95% CI [0.4, 2.0], p = 0.01, d = 1.9" for a comparison with an interval; "+1.2 points (no interval:
 * fewer than 2 seeds)" without one. Equal values in every seed (standard error 0) give the exact difference.
 */
export function diffText(c: Comparison, unit: DiffUnit): string {
  if (!Number.isFinite(c.diff)) return 'n/a';
  const d = `${fmt(c.diff, unit)}${UNIT_WORD[unit]}`;
  if (!Number.isFinite(c.lo) || !Number.isFinite(c.hi)) return `${d} (no interval: fewer than 2 seeds)`;
  if (c.se === 0) return `${d} in every seed`;
  const p = c.p < 0.001 ? 'p < 0.001' : `p = ${c.p.toFixed(3)}`;
  const eff = Number.isFinite(c.effect) ? `, effect size ${c.effect.toFixed(1)}` : '';
  return `${d}, 95% CI [${fmt(c.lo, unit)}, ${fmt(c.hi, unit)}], ${p}${eff}`;
}

/** " (about N seeds per arm would resolve it)" for an unresolved comparison that has an estimate, else ''. */
export function seedsHint(c: Comparison): string {
  return c.outcome === 'unresolved' && c.seedsNeeded !== null ? ` (about ${c.seedsNeeded} seeds per arm would resolve it)` : '';
}

/** "; about N seeds per arm would resolve it" (for use inside parentheses), else ''. */
export function seedsClause(c: Comparison): string {
  return c.outcome === 'unresolved' && c.seedsNeeded !== null ? `; about ${c.seedsNeeded} seeds per arm would resolve it` : '';
}

/** A comparison the finding reports but whose verdict does not rest on it (a multiplicity correction leaves the verdict alone). */
export function informational(c: Comparison): Comparison {
  return { ...c, decides: false };
}
