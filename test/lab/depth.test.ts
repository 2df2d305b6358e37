// Tests of the `depth` experiment on its tiny preset: probes, results shape, findings from the numbers, validation, divergence.
import { describe, expect, it } from 'vitest';
import { depth, probeMlp, type DepthConfig } from '../../src/lab/experiments/depth.js';
import { buildMlp } from '../../src/lab/models.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { ctx, editTrials, expectFindingShape, expectTrialShape, finding, mnist, parseErrors, runAll } from './mlp-harness.js';

const tiny = depth.presets.tiny;
const trials = runAll(depth, tiny);

describe('depth experiment', () => {
  it('has valid presets and a depth x activation x arm grid', () => {
    for (const p of ['tiny', 'quick', 'full'] as const) expect(depth.schema.parse(depth.presets[p])).toEqual(depth.presets[p]);
    const specs = depth.trials(tiny);
    expect(specs).toHaveLength(tiny.depths.length * tiny.activations.length * 2 * tiny.seeds);
    expect(new Set(specs.map((s) => s.id)).size).toBe(specs.length);
  });

  it('rejects unknown keys and bad values with messages naming them', () => {
    expect(parseErrors(depth.schema, { ...tiny, depth: 3 }).join()).toMatch(/depth/);
    expect(parseErrors(depth.schema, { ...tiny, depths: [1] }).join()).toMatch(/depths\.0: depths must be at least 2/);
    expect(parseErrors(depth.schema, { ...tiny, init: 'orthogonal' }).join()).toMatch(/init/);
    expect(parseErrors(depth.schema, { ...tiny, probeBatch: 1 }).join()).toMatch(/probeBatch must be at least 2/);
  });

  it('probes per-layer gradient norms and activation statistics without changing the model', () => {
    const data = mnist();
    const built = buildMlp({ inputs: 784, hidden: [8, 8, 8], classes: 10, activation: 'tanh', norm: 'bn', init: { kind: 'xavier' } }, 0);
    const before = built.model.stateDict();
    const x = new Tensor(data.train.x.slice(0, 16 * 784), [16, 1, 28, 28]);
    const p = probeMlp(built, x, data.train.y.slice(0, 16), 'tanh');
    expect(p.gradNorm).toHaveLength(4);
    expect(p.actStd).toHaveLength(3);
    expect(p.preActStd).toHaveLength(3);
    for (const v of [...p.gradNorm, ...p.actStd]) expect(v).toBeGreaterThan(0);
    // BN output has unit variance per channel, so the pre-activation std over the batch is ~1 (gamma = 1).
    for (const v of p.preActStd) expect(v).toBeCloseTo(1, 1);
    for (const q of built.model.parameters()) expect(q.grad).toBeNull();
    const after = built.model.stateDict();
    for (const k of Object.keys(before)) expect(Array.from(after[k].data), k).toEqual(Array.from(before[k].data));
  });

  it('records per-layer curves at init and after training, metrics and divergence flags', () => {
    expectTrialShape(trials, ['finalTestAccuracy', 'trained', 'gradRatioInit', 'log10GradRatioInit', 'log10GradRatioTrained', 'initialLoss'], [
      'gradNormInit', 'gradNormTrained', 'actStdInit', 'actStdTrained', 'preActStdInit', 'log10GradRatio', 'testAccuracy']);
    for (const t of trials) {
      const d = t.params.depth as number;
      expect(t.curves.gradNormInit.map(([l]) => l)).toEqual(Array.from({ length: d + 1 }, (_, i) => i + 1));
      expect(t.curves.actStdInit).toHaveLength(d);
      expect(t.metrics.log10GradRatioInit).toBeCloseTo(Math.log10(t.curves.gradNormInit[0][1] / t.curves.gradNormInit[d - 1][1]), 9);
      expect([0, 1]).toContain(t.metrics.trained);
    }
  });

  it('is deterministic for a spec and config', () => {
    const spec = depth.trials(tiny)[3];
    expect(depth.runTrial(spec, tiny, ctx)).toEqual(depth.runTrial(spec, tiny, ctx));
  });

  it('computes its findings from the trials', () => {
    const fs = depth.findings(trials, tiny);
    expectFindingShape(fs);
    expect(fs.map((f) => f.id)).toEqual(['bn-gradient-explosion-at-init', 'depth-trainability', 'accuracy-vs-depth']);
    const [lo, hi] = [Math.min(...tiny.depths), Math.max(...tiny.depths)];
    // BN ratio flat in depth and below the plain net's: Yang et al.'s prediction is contradicted.
    const flat = editTrials(trials, () => true, (t) => (t.metrics.log10GradRatioInit = t.arm === 'bn' ? 0.1 + 0.01 * t.seed : 3 + 0.01 * t.seed));
    const f = finding(depth.findings(flat, tiny), 'bn-gradient-explosion-at-init');
    expect(f.verdict).toBe('contradicted');
    expect(f.values[`reluBn${hi}`]).toBeCloseTo(0.105, 3);
    // BN ratio growing with depth and above the plain net's: supported.
    const grow = editTrials(trials, () => true,
      (t) => (t.metrics.log10GradRatioInit = t.arm === 'bn' ? (t.params.depth === lo ? 0.5 : 4) + 0.01 * t.seed : 0.2 + 0.01 * t.seed));
    const g = finding(depth.findings(grow, tiny), 'bn-gradient-explosion-at-init');
    expect(g.verdict).toBe('supported');
    expect(g.text).toContain('10^4.0');
    const none = editTrials(trials, (t) => t.arm === 'bn', (t) => (t.metrics.trained = 0));
    expect(finding(depth.findings(none, tiny), 'depth-trainability').values.trainedBn).toBe(0);
  });

  it('records a huge learning rate as diverged instead of throwing', () => {
    const c: DepthConfig = { ...tiny, seeds: 1, depths: [3], activations: ['relu'], lr: 1e4 };
    const ts = runAll(depth, c);
    const div = ts.filter((t) => t.diverged);
    expect(div.length).toBeGreaterThan(0);
    for (const t of div) {
      expect(t.curves.gradNormTrained).toEqual([]);
      expect(t.metrics.log10GradRatioTrained).toBeNull();
    }
    expectTrialShape(ts, ['finalTestAccuracy', 'log10GradRatioInit'], ['gradNormInit']);
    expectFindingShape(depth.findings(ts, c));
  });
});
