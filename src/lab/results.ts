// The shape of a lab run's results (results.json): trials with metrics and curves, and findings computed from them.

/** A named curve: [x, y] points, x usually the training step (or a layer index, a learning rate...). */
export type Series = [number, number][];

/** What one trial measured. */
export interface Trial {
  /** Unique within a run: `${arm}|seed=${seed}` plus any grid params. */
  id: string;
  /** The condition compared (e.g. 'bn', 'plain', 'bn+dropout'). */
  arm: string;
  seed: number;
  /** Grid values of this trial (e.g. { lr: 0.5 }, { std: 0.1, activation: 'tanh' }). */
  params: Record<string, string | number | boolean | null>;
  /** Scalar results (null when not reached, e.g. steps to a target accuracy never hit). */
  metrics: Record<string, number | null>;
  /** Named series, e.g. curves.testAccuracy = [[step, acc], ...]. */
  curves: Record<string, Series>;
  /** True when the loss became NaN/Inf or exploded; then `divergedAt` is the step. */
  diverged: boolean;
  divergedAt: number | null;
  /** Wall time of the trial in ms. */
  durationMs: number;
}

import type { Comparison } from './compare.js';

/** Verdict of a finding about a claim ('equivalent': the arms differ by less than a stated margin). */
export type Verdict = 'supported' | 'contradicted' | 'equivalent' | 'mixed' | 'inconclusive';

/** One or two sentences computed from the numbers, with the numbers behind them. */
export interface Finding {
  /** Short key, e.g. 'convergence', 'percentile-stability'. */
  id: string;
  /** The claim tested, in words (e.g. 'BN speeds up convergence'). */
  claim: string;
  text: string;
  verdict: Verdict;
  /** The numbers the text quotes, for tests and reports. */
  values: Record<string, number | string | null>;
  /** The tests behind the verdict (lab/compare.ts), the first one the finding's headline; p-values adjusted across the run or study. */
  comparisons?: Comparison[];
  /** The verdict before multiplicity correction, when the correction changed it. */
  verdictRaw?: Verdict;
  /** Under --seeds auto: seeds per arm behind the finding (at the look that decided it, or the last look) and that look (0-based). */
  seedsUsed?: number;
  look?: number;
}

/** How --seeds auto added seeds: the planned looks (seeds per arm and the level each is tested at) and the last look taken (0-based). */
export interface SequentialInfo {
  maxSeeds: number;
  looks: { seeds: number; alpha: number }[];
  look: number;
}

/** How the p-values of a run (or of a whole study) were corrected for the number of tests. */
export interface Multiplicity {
  method: 'benjamini-hochberg';
  /** Tests in the family (a comparison with an equivalence margin counts twice: difference and equivalence). */
  tests: number;
  /** Comparisons in the family. */
  comparisons: number;
  /** 'run' when corrected within this run, 'study' when across every run of a study. */
  family: 'run' | 'study';
  /** Under --seeds auto: the level adjusted p-values were compared with at the last look, and the look schedule. */
  alpha?: number;
  sequential?: SequentialInfo;
}

/** The whole results.json of a run. */
export interface Results {
  experiment: string;
  /** The validated config of the run (after presets and overrides). */
  config: Record<string, unknown>;
  trials: Trial[];
  findings: Finding[];
  /** Absent in results written before p-values were corrected. */
  multiplicity?: Multiplicity;
  /** bnlab version, backend, Node version, start and end time, command line. */
  meta: {
    version: string;
    backend: string;
    node: string;
    startedAt: string;
    finishedAt: string;
    command: string;
    dataset: string;
  };
}
