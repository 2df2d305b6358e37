// Reading a learning-rate grid for findings: trials at one lr, each seed's best lr and highest trainable lr, an arm's best lr.
import type { Trial } from '../results.js';
import { meanCI } from '../stats.js';

/** Two learning rates are the same grid point (0.1 * 3 must meet 0.3). */
export function sameLr(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/** The distinct learning rates of trials (param `lr`), ascending. */
export function lrsOf(trials: readonly Trial[]): number[] {
  const out: number[] = [];
  for (const t of trials) {
    const lr = t.params.lr as number;
    if (typeof lr === 'number' && !out.some((x) => sameLr(x, lr))) out.push(lr);
  }
  return out.sort((a, b) => a - b);
}

/** Trials at learning rate `lr`. */
export function atLr(trials: readonly Trial[], lr: number): Trial[] {
  return trials.filter((t) => sameLr(t.params.lr as number, lr));
}

/** The seeds of trials, ascending. */
export function seedsOf(trials: readonly Trial[]): number[] {
  return [...new Set(trials.map((t) => t.seed))].sort((a, b) => a - b);
}

/**
 * log10 of the highest grid lr at which each seed trained (metric `trained` = 1), by seed; a seed that trained at no
 * lr of the grid gets one decade below the lowest (it is below the grid), so that it still pairs with other arms.
 */
export function maxTrainedLogLr(trials: readonly Trial[]): Map<number, number> {
  const lrs = lrsOf(trials);
  const out = new Map<number, number>();
  if (lrs.length === 0) return out;
  for (const seed of seedsOf(trials)) {
    const ok = trials.filter((t) => t.seed === seed && t.metrics.trained === 1).map((t) => t.params.lr as number);
    out.set(seed, ok.length > 0 ? Math.log10(Math.max(...ok)) : Math.log10(lrs[0]) - 1);
  }
  return out;
}

/** The highest lr at which every seed of trials trained (null when there is none). */
export function maxLrEverySeedTrained(trials: readonly Trial[]): number | null {
  let best: number | null = null;
  for (const lr of lrsOf(trials)) {
    const at = atLr(trials, lr);
    if (at.length > 0 && at.every((t) => t.metrics.trained === 1)) best = lr;
  }
  return best;
}

/** A metric of a trial, with the value a missing one stands for (e.g. the step budget for a target never reached). */
export type Scorer = (t: Trial) => number | null;

/** The metric itself (null and non-finite values stay missing). */
export const metric =
  (name: string): Scorer =>
  (t) => {
    const v = t.metrics[name];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };

/**
 * The lr whose mean score over seeds is best ('max' or 'min'); ties go to the lower lr. Null when no lr has a score.
 * Picking by the mean over seeds (not per seed) keeps each seed's value an honest sample at one fixed lr.
 */
export function bestMeanLr(trials: readonly Trial[], score: Scorer, better: 'max' | 'min'): number | null {
  let best: number | null = null;
  let bestMean = better === 'max' ? -Infinity : Infinity;
  for (const lr of lrsOf(trials)) {
    const m = meanCI(atLr(trials, lr).map(score)).mean;
    if (Number.isFinite(m) && (better === 'max' ? m > bestMean : m < bestMean)) {
      bestMean = m;
      best = lr;
    }
  }
  return best;
}

/** Each seed's score at one lr, by seed (missing scores dropped). */
export function scoresBySeed(trials: readonly Trial[], score: Scorer): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of trials) {
    const v = score(t);
    if (v !== null && Number.isFinite(v)) out.set(t.seed, v);
  }
  return out;
}

/** log10 of the lr at which each seed scored best ('max' or 'min'; ties to the lower lr), by seed. */
export function bestLogLrBySeed(trials: readonly Trial[], score: Scorer, better: 'max' | 'min'): Map<number, number> {
  const out = new Map<number, number>();
  for (const seed of seedsOf(trials)) {
    const mine = trials.filter((t) => t.seed === seed).sort((a, b) => (a.params.lr as number) - (b.params.lr as number));
    let best: Trial | null = null;
    for (const t of mine) {
      const v = score(t);
      const b = best === null ? null : score(best);
      if (v !== null && (b === null || (better === 'max' ? v > b : v < b))) best = t;
    }
    if (best !== null) out.set(seed, Math.log10(best.params.lr as number));
  }
  return out;
}
