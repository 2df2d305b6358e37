// A saved trial model evaluated on its dataset in eval mode (running statistics) and in train mode (batch statistics).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset, isDatasetName, DATASET_NAMES, type Dataset } from '../data/index.js';
import { Module } from '../nn/module.js';
import { deepCopyModule } from '../nn/norm/fold.js';
import { BatchNormBase } from '../nn/norm/batchnorm.js';
import type { Tensor } from '../tensor/tensor.js';
import type { BaseConfig, Experiment } from './experiment.js';
import { EXPERIMENTS, isExperimentName } from './registry.js';
import { ConfigError } from './runner/config.js';
import { datasetFor } from './runner/trial.js';
import type { SavedModelInfo } from './saved-model.js';
import { evaluate } from './train.js';

/**
 * The dataset to evaluate a trial folder's model on: by default the one it trained on, loaded as its run loaded it
 * (the run's config.json two levels up, so the same normalization); `dataset` / `dataDir` pick another.
 */
export function trialDataset(dir: string, info: SavedModelInfo, opts: { dataset?: string; dataDir?: string } = {}): Dataset {
  const name = opts.dataset ?? info.dataset;
  if (!isDatasetName(name)) throw new ConfigError(`unknown dataset '${name}' (known: ${DATASET_NAMES.join(', ')})`);
  const runConfig = join(dir, '..', '..', 'config.json');
  let ds: Dataset;
  if (existsSync(runConfig)) {
    const { experiment, config } = JSON.parse(readFileSync(runConfig, 'utf8')) as { experiment: string; config: BaseConfig };
    if (!isExperimentName(experiment)) throw new ConfigError(`${runConfig}: unknown experiment '${experiment}'`);
    const c = { ...config, dataset: name, dataDir: opts.dataDir ?? (opts.dataset ? undefined : config.dataDir) };
    const exp: Experiment<BaseConfig> = EXPERIMENTS[experiment];
    ds = datasetFor(exp, c);
  } else {
    ds = loadDataset(name, { dataDir: opts.dataDir });
  }
  const inputs = ds.inputShape.reduce((a, b) => a * b, 1);
  if (info.kind === 'mlp') {
    if (inputs !== info.spec.inputs) throw new ConfigError(`${ds.name} has ${inputs} values per sample, but the model takes ${info.spec.inputs}`);
  } else if (ds.inputShape.join('x') !== info.inputShape.join('x')) {
    // A convnet's plane size is fixed by its pooling and its Linear: same shape, not just the same count.
    const shape = (s: readonly number[]) => `[${s.join(', ')}]`;
    throw new ConfigError(`${ds.name} has samples of shape ${shape(ds.inputShape)}, but the ${info.kind} was trained on ${shape(info.inputShape)}`);
  }
  return ds;
}

/** Wraps a model so that train() switches only its BatchNorm layers: dropout stays off, the gap is BN's alone. */
class BatchStatsOnly extends Module {
  constructor(private readonly inner: Module) {
    super();
    this.registerModule('inner', inner);
  }
  forward(x: Tensor): Tensor {
    return this.inner.forward(x);
  }
  override train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode && (m === this || m instanceof BatchNormBase);
    return this;
  }
}

export interface ModeGap {
  eval: { accuracy: number; loss: number };
  train: { accuracy: number; loss: number };
  batchSize: number;
}

/**
 * Test accuracy and loss in eval mode and with BatchNorm in train mode (batch statistics over batches of
 * `batchSize`, default 60 as the paper's; whole batches only; dropout stays off). Train-mode BN updates running
 * statistics, so that pass runs on a copy: the model stays as loaded.
 */
export function evalBothModes(model: Module, ds: Dataset, batchSize = 60): ModeGap {
  if (!Number.isInteger(batchSize) || batchSize < 2) {
    throw new ConfigError(`batch size must be an integer >= 2 (train-mode BN needs more than one value per channel), got ${batchSize}`);
  }
  const ev = evaluate(model, ds.test, ds.inputShape, { mode: 'eval' });
  const limit = Math.floor(ds.test.n / batchSize) * batchSize;
  const tr = evaluate(new BatchStatsOnly(deepCopyModule(model)), ds.test, ds.inputShape, { mode: 'train', chunk: batchSize, limit });
  return { eval: ev, train: tr, batchSize };
}
