// Steps to a target accuracy: the 'auto' target shared by fig1 and placement, and steps counted with misses censored at the budget.
import type { Trial } from '../results.js';
import { stepsToReach } from '../train.js';

/**
 * The 'auto' target. Each arm's level is the best accuracy its worst seed reached (diverged trials left
 * out); the target is 95% of the lower level, rounded down to a whole percent: every trial has a
 * steps-to-reach, and the ratio measures how fast each arm gets to a good accuracy rather than which
 * one touches its plateau first (near the plateau a few noisy evaluations decide, measured: at 98% the
 * 95% intervals of 3 seeds overlap on mnist-10k, at 95% they do not). When that
 * is no better than the start (an arm never learned: within 5 points of the best step-0 accuracy), the
 * higher level is used instead, and the finding reports which arm never got there.
 */
export function autoTarget(trials: readonly Trial[]): { target: number; arm: string } | null {
  const ok = trials.filter((t) => !t.diverged && (t.curves.testAccuracy ?? []).length > 0);
  if (ok.length === 0) return null;
  const arms = [...new Set(ok.map((t) => t.arm))];
  const levels = arms.map((a) => Math.min(...ok.filter((t) => t.arm === a).map((t) => Math.max(...t.curves.testAccuracy.map(([, v]) => v)))));
  const start = Math.max(...ok.map((t) => t.curves.testAccuracy[0][1]));
  const lo = levels.indexOf(Math.min(...levels));
  const hi = levels.indexOf(Math.max(...levels));
  const pick = Math.floor(95 * levels[lo]) / 100 > start + 0.05 ? lo : hi;
  return { target: Math.floor(95 * levels[pick]) / 100, arm: arms[pick] };
}

/** Steps to reach `target` per seed, a seed that never did (or diverged) counted at the budget `steps` (censored). */
export function censoredSteps(trials: readonly Trial[], target: number, steps: number): Map<number, number> {
  return new Map(trials.map((t) => [t.seed, (t.diverged ? null : stepsToReach(t.curves.testAccuracy ?? [], target)) ?? steps]));
}
