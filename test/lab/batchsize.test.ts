// Tests of the `batchsize` experiment: tiny preset, grid rules, findings from the numbers, validation, divergence.
import { describe, expect, it } from 'vitest';
import { batchsize, lrFor, stepsFor, type BatchsizeConfig } from '../../src/lab/experiments/batchsize.js';
import { ctx, editTrials, expectFindingShape, expectTrialShape, finding, parseErrors, runAll } from './mlp-harness.js';

const tiny = batchsize.presets.tiny;
const trials = runAll(batchsize, tiny);

describe('batchsize', () => {
  it('presets validate; Ghost BN only above its virtual batch size', () => {
    for (const p of [batchsize.presets.tiny, batchsize.presets.quick, batchsize.presets.full]) expect(parseErrors(batchsize.schema, p)).toEqual([]);
    const specs = batchsize.trials(tiny);
    expect(specs.filter((s) => s.arm === 'ghost').map((s) => s.params.batchSize)).toEqual([32, 32]);
    expect(specs.filter((s) => s.params.batchSize === 2).map((s) => s.arm)).not.toContain('ghost');
    expect(specs.length).toBe(2 * (4 + 5));
    expect(new Set(specs.map((s) => s.id)).size).toBe(specs.length);
  });

  it('equal examples seen and the learning-rate scaling rule', () => {
    expect(stepsFor(tiny, 2)).toBe(32);
    expect(stepsFor(tiny, 32)).toBe(2);
    expect(stepsFor({ ...tiny, examples: 10 }, 32)).toBe(1);
    expect(lrFor(tiny, 32)).toBe(0.5);
    expect(lrFor(tiny, 2)).toBeCloseTo(0.5 * Math.sqrt(2 / 32), 12);
    expect(lrFor({ ...tiny, lrScaling: 'linear' }, 64)).toBe(1);
    expect(lrFor({ ...tiny, lrScaling: 'none' }, 64)).toBe(0.5);
  });

  it('runs the tiny preset: accuracy for every arm and batch size, curves over examples seen', () => {
    expectTrialShape(trials, ['finalTestAccuracy', 'finalTrainLoss', 'steps', 'lr'], ['testAccuracy', 'trainLoss']);
    for (const t of trials) {
      expect(t.metrics.steps).toBe(stepsFor(tiny, t.params.batchSize as number));
      const xs = t.curves.testAccuracy.map(([x]) => x);
      expect(xs[xs.length - 1]).toBe((t.metrics.steps as number) * (t.params.batchSize as number));
    }
  });

  it('is deterministic', () => {
    const spec = batchsize.trials(tiny).find((s) => s.arm === 'renorm')!;
    const again = batchsize.runTrial(spec, tiny, ctx);
    expect(again.metrics).toEqual(trials.find((t) => t.id === spec.id)!.metrics);
  });

  it('computes findings from the trials: changing a metric changes the finding', () => {
    const fs = batchsize.findings(trials, tiny);
    expectFindingShape(fs);
    expect(fs.map((f) => f.id)).toEqual(['small-batch-penalty', 'group-vs-bn', 'renorm-small-batch', 'ghost-large-batch']);
    const f = finding(fs, 'renorm-small-batch');
    const edited = editTrials(trials, (t) => t.arm === 'renorm' && t.params.batchSize === 2, (t) => (t.metrics.finalTestAccuracy = 0.97));
    const g = finding(batchsize.findings(edited, tiny), 'renorm-small-batch');
    expect(g.values['accuracy.renorm']).toBeCloseTo(0.97, 6);
    expect(g.values['accuracy.renorm']).not.toEqual(f.values['accuracy.renorm']);
    // A BN collapse at batch 2 shows up as BN's extra drop against GroupNorm.
    const collapse = editTrials(trials, (t) => t.arm === 'bn' && t.params.batchSize === 2, (t) => (t.metrics.finalTestAccuracy = 0));
    expect(finding(batchsize.findings(collapse, tiny), 'small-batch-penalty').values.extraDrop).toBeGreaterThan(finding(fs,
      'small-batch-penalty').values.extraDrop as number);
  });

  it('says why Ghost BN is not compared when no batch exceeds its virtual batch size', () => {
    const cfg: BatchsizeConfig = { ...tiny, batchSizes: [2, 8] };
    const fs = batchsize.findings(trials.filter((t) => t.params.batchSize === 2), cfg);
    expect(finding(fs, 'ghost-large-batch').verdict).toBe('inconclusive');
    expect(finding(fs, 'ghost-large-batch').text).toMatch(/virtual batch size 16/);
  });

  it('rejects unknown keys and bad values with messages that name them', () => {
    expect(parseErrors(batchsize.schema, { ...tiny, bogus: 1 }).join('; ')).toMatch(/bogus/);
    expect(parseErrors(batchsize.schema, { ...tiny, batchSizes: [1, 8] }).join('; ')).toMatch(/batchSize must be at least 2/);
    expect(parseErrors(batchsize.schema, { ...tiny, batchSizes: [8, 8] }).join('; ')).toMatch(/must not repeat/);
    expect(parseErrors(batchsize.schema, { ...tiny, groups: 5 }).join('; ')).toMatch(/groups \(5\) must divide every hidden width/);
    expect(parseErrors(batchsize.schema, { ...tiny, renorm: { ...tiny.renorm, warmup: 0.6, rampEnd: 0.5 } }).join('; ')).toMatch(/rampEnd must not come before/);
    expect(parseErrors(batchsize.schema, { ...tiny, lrScaling: 'cubic' }).join('; ')).toMatch(/lrScaling/);
    expect(parseErrors(batchsize.schema, { ...tiny, batchSizes: [2, 33] }).join('; ')).toMatch(/batch size 33 leaves a virtual batch of one sample/);
  });

  it('records a diverging run instead of throwing', () => {
    const wild: BatchsizeConfig = { ...tiny, lr: 1e7, batchSizes: [8], examples: 96 };
    const runs = runAll(batchsize, { ...wild, arms: ['bn', 'layer'] });
    expect(runs.some((t) => t.diverged)).toBe(true);
    expectTrialShape(runs, ['finalTestAccuracy'], ['testAccuracy']);
    expectFindingShape(batchsize.findings(runs, wild));
  });
});
