// A trial's saved model: model.safetensors (weights, PyTorch keys) plus model.json (the architecture bnlab built).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '../nn/module.js';
import { saveSafetensors, loadWeights } from '../io/safetensors-file.js';
import { WeightsFileError } from '../io/errors.js';
import { buildMlp, type MlpSpec } from './models.js';

export const MODEL_JSON = 'model.json';
export const MODEL_WEIGHTS = 'model.safetensors';
/** Subdirectory of a run directory holding one folder per trial (made only when weights are saved). */
export const TRIALS_DIR = 'trials';

/** What model.json holds: enough to rebuild the module tree that model.safetensors fits. */
export interface SavedModelInfo {
  format: 'bnlab-model/1';
  /** The builder and its spec (only MLPs so far: buildMlp). */
  kind: 'mlp';
  spec: MlpSpec;
  /** One sample's shape, without the batch dimension (e.g. [1, 28, 28]). */
  inputShape: number[];
  experiment: string;
  trial: string;
  dataset: string;
}

/** A trial id ('bn|seed=0') as a folder name ('bn-seed=0'). */
export function trialDirName(id: string): string {
  return id.replace(/[^A-Za-z0-9._=-]+/g, '-');
}

/** Writes model.safetensors and model.json into `dir` (created if needed). */
export function saveTrialModel(dir: string, model: Module, info: Omit<SavedModelInfo, 'format'>): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(model, join(dir, MODEL_WEIGHTS), { format: 'pt', producer: 'bnlab', experiment: info.experiment, trial: info.trial });
  writeFileSync(join(dir, MODEL_JSON), `${JSON.stringify({ format: 'bnlab-model/1', ...info }, null, 2)}\n`);
}

/** Reads a trial folder's model.json and builds the model, loading model.safetensors strictly (all keys, all shapes). */
export function loadTrialModel(dir: string): { model: Module; info: SavedModelInfo } {
  const path = join(dir, MODEL_JSON);
  let info: SavedModelInfo;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as SavedModelInfo;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found (was the run made with --save-weights? trial folders are <run>/trials/<trial>/)' : `cannot be read (${(e as Error).message})`;
    throw new WeightsFileError(path, why);
  }
  if (info?.format !== 'bnlab-model/1' || info.kind !== 'mlp' || !Array.isArray(info.inputShape)) {
    throw new WeightsFileError(path, `is not a bnlab model description (expected format 'bnlab-model/1' and kind 'mlp', got ${JSON.stringify(info?.format)} / ${JSON.stringify(info?.kind)})`);
  }
  // The seed only draws initial weights, which the file then replaces.
  const { model } = buildMlp(info.spec, 0);
  loadWeights(model, join(dir, MODEL_WEIGHTS));
  return { model: model.eval(), info };
}
