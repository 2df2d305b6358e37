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

/** Verdict of a finding about a claim. */
export type Verdict = 'supported' | 'contradicted' | 'mixed' | 'inconclusive';

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
}

/** The whole results.json of a run. */
export interface Results {
  experiment: string;
  /** The validated config of the run (after presets and overrides). */
  config: Record<string, unknown>;
  trials: Trial[];
  findings: Finding[];
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
