// Tests of the `inference` experiment: tiny preset, findings from the numbers, validation, divergence, population statistics.
import { describe, expect, it } from 'vitest';
import { biasedRunningVar, inference, runningBatchNorms, setPopulationStats, withBuffersRestored,
  type InferenceConfig } from '../../src/lab/experiments/inference.js';
import { buildMlp } from '../../src/lab/models.js';
import { BatchNorm1d } from '../../src/nn/norm/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/rng.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import type { Split } from '../../src/data/dataset.js';
import { ctx, editTrials, expectFindingShape, expectTrialShape, finding, parseErrors, runAll } from './mlp-harness.js';

const tiny = inference.presets.tiny;
const trials = runAll(inference, tiny);

/** A random split of n samples with f features (labels irrelevant here). */
function randomSplit(n: number, f: number, seed: number): Split {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * f }, () => 2 * rng.normal() + 0.5);
  return { x, y: new Int32Array(n), n };
}

describe('inference', () => {
  it('presets validate; one trial per momentum and seed, momentum null allowed', () => {
    for (const p of [inference.presets.tiny, inference.presets.quick, inference.presets.full]) expect(parseErrors(inference.schema, p)).toEqual([]);
    expect(inference.trials(tiny).map((s) => s.id)).toEqual(['bn|seed=0|momentum=0.1', 'bn|seed=1|momentum=0.1', 'bn|seed=0|momentum=null',
      'bn|seed=1|momentum=null']);
  });

  it('runs the tiny preset: every way of inference measured, accuracy-vs-eval-batch curve', () => {
    const metrics = ['accRunning', 'accRunningBiased', 'accPopulation', 'accBatchStats', 'trainEvalGap', 'meanError', 'varErrorUnbiased',
      'varErrorBiased', 'accBatch2', 'accBatch16', 'accBatch64'];
    expectTrialShape(trials, metrics, ['testAccuracy', 'accuracyVsEvalBatch', 'runningMeanError', 'runningVarError']);
    for (const t of trials) {
      expect(t.curves.accuracyVsEvalBatch.map(([b]) => b)).toEqual([2, 16, 64]);
      for (const m of metrics) expect(t.metrics[m]).not.toBeNull();
    }
    // Momentum only changes the running averages: the same seed trains the same weights, so everything computed
    // without the running averages agrees across momenta.
    const [a, , c] = trials;
    expect(c.metrics.accPopulation).toBe(a.metrics.accPopulation);
    expect(c.metrics.accBatch2).toBe(a.metrics.accBatch2);
  });

  it('is deterministic', () => {
    const again = inference.runTrial(inference.trials(tiny)[1], tiny, ctx);
    expect(again.metrics).toEqual(trials[1].metrics);
  });

  it('computes findings from the trials: changing a metric changes the finding', () => {
    const fs = inference.findings(trials, tiny);
    expectFindingShape(fs);
    expect(fs.map((f) => f.id)).toEqual(['running-vs-population', 'momentum', 'unbiased-variance', 'eval-batch', 'train-eval-gap']);
    const f = finding(fs, 'running-vs-population');
    const ts = trials.filter((t) => t.params.momentum === 0.1);
    expect(f.values['accuracy.population']).toBeCloseTo((ts[0].metrics.accPopulation! + ts[1].metrics.accPopulation!) / 2, 5);
    const edited = editTrials(trials, (t) => t.params.momentum === 0.1, (t) => (t.metrics.accPopulation = 0.999));
    const g = finding(inference.findings(edited, tiny), 'running-vs-population');
    expect(g.values['accuracy.population']).toBeCloseTo(0.999, 6);
    expect(g.text).not.toEqual(f.text);
    const small = editTrials(trials, () => true, (t) => (t.metrics.accBatch2 = 0.05));
    expect(finding(inference.findings(small, tiny), 'eval-batch').values['accuracy.batch2']).toBeCloseTo(0.05, 6);
  });

  it('rejects unknown keys and bad values with messages that name them', () => {
    expect(parseErrors(inference.schema, { ...tiny, bogus: 1 }).join('; ')).toMatch(/bogus/);
    expect(parseErrors(inference.schema, { ...tiny, evalBatchSizes: [1, 4] }).join('; ')).toMatch(/evalBatchSizes must be at least 2/);
    expect(parseErrors(inference.schema, { ...tiny, momenta: [0] }).join('; ')).toMatch(/momenta must be in \(0, 1\] or null/);
    expect(parseErrors(inference.schema, { ...tiny, momenta: [0.1, 0.1] }).join('; ')).toMatch(/must not repeat/);
    expect(parseErrors(inference.schema, { ...tiny, batchSize: 1 }).join('; ')).toMatch(/batchSize must be at least 2/);
  });

  it('records a diverging run instead of throwing', () => {
    const wild: InferenceConfig = { ...tiny, lr: 1e7, steps: 12 };
    const spec = inference.trials(wild)[0];
    const out = inference.runTrial(spec, wild, ctx);
    expect(out.diverged).toBe(true);
    expectTrialShape([{ ...spec, ...out, durationMs: 0 }], ['accRunning', 'accPopulation', 'accBatch2'], ['testAccuracy']);
    expectFindingShape(inference.findings([{ ...spec, ...out, durationMs: 0 }], wild));
  });
});

describe('population statistics', () => {
  const net = () => buildMlp({ inputs: 5, hidden: [4, 3], classes: 2, activation: 'sigmoid', norm: 'bn', init: { kind: 'normal', std: 0.7 } }, 3);

  it("equal a direct computation of the first BN layer's input statistics", () => {
    const { model, linears } = net();
    const split = randomSplit(50, 5, 1);
    const pop = setPopulationStats(model, split, [5], { chunk: 7 });
    const w = linears[0].weight.data;
    for (let j = 0; j < 4; j++) {
      const h = Array.from({ length: 50 }, (_, i) => {
        let s = 0;
        for (let k = 0; k < 5; k++) s += split.x[i * 5 + k] * w[j * 5 + k];
        return s;
      });
      const mean = h.reduce((a, b) => a + b, 0) / 50;
      const variance = h.reduce((a, b) => a + (b - mean) ** 2, 0) / 50;
      expect(pop[0].mean[j]).toBeCloseTo(mean, 4);
      expect(pop[0].variance[j]).toBeCloseTo(variance, 4);
    }
    const bns = runningBatchNorms(model);
    expect(bns.length).toBe(2);
    expect(bns[1].runningMean!.data[0]).toBeCloseTo(pop[1].mean[0], 5);
  });

  it('make inference mode equal training mode on the whole split as one batch', () => {
    const { model } = net();
    const split = randomSplit(64, 5, 2);
    const x = new Tensor(split.x, [64, 5]);
    // Training-mode BN on all samples at once normalizes every layer with exactly the population statistics.
    const train = withBuffersRestored(model, () => noGrad(() => model.train().forward(x)));
    setPopulationStats(model, split, [5], { chunk: 10 });
    const inferred = noGrad(() => model.eval().forward(x));
    for (let i = 0; i < train.data.length; i++) expect(inferred.data[i]).toBeCloseTo(train.data[i], 4);
  });

  it('withBuffersRestored undoes the running updates of training-mode forwards', () => {
    const { model } = net();
    const before = model.buffers().map((b) => Array.from(b.data));
    withBuffersRestored(model, () => noGrad(() => model.train().forward(new Tensor(randomSplit(8, 5, 4).x, [8, 5]))));
    expect(model.buffers().map((b) => Array.from(b.data))).toEqual(before);
  });

  it('biasedRunningVar equals the running average of the biased batch variances (Keras convention)', () => {
    for (const momentum of [0.1, null]) {
      const unbiased = new BatchNorm1d(3, { momentum });
      const biased = new BatchNorm1d(3, { momentum });
      biased.useKerasConvention(true, true);
      for (let s = 0; s < 5; s++) {
        const x = new Tensor(randomSplit(6, 3, 10 + s).x, [6, 3]);
        noGrad(() => {
          unbiased.forward(x);
          biased.forward(x);
        });
      }
      const got = biasedRunningVar(unbiased, 6);
      for (let j = 0; j < 3; j++) expect(got[j]).toBeCloseTo(biased.runningVar!.data[j], 5);
    }
  });
});
