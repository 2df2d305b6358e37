// --seeds auto as a sequential design: the look schedule, each look's share of the 5% error budget, and what one look decides.
import { ALPHA } from './compare.js';
import { adjustFindings, seedsUsed } from './multiplicity.js';
import type { Finding, Multiplicity, SequentialInfo } from './results.js';

/** One planned look: the seeds per arm its trials reach, and the level its adjusted p-values are compared with. */
export interface Look {
  seeds: number;
  alpha: number;
}

/**
 * The looks of --seeds auto: n_0 = start (the configured seeds), then doubling, n_k = min(maxSeeds, 2 n_{k-1}), the last at
 * maxSeeds. Look k is tested at alpha_k = alpha (n_k - n_{k-1}) / maxSeeds (n_{-1} = 0): shares proportional to the seeds
 * each look adds, which sum to alpha. Bonferroni over looks: P(a false verdict at any look) <= sum_k alpha_k = alpha, whatever
 * the correlation between looks (it is strong: each look reuses the earlier seeds), so the bound is conservative.
 * Doubling keeps the looks few (about log2(maxSeeds / start) + 1), so no share gets too small to be usable, and the
 * schedule is fixed before any data: it depends on start and maxSeeds only, never on what a look showed.
 */
export function lookSchedule(start: number, maxSeeds: number, alpha = ALPHA): Look[] {
  if (!(Number.isInteger(start) && start >= 1 && Number.isInteger(maxSeeds) && maxSeeds >= start)) {
    throw new RangeError(`lookSchedule: needs integers 1 <= start <= maxSeeds, got start ${start}, maxSeeds ${maxSeeds}`);
  }
  const seeds = [start];
  while (seeds[seeds.length - 1] < maxSeeds) seeds.push(Math.min(maxSeeds, 2 * seeds[seeds.length - 1]));
  return seeds.map((n, k) => ({ seeds: n, alpha: alpha * ((n - (k > 0 ? seeds[k - 1] : 0)) / maxSeeds) }));
}

/** What a look decided. */
export interface LookDecision {
  /** The findings to report after this look: those decided earlier exactly as they were decided, the rest as of now. */
  findings: Finding[];
  multiplicity: Multiplicity;
  /** Per finding: still unresolved (inconclusive) after this look. */
  open: boolean[];
}

/**
 * One look: the family's p-values are adjusted together (Benjamini-Hochberg) and compared with the look's level; a
 * finding that resolves (any verdict but inconclusive) keeps that verdict from then on (`decided`, by key, is updated),
 * as a group-sequential trial stops at the first boundary it crosses. `keys` name the findings stably across looks.
 * Findings come back with `seedsUsed` and `look` (the look that decided them, or this one while open).
 */
export function decideLook(
  family: readonly Finding[],
  keys: readonly string[],
  o: { k: number; looks: readonly Look[]; maxSeeds: number; family: Multiplicity['family']; decided: Map<string, Finding> },
): LookDecision {
  const sequential: SequentialInfo = { maxSeeds: o.maxSeeds, looks: o.looks.map((l) => ({ ...l })), look: o.k };
  const { findings, multiplicity } = adjustFindings(family, o.family, { alpha: o.looks[o.k].alpha, sequential });
  const out = findings.map((f, i) => {
    const prior = o.decided.get(keys[i]);
    if (prior) return prior;
    const used = seedsUsed(f);
    const g: Finding = { ...f, ...(used !== null ? { seedsUsed: used } : {}), look: o.k };
    if (g.verdict !== 'inconclusive') o.decided.set(keys[i], g);
    return g;
  });
  return { findings: out, multiplicity, open: out.map((_, i) => !o.decided.has(keys[i])) };
}

/** Stable keys for a run's findings: the id, with "#2", "#3"... for repeated ids, after `prefix` (a study's run name and "/"). */
export function findingKeys(findings: readonly Finding[], prefix = ''): string[] {
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const k = (seen.get(f.id) ?? 0) + 1;
    seen.set(f.id, k);
    return `${prefix}${f.id}${k > 1 ? `#${k}` : ''}`;
  });
}
