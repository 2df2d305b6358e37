// Tests of the `ics` experiment: tiny preset end to end, findings from the numbers, config validation, divergence, probes.
import { describe, expect, it } from 'vitest';
import { ics, unitMoments, type IcsConfig } from '../../src/lab/experiments/ics.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { ctx, editTrials, expectFindingShape, expectTrialShape, finding, parseErrors, runAll } from './mlp-harness.js';

const tiny = ics.presets.tiny;
const trials = runAll(ics, tiny);

describe('ics', () => {
  it('presets validate, and the grid is arms x seeds with stable ids', () => {
    for (const p of [ics.presets.tiny, ics.presets.quick, ics.presets.full]) expect(parseErrors(ics.schema, p)).toEqual([]);
    const specs = ics.trials(tiny);
    expect(specs.map((s) => s.arm)).toEqual(['plain', 'plain', 'bn', 'bn', 'noisy-bn', 'noisy-bn']);
    expect(new Set(specs.map((s) => s.id)).size).toBe(specs.length);
    expect(specs[0].id).toBe('plain|seed=0');
  });

  it('runs the tiny preset: metrics and finite curves for every arm', () => {
    expectTrialShape(
      trials,
      ['finalTestAccuracy', 'meanDrift', 'stdDrift', 'icsL2', 'icsCosine', 'icsRelative', 'lossRange', 'gradChange', 'betaSmoothness'],
      ['testAccuracy', 'meanDriftL1', 'meanDriftL2', 'stdDriftL1', 'icsL2L2', 'icsL2L3', 'icsCosL3', 'lossRange', 'gradChange'],
    );
    for (const t of trials) {
      expect(t.diverged).toBe(false);
      // Probes at steps 1, 8, 16, 24: drift from the second on, ICS and smoothness at each.
      expect(t.curves.meanDriftL1.map(([s]) => s)).toEqual([8, 16, 24]);
      expect(t.curves.lossRange.length).toBe(4);
      for (const [, c] of t.curves.icsCosL2) expect(Math.abs(c)).toBeLessThanOrEqual(1 + 1e-9);
    }
    // BN's training-mode output has per-unit mean beta and std ~gamma: its drift is the drift of beta and gamma,
    // small next to the noisy arm's fresh noise of up to +-1 per unit every step.
    const mean = (arm: string) => trials.filter((t) => t.arm === arm).reduce((a, t) => a + (t.metrics.meanDrift as number), 0) / 2;
    expect(mean('noisy-bn')).toBeGreaterThan(mean('bn'));
  });

  it('is deterministic, and the probes leave training untouched', () => {
    const spec = ics.trials(tiny)[4]; // noisy-bn, seed 0: noise draws must not shift either
    const again = ics.runTrial(spec, tiny, ctx);
    expect(again.metrics).toEqual(trials[4].metrics);
    // Probing only at step 1 vs every 2 steps: same training (parameters, grads, buffers and noise restored).
    const rare: IcsConfig = { ...tiny, probeEvery: 1000 };
    const often: IcsConfig = { ...tiny, probeEvery: 2 };
    for (const s of [ics.trials(tiny)[2], spec]) {
      const a = ics.runTrial(s, rare, ctx);
      const b = ics.runTrial(s, often, ctx);
      expect(b.curves.trainLoss).toEqual(a.curves.trainLoss);
      expect(b.curves.testAccuracy).toEqual(a.curves.testAccuracy);
    }
  });

  it('computes findings from the trials: changing a metric changes the finding', () => {
    const fs = ics.findings(trials, tiny);
    expectFindingShape(fs);
    expect(fs.map((f) => f.id)).toEqual(['input-drift', 'gradient-ics', 'smoothness', 'noisy-bn']);
    const drift = finding(fs, 'input-drift');
    expect(drift.values['meanDrift.bn']).toBeCloseTo((trials[2].metrics.meanDrift! + trials[3].metrics.meanDrift!) / 2, 4);
    const edited = editTrials(trials, (t) => t.arm === 'bn', (t) => (t.metrics.meanDrift = (t.metrics.meanDrift as number) * 100));
    const drift2 = finding(ics.findings(edited, tiny), 'input-drift');
    expect(drift2.values['meanDrift.bn']).not.toEqual(drift.values['meanDrift.bn']);
    expect(drift2.text).not.toEqual(drift.text);
    const acc = editTrials(trials, (t) => t.arm === 'noisy-bn', (t) => (t.metrics.finalTestAccuracy = 0.01));
    expect(finding(ics.findings(acc, tiny), 'noisy-bn').values['accuracy.noisy-bn']).toBeCloseTo(0.01, 6);
  });

  it('says which arms a finding needs when they were not run', () => {
    const only = trials.filter((t) => t.arm === 'bn');
    const fs = ics.findings(only, { ...tiny, arms: ['bn'] });
    expect(finding(fs, 'input-drift').verdict).toBe('inconclusive');
    expect(finding(fs, 'input-drift').text).toMatch(/bn and plain/);
  });

  it('rejects unknown keys and bad values with messages that name them', () => {
    expect(parseErrors(ics.schema, { ...tiny, bogus: 1 }).join('; ')).toMatch(/bogus/);
    expect(parseErrors(ics.schema, { ...tiny, probeSize: 1 }).join('; ')).toMatch(/probeSize must be at least 2/);
    expect(parseErrors(ics.schema, { ...tiny, arms: ['bn', 'bn'] }).join('; ')).toMatch(/must not repeat/);
    expect(parseErrors(ics.schema, { ...tiny, arms: ['batch'] }).join('; ')).toMatch(/arms/);
    expect(parseErrors(ics.schema, { ...tiny, stepSizes: [] }).join('; ')).toMatch(/stepSizes needs at least one/);
    expect(parseErrors(ics.schema, { ...tiny, noise: { shift: 1, scale: -1 } }).join('; ')).toMatch(/noise.scale must be >= 0/);
  });

  it('records a diverging run instead of throwing', () => {
    const wild: IcsConfig = { ...tiny, lr: 1e6, steps: 12 };
    const out = ics.runTrial(ics.trials(wild)[0], wild, ctx);
    expect(out.diverged).toBe(true);
    expect(out.divergedAt).toBeGreaterThan(0);
    expectTrialShape([{ ...ics.trials(wild)[0], ...out, durationMs: 0 }], ['finalTestAccuracy'], ['testAccuracy']);
  });

  it('unitMoments: per-unit mean and population std', () => {
    const m = unitMoments(new Tensor(Float32Array.from([1, 10, 3, 10, 5, 40]), [3, 2]));
    expect([...m.mean]).toEqual([3, 20]);
    expect(m.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 6);
    expect(m.std[1]).toBeCloseTo(Math.sqrt(600 / 3), 5);
  });
});
