// Tests of the `init` experiment on its tiny preset: grid, results shape, findings from the numbers, validation, divergence.
import { describe, expect, it } from 'vitest';
import { init, initGrid, initLabel, type InitConfig } from '../../src/lab/experiments/init.js';
import { trialId } from '../../src/lab/experiment.js';
import { ctx, editTrials, expectFindingShape, expectTrialShape, finding, parseErrors, runAll } from './mlp-harness.js';

const tiny = init.presets.tiny;
const trials = runAll(init, tiny);

describe('init experiment', () => {
  it('has valid presets', () => {
    for (const p of ['tiny', 'quick', 'full'] as const) expect(init.schema.parse(init.presets[p])).toEqual(init.presets[p]);
    expect(init.name).toBe('init');
  });

  it('grids every std and scheme x activation x arm x seed, params { init, std, activation }', () => {
    expect(initGrid(tiny)).toEqual([
      { init: 'normal', std: 0.01 },
      { init: 'normal', std: 10 },
      { init: 'kaiming', std: null },
    ]);
    const specs = init.trials(tiny);
    expect(specs).toHaveLength(3 * tiny.activations.length * 2 * tiny.seeds);
    expect(new Set(specs.map((s) => s.id)).size).toBe(specs.length);
    for (const s of specs) {
      expect(Object.keys(s.params).sort()).toEqual(['activation', 'init', 'std']);
      expect(s.id).toBe(trialId(s.arm, s.seed, s.params));
    }
    expect(initLabel({ init: 'normal', std: 0.001 })).toBe('N(0, 0.001)');
    expect(initLabel({ init: 'xavier', std: null })).toBe('xavier');
  });

  it('rejects unknown keys and bad values with messages naming them', () => {
    expect(parseErrors(init.schema, { ...tiny, std: 1 }).join()).toMatch(/std/);
    expect(parseErrors(init.schema, { ...tiny, stds: [0] }).join()).toMatch(/stds\.0: stds must be positive/);
    expect(parseErrors(init.schema, { ...tiny, schemes: ['orthogonal'] }).join()).toMatch(/schemes\.0/);
    expect(parseErrors(init.schema, { ...tiny, activations: [] }).join()).toMatch(/activations needs at least one/);
    expect(parseErrors(init.schema, { ...tiny, stds: [], schemes: [] }).join()).toMatch(/no init to run/);
  });

  it('records metrics, finite curves and divergence flags for every trial', () => {
    expectTrialShape(trials, ['finalTestAccuracy', 'bestTestAccuracy', 'initialTestLoss', 'trained'], ['testAccuracy', 'trainLoss', 'testLoss']);
  });

  it('is deterministic for a spec and config', () => {
    const spec = init.trials(tiny)[2];
    expect(init.runTrial(spec, tiny, ctx)).toEqual(init.runTrial(spec, tiny, ctx));
  });

  it('computes its findings from the trials', () => {
    const fs = init.findings(trials, tiny);
    expectFindingShape(fs);
    expect(fs.map((f) => f.id)).toEqual(['init-robustness', 'worst-init', 'bn-worse-cells', 'standard-inits']);
    const cells = finding(fs, 'init-robustness').values.cells;
    expect(cells).toBe(3 * tiny.activations.length);
    // No BN cell trains, every plain cell does: the finding must count that and contradict the claim.
    const edited = editTrials(trials, () => true, (t) => (t.metrics.trained = t.arm === 'bn' ? 0 : 1));
    const r = finding(init.findings(edited, tiny), 'init-robustness');
    expect(r.values.trainedBn).toBe(0);
    expect(r.values.trainedPlain).toBe(cells);
    expect(r.verdict).toBe('contradicted');
    // BN clearly worse in one cell: listed as counter-evidence.
    const worse = editTrials(
      trials,
      (t) => t.params.init === 'kaiming' && t.params.activation === 'relu',
      (t) => (t.metrics.finalTestAccuracy = t.arm === 'bn' ? 0.1 + t.seed * 0.001 : 0.9 + t.seed * 0.001),
    );
    const w = finding(init.findings(worse, tiny), 'bn-worse-cells');
    expect(w.values.bnWorse).toBeGreaterThanOrEqual(1);
    expect(w.text).toContain('kaiming with relu');
    expect(w.verdict).toBe('mixed');
  });

  it('records a huge learning rate as diverged instead of throwing', () => {
    const c: InitConfig = { ...tiny, seeds: 1, stds: [], schemes: ['kaiming'], activations: ['relu'], lr: 1e4 };
    const ts = runAll(init, c);
    expect(ts.some((t) => t.diverged)).toBe(true);
    for (const t of ts.filter((x) => x.diverged)) expect(t.metrics.trained).toBe(0);
    expectTrialShape(ts, ['finalTestAccuracy'], ['testAccuracy']);
    expectFindingShape(init.findings(ts, c));
  });
});
