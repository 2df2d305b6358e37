// Runs one trial in this thread: loads (and caches) the dataset, times the trial, turns a NaN blow-up into a diverged record.
import { loadDataset, type Dataset, type DatasetName, type LoadOptions } from '../../data/index.js';
import { NonFiniteError } from '../../tensor/errors.js';
import type { BaseConfig, Experiment, TrialSpec } from '../experiment.js';
import type { Trial } from '../results.js';
import { join } from 'node:path';
import { TRIALS_DIR, saveTrialModel, trialDirName } from '../saved-model.js';

// One dataset per (name, options) per thread: trials of a run share it read-only, so it is loaded once.
const datasets = new Map<string, Dataset>();

/** The dataset a config names, with the experiment's load options; cached per thread. */
export function datasetFor<C extends BaseConfig>(exp: Experiment<C>, config: C): Dataset {
  const opts: LoadOptions = { ...(exp.datasetOptions?.(config) ?? {}), dataDir: config.dataDir };
  const key = JSON.stringify([config.dataset, opts]);
  let ds = datasets.get(key);
  if (!ds) {
    ds = loadDataset(config.dataset as DatasetName, opts);
    datasets.set(key, ds);
  }
  return ds;
}

/**
 * Runs `spec` and returns the full Trial record. A NonFiniteError escaping the experiment counts as a
 * divergence (step unknown) rather than a crash; any other error is a bug or bad input and propagates.
 * With `weightsDir` (a run directory) the trial's kept model goes to <weightsDir>/trials/<trial>/.
 */
export function executeTrial<C extends BaseConfig>(
  exp: Experiment<C>,
  spec: TrialSpec,
  config: C,
  onProgress: (fraction: number) => void,
  weightsDir?: string,
): Trial {
  const t0 = performance.now();
  let out: ReturnType<Experiment<C>['runTrial']>;
  try {
    out = exp.runTrial(spec, config, {
      dataset: () => datasetFor(exp, config),
      progress: (done, total) => onProgress(total > 0 ? done / total : 0),
      keepModel: weightsDir === undefined ? undefined : (model, arch) => {
        const info = { kind: 'mlp' as const, ...arch, experiment: exp.name, trial: spec.id, dataset: config.dataset };
        saveTrialModel(join(weightsDir, TRIALS_DIR, trialDirName(spec.id)), model, info);
      },
    });
  } catch (e) {
    if (!(e instanceof NonFiniteError)) throw e;
    out = { metrics: {}, curves: {}, diverged: true, divergedAt: null };
  }
  return {
    id: spec.id,
    arm: spec.arm,
    seed: spec.seed,
    params: spec.params,
    metrics: out.metrics,
    curves: out.curves,
    diverged: out.diverged,
    divergedAt: out.divergedAt,
    durationMs: Math.round(performance.now() - t0),
  };
}
