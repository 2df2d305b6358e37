// Tests of the `lr` experiment on its tiny preset: grid, results shape, findings from the numbers, validation, divergence.
import { describe, expect, it } from 'vitest';
import { lr, lrGrid, type LrConfig } from '../../src/lab/experiments/lr.js';
import { trialId } from '../../src/lab/experiment.js';
import { ctx, editTrials, expectFindingShape, expectTrialShape, finding, parseErrors, runAll } from './mlp-harness.js';

const tiny = lr.presets.tiny;
const trials = runAll(lr, tiny);

describe('lr experiment', () => {
  it('has valid presets', () => {
    for (const p of ['tiny', 'quick', 'full'] as const) expect(lr.schema.parse(lr.presets[p])).toEqual(lr.presets[p]);
    expect(lr.name).toBe('lr');
  });

  it('grids the log grid plus baseLr x multipliers, deduplicated (0.1 * 30 meets 3)', () => {
    const c: LrConfig = { ...tiny, lrs: [0.01, 3, 0.1], baseLr: 0.1, multipliers: [1, 5, 30] };
    expect(lrGrid(c)).toEqual([0.01, 0.1, 0.5, 3]);
    const specs = lr.trials(c);
    expect(specs).toHaveLength(4 * 2 * c.seeds);
    expect(new Set(specs.map((s) => s.id)).size).toBe(specs.length);
    for (const s of specs) expect(s.id).toBe(trialId(s.arm, s.seed, s.params));
  });

  it('rejects unknown keys and bad values with messages naming them', () => {
    expect(parseErrors(lr.schema, { ...tiny, lrz: [1] }).join()).toMatch(/lrz/);
    expect(parseErrors(lr.schema, { ...tiny, lrs: [-1] }).join()).toMatch(/lrs\.0: lr must be positive/);
    expect(parseErrors(lr.schema, { ...tiny, targetAccuracy: 2 }).join()).toMatch(/targetAccuracy must be in \(0, 1\]/);
    expect(parseErrors(lr.schema, { ...tiny, batchSize: 1 }).join()).toMatch(/batchSize must be at least 2/);
    expect(parseErrors(lr.schema, { ...tiny, activation: 'swish' }).join()).toMatch(/activation/);
    expect(parseErrors(lr.schema, { ...tiny, seeds: 0 }).join()).toMatch(/seeds must be at least 1/);
  });

  it('records metrics, finite curves and divergence flags for every trial', () => {
    expect(trials).toHaveLength(lr.trials(tiny).length);
    expectTrialShape(trials, ['finalTestAccuracy', 'bestTestAccuracy', 'stepsToTarget', 'finalTrainLoss', 'trained', 'relUpdate'], ['testAccuracy',
      'trainLoss', 'relUpdate']);
    for (const t of trials) expect(t.metrics.relUpdate).toBeGreaterThan(0);
    for (const t of trials) expect(t.curves.testAccuracy[0][0]).toBe(0);
  });

  it('is deterministic for a spec and config', () => {
    const spec = lr.trials(tiny)[0];
    expect(lr.runTrial(spec, tiny, ctx)).toEqual(lr.runTrial(spec, tiny, ctx));
  });

  it('computes its findings from the trials', () => {
    const fs = lr.findings(trials, tiny);
    expectFindingShape(fs);
    expect(fs.map((f) => f.id)).toEqual(['max-learning-rate', 'gain-from-larger-lr', 'small-lr-close', 'multipliers']);
    // Moving the plain net's accuracies moves the numbers quoted.
    const edited = editTrials(trials, (t) => t.arm === 'plain', (t) => (t.metrics.finalTestAccuracy = 0.987));
    const g = finding(lr.findings(edited, tiny), 'gain-from-larger-lr');
    expect(g.values.bestAccPlain).toBe(0.987);
    expect(g.text).toContain('98.7%');
    const s = finding(lr.findings(edited, tiny), 'small-lr-close');
    expect(s.values.accPlain).toBe(0.987);
  });

  it('says so when the data contradict the claim', () => {
    const smallest = Math.min(...trials.map((t) => t.params.lr as number));
    // BN fails above the smallest rate while the plain net trains everywhere: BN allowed no larger rate.
    const edited = editTrials(trials, () => true, (t) => {
      t.metrics.trained = t.arm === 'bn' && (t.params.lr as number) > smallest ? 0 : 1;
    });
    const f = finding(lr.findings(edited, tiny), 'max-learning-rate');
    expect(f.verdict).toBe('contradicted');
    expect(f.values.maxLrBn).toBe(smallest);
  });

  it('records a huge learning rate as diverged instead of throwing', () => {
    const c: LrConfig = { ...tiny, seeds: 1, lrs: [1e4], baseLr: 1e4, multipliers: [1] };
    const ts = runAll(lr, c);
    const plain = ts.find((t) => t.arm === 'plain')!;
    expect(plain.diverged).toBe(true);
    expect(plain.metrics.stepsToTarget).toBeNull();
    expect(plain.metrics.trained).toBe(0);
    expectTrialShape(ts, ['finalTestAccuracy'], ['testAccuracy']);
    expectFindingShape(lr.findings(ts, c));
  });
});
