// The contract every experiment implements: a validated config, presets, a trial grid, one trial's work, findings.
import type { z } from 'zod';
import type { Dataset } from '../data/dataset.js';
import type { LoadOptions } from '../data/registry.js';
import type { Finding, Trial } from './results.js';
import type { Module } from '../nn/module.js';
import type { MlpSpec } from './models.js';
import type { ResNetSpec, VggSpec } from '../nn/models.js';

/**
 * What a kept model was built from, so that it can be rebuilt: buildMlp's spec (kind absent or 'mlp'), vgg()'s or
 * resnet()'s spec; inputShape is one sample's shape without the batch dimension.
 */
export type ModelArch = ({ kind?: 'mlp'; spec: MlpSpec } | { kind: 'vgg'; spec: VggSpec } | { kind: 'resnet'; spec: ResNetSpec }) & {
  inputShape: number[];
};

/** One unit of work: an arm, a seed and grid values. Runs alone, possibly in a worker thread. */
export interface TrialSpec {
  id: string;
  arm: string;
  seed: number;
  params: Trial['params'];
}

/** What a trial returns (the runner adds id, arm, seed, params, durationMs). */
export type TrialOutput = Pick<Trial, 'metrics' | 'curves' | 'diverged' | 'divergedAt'>;

/** Services the runner gives a trial. */
export interface TrialContext {
  /** The dataset named by the config (loaded once per process and shared by trials). */
  dataset(): Dataset;
  /** Progress inside the trial: `done` of `total` units (steps). Cheap; call as often as you like. */
  progress(done: number, total: number): void;
  /**
   * Present when the run keeps weights (`bnlab run --save-weights`): a trial hands over its final model and the
   * spec it was built from, and the runner saves model.safetensors + model.json in the trial's folder.
   */
  keepModel?(model: Module, arch: ModelArch): void;
}

/** Fields every experiment config has. */
export interface BaseConfig {
  /** Dataset name (mnist-10k by default; fashion-mnist, mnist, or a synthetic set). */
  dataset: string;
  /** Directory with IDX files for fashion-mnist / mnist. */
  dataDir?: string;
  /** Number of seeds per arm (seeds are 0..seeds-1). */
  seeds: number;
}

/** An experiment: one claim made for BN, measured. */
export interface Experiment<C extends BaseConfig = BaseConfig> {
  /** Command name: `bnlab run <name>`. */
  name: string;
  /** Figure-style title. */
  title: string;
  /** The claim tested, as made for BN. */
  claim: string;
  /** What later work (cited by authors and year) and reference runs say, shown next to the findings. */
  context: string;
  /** Validates a config; unknown keys and bad values must be rejected (use z.object(...).strict()). */
  schema: z.ZodType<C>;
  /** Presets: tiny (tests, seconds), quick (default, `npm start`), full (the paper's scale). */
  presets: { tiny: C; quick: C; full: C };
  /** The trial grid for a config. Order matters: it is the order of the journal. */
  trials(config: C): TrialSpec[];
  /** Runs one trial. Must be deterministic for a given spec and config; must not throw on divergence. */
  runTrial(spec: TrialSpec, config: C, ctx: TrialContext): TrialOutput;
  /**
   * Optional: options for loading the config's dataset (e.g. a synthetic set's size or noise); the
   * runner adds `dataDir`. Default: the dataset's own defaults.
   */
  datasetOptions?(config: C): LoadOptions;
  /** Findings computed from the trials (never hard-coded numbers). */
  findings(trials: Trial[], config: C): Finding[];
}

/** Builds a trial id from arm, seed and params (stable: the journal keys on it). */
export function trialId(arm: string, seed: number, params: Trial['params'] = {}): string {
  const p = Object.keys(params)
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join(',');
  return `${arm}|seed=${seed}${p ? `|${p}` : ''}`;
}
