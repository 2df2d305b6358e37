// A trial's saved model: model.safetensors (weights, PyTorch keys) plus model.json (the architecture bnlab built).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '../nn/module.js';
import { saveSafetensors, loadWeights } from '../io/safetensors-file.js';
import { WeightsFileError } from '../io/errors.js';
import { buildMlp, type MlpSpec } from './models.js';
import { resnet, resnetProblems, vgg, vggProblems, type ResNetSpec, type VggSpec } from '../nn/models.js';

export const MODEL_JSON = 'model.json';
export const MODEL_WEIGHTS = 'model.safetensors';
/** Subdirectory of a run directory holding one folder per trial (made only when weights are saved). */
export const TRIALS_DIR = 'trials';

/** The builder of a saved model and its spec: buildMlp, vgg() or resnet(). */
export type SavedArch = { kind: 'mlp'; spec: MlpSpec } | { kind: 'vgg'; spec: VggSpec } | { kind: 'resnet'; spec: ResNetSpec };

/** Where a saved model came from. */
export interface SavedModelMeta {
  /** One sample's shape, without the batch dimension (e.g. [1, 28, 28]). */
  inputShape: number[];
  experiment: string;
  trial: string;
  dataset: string;
}

/** What model.json holds: enough to rebuild the module tree that model.safetensors fits. */
export type SavedModelInfo = { format: 'bnlab-model/1' } & SavedModelMeta & SavedArch;

const KINDS: readonly SavedArch['kind'][] = ['mlp', 'vgg', 'resnet'];

/** A trial id ('bn|seed=0') as a folder name ('bn-seed=0'). */
export function trialDirName(id: string): string {
  return id.replace(/[^A-Za-z0-9._=-]+/g, '-');
}

/** Writes model.safetensors and model.json into `dir` (created if needed). */
export function saveTrialModel(dir: string, model: Module, info: SavedModelMeta & SavedArch): void {
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
    const why = code === 'ENOENT'
      ? 'not found (was the run made with --save-weights? trial folders are <run>/trials/<trial>/)'
      : `cannot be read (${(e as Error).message})`;
    throw new WeightsFileError(path, why);
  }
  if (info?.format !== 'bnlab-model/1' || !KINDS.includes(info.kind) || !Array.isArray(info.inputShape)) {
    const want = `format 'bnlab-model/1' and kind ${KINDS.map((k) => `'${k}'`).join(', ')}`;
    const got = `${JSON.stringify(info?.format)} / ${JSON.stringify(info?.kind)}`;
    throw new WeightsFileError(path, `is not a bnlab model description (expected ${want}, got ${got})`);
  }
  const model = buildSaved(info, path);
  loadWeights(model, join(dir, MODEL_WEIGHTS));
  return { model: model.eval(), info };
}

/** The module tree model.json describes (seed 0: the initial weights are replaced by the file's). */
function buildSaved(arch: SavedArch, path: string): Module {
  const bad = (problems: { field: string; reason: string }[]) => {
    if (problems.length === 0) return;
    const why = problems.map((p) => `spec.${p.field}: ${p.reason}`).join('; ');
    throw new WeightsFileError(path, `describes a ${arch.kind} that cannot be built (${why})`);
  };
  switch (arch.kind) {
    case 'mlp':
      return buildMlp(arch.spec, 0).model;
    case 'vgg':
      bad(vggProblems(arch.spec));
      return vgg(arch.spec, 0);
    case 'resnet':
      bad(resnetProblems(arch.spec));
      return resnet(arch.spec, 0);
    default: {
      const never: never = arch;
      throw new WeightsFileError(path, `has an unknown model kind ${JSON.stringify((never as { kind: unknown }).kind)}`);
    }
  }
}
