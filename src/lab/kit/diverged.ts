// The `diverged` finding of ics, inference and batchsize: how many trials diverged, which, and what that does to the other findings.
import type { Finding, Trial } from '../results.js';

/**
 * "k of n trials diverged (which); consequence." as a contradicted finding, or null when none diverged.
 * `which` names the diverged trials in the experiment's own terms (arms, momenta, batch sizes).
 */
export function divergedFinding(
  trials: readonly Trial[],
  o: { claim: string; which: (diverged: Trial[]) => string; consequence: string },
): Finding | null {
  const div = trials.filter((t) => t.diverged);
  if (div.length === 0) return null;
  return {
    id: 'diverged',
    claim: o.claim,
    text: `${div.length} of ${trials.length} trials diverged (${o.which(div)}); ${o.consequence}.`,
    verdict: 'contradicted',
    values: { diverged: div.length, trials: trials.length },
  };
}
