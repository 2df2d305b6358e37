// Tests of the `regularization` experiment on its tiny preset: arms, results shape, findings from the numbers, validation, divergence.
import { describe, expect, it } from 'vitest';
import { regularization, REG_ARMS, type RegularizationConfig } from '../../src/lab/experiments/regularization.js';
import { ctx, editTrials, expectFindingShape, expectTrialShape, finding, parseErrors, runAll } from './mlp-harness.js';

const tiny = regularization.presets.tiny;
const trials = runAll(regularization, tiny);

describe('regularization experiment', () => {
  it('has valid presets and the four arms per seed', () => {
    for (const p of ['tiny', 'quick',
      'full'] as const) expect(regularization.schema.parse(regularization.presets[p])).toEqual(regularization.presets[p]);
    const specs = regularization.trials(tiny);
    expect(specs.map((s) => s.arm)).toEqual(Array.from({ length: tiny.seeds }, () => [...REG_ARMS]).flat());
    expect(new Set(specs.map((s) => s.id)).size).toBe(specs.length);
  });

  it('rejects unknown keys and bad values with messages naming them', () => {
    expect(parseErrors(regularization.schema, { ...tiny, weightDecay: 0.1 }).join()).toMatch(/weightDecay/);
    expect(parseErrors(regularization.schema, { ...tiny, dropout: 1 }).join()).toMatch(/dropout must be in \(0, 1\)/);
    expect(parseErrors(regularization.schema, { ...tiny, trainSubset: 1.5 }).join()).toMatch(/trainSubset must be an integer/);
    expect(parseErrors(regularization.schema, { ...tiny, hidden: [] }).join()).toMatch(/hidden needs at least one layer/);
  });

  it('records train/test accuracy and their gap, with finite curves', () => {
    expectTrialShape(trials, ['trainAccuracy', 'testAccuracy', 'gap', 'bestTestAccuracy'], ['testAccuracy', 'trainAccuracy', 'gap', 'trainLoss']);
    for (const t of trials) {
      if (t.diverged) continue;
      expect(t.metrics.gap).toBeCloseTo(t.metrics.trainAccuracy! - t.metrics.testAccuracy!, 12);
      // Train accuracy is measured on the training subset at every evaluation.
      expect(t.curves.trainAccuracy.length).toBe(t.curves.testAccuracy.length);
    }
  });

  it('is deterministic for a spec and config (dropout masks included)', () => {
    const spec = regularization.trials(tiny).find((s) => s.arm === 'bn+dropout')!;
    expect(regularization.runTrial(spec, tiny, ctx)).toEqual(regularization.runTrial(spec, tiny, ctx));
  });

  it('computes its findings from the trials and says when they contradict the claim', () => {
    const fs = regularization.findings(trials, tiny);
    expectFindingShape(fs);
    expect(fs.map((f) => f.id)).toEqual(['bn-reduces-gap', 'bn-replaces-dropout', 'small-data-test-accuracy']);
    // BN's gap far wider than the plain net's, consistently over seeds: contradicted, with the numbers quoted.
    const edited = editTrials(trials, (t) => t.arm === 'bn' || t.arm === 'plain',
      (t) => (t.metrics.gap = t.arm === 'bn' ? 0.4 + 0.001 * t.seed : 0.05 + 0.001 * t.seed));
    const g = finding(regularization.findings(edited, tiny), 'bn-reduces-gap');
    expect(g.values.gapBn).toBeCloseTo(0.4005, 4);
    expect(g.values.gapPlain).toBeCloseTo(0.0505, 4);
    expect(g.verdict).toBe('contradicted');
    expect(g.text).toContain('40.1%');
    const s = editTrials(trials, (t) => t.arm === 'bn' || t.arm === 'plain',
      (t) => (t.metrics.gap = t.arm === 'bn' ? 0.01 + 0.001 * t.seed : 0.3 + 0.001 * t.seed));
    expect(finding(regularization.findings(s, tiny), 'bn-reduces-gap').verdict).toBe('supported');
  });

  it('records a huge learning rate as diverged instead of throwing, with no gap', () => {
    const c: RegularizationConfig = { ...tiny, seeds: 1, lr: 1e4 };
    const ts = runAll(regularization, c);
    const div = ts.filter((t) => t.diverged);
    expect(div.length).toBeGreaterThan(0);
    for (const t of div) expect(t.metrics.gap).toBeNull();
    expectTrialShape(ts, ['trainAccuracy', 'testAccuracy', 'gap'], ['testAccuracy']);
    expectFindingShape(regularization.findings(ts, c));
  });
});
