// Saved trial models: model.safetensors + model.json round trip, clear errors, and the eval/train-mode gap.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMlp, type MlpSpec } from '../../src/lab/models.js';
import { loadTrialModel, saveTrialModel, trialDirName } from '../../src/lab/saved-model.js';
import { evalBothModes } from '../../src/lab/saved-eval.js';
import { WeightsFileError } from '../../src/io/errors.js';
import type { Dataset } from '../../src/data/dataset.js';
import { randn } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/rng.js';
import { noGrad } from '../../src/autograd/grad-mode.js';

const spec: MlpSpec = { inputs: 6, hidden: [8, 8], classes: 3, activation: 'relu', norm: 'bn', init: { kind: 'default' }, dropout: 0.5 };

function tinyData(n: number): Dataset {
  const x = randn([n, 6], { rng: new Rng(1) }).data;
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  return { name: 'tiny', train: { x, y, n }, test: { x, y, n }, classes: ['a', 'b', 'c'], inputShape: [6], source: 'test',
    normalization: 'raw' } as unknown as Dataset;
}

describe('saved trial models', () => {
  it('round-trip: the loaded model gives the same eval outputs', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bnlab-saved-')), 'trials', trialDirName('bn+dropout|seed=2'));
    expect(dir.endsWith('bn-dropout-seed=2')).toBe(true);
    const { model } = buildMlp(spec, 2);
    model.train();
    for (let i = 0; i < 3; i++) noGrad(() => model.forward(randn([10, 6], { rng: new Rng(i) })));
    saveTrialModel(dir, model, { kind: 'mlp', spec, inputShape: [6], experiment: 'regularization', trial: 'bn+dropout|seed=2', dataset: 'tiny' });
    const { model: back, info } = loadTrialModel(dir);
    expect(info).toMatchObject({ format: 'bnlab-model/1', spec, trial: 'bn+dropout|seed=2' });
    const x = randn([5, 6], { rng: new Rng(9) });
    expect(Array.from(noGrad(() => back.forward(x)).data)).toEqual(Array.from(noGrad(() => model.eval().forward(x)).data));
  });

  it('a folder without model.json, or with another file there, is a WeightsFileError naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bnlab-saved-'));
    expect(() => loadTrialModel(dir)).toThrow(WeightsFileError);
    expect(() => loadTrialModel(dir)).toThrow(/model\.json: not found \(was the run made with --save-weights\?/);
    writeFileSync(join(dir, 'model.json'), '{"format": "other"}');
    expect(() => loadTrialModel(dir)).toThrow(/is not a bnlab model description/);
  });

  it('evalBothModes: BN in train mode with dropout off (deterministic), the model left as it was', () => {
    const { model } = buildMlp(spec, 3);
    model.eval();
    const before = JSON.stringify(Array.from(model.stateDict()['2.running_mean'].data));
    const data = tinyData(40);
    const a = evalBothModes(model, data, 10);
    const b = evalBothModes(model, data, 10);
    expect(a).toEqual(b);
    expect(a.eval.loss).not.toBeCloseTo(a.train.loss, 6);
    expect(JSON.stringify(Array.from(model.stateDict()['2.running_mean'].data))).toBe(before);
    expect(model.training).toBe(false);
    expect(() => evalBothModes(model, data, 1)).toThrow(/batch size must be an integer >= 2/);
  });
});
