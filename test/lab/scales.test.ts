// scales end to end on the tiny preset, config validation, and findings computed from (and against) the numbers.
import { describe, expect, it } from 'vitest';
import { scales, bestCell, type ScalesConfig } from '../../src/lab/experiments/scales.js';
import type { Trial } from '../../src/lab/results.js';
import { resolveConfig } from '../../src/lab/runner/config.js';
import { executeTrial } from '../../src/lab/runner/trial.js';
import { meanCI } from '../../src/lab/stats.js';

describe('scales on the tiny preset', () => {
  it('runs every arm at every learning rate and computes findings from the trials', () => {
    const c = scales.presets.tiny;
    const trials = scales.trials(c).map((spec) => executeTrial(scales, spec, c, () => {}));
    expect(trials).toHaveLength(c.arms.length * c.lrs.length * c.seeds);
    for (const t of trials) {
      expect(Object.keys(t.curves).sort()).toEqual(['testAccuracy', 'testLoss', 'trainLoss']);
      expect(Object.keys(t.metrics).sort()).toEqual(['finalTestAccuracy', 'finalTrainLoss', 'stepsToTarget']);
      expect(typeof t.params.lr).toBe('number');
      if (t.diverged) expect(t.divergedAt).toBeGreaterThan(0);
      else expect(t.curves.testAccuracy.at(-1)![0]).toBe(c.steps);
    }
    // Raw features up to 10^4 at lr 1 blow up: recorded, not thrown.
    expect(trials.filter((t) => t.arm === 'raw' && t.params.lr === 1).every((t) => t.diverged)).toBe(true);
    const f = scales.findings(trials, c);
    expect(f.map((x) => x.id)).toEqual(['standardize-vs-raw', 'bn-vs-raw', 'bn-vs-standardize', 'input-bn-vs-standardize', 'lr-range']);
    // The numbers quoted are those of the trials: the best lr of 'standardize' and its mean accuracy.
    const best = bestCell(trials, 'standardize', c.lrs);
    const acc = meanCI(trials.filter((t) => t.arm === 'standardize' && t.params.lr === best.lr).map((t) => t.metrics.finalTestAccuracy));
    expect(f[0].values['standardize.lr']).toBe(best.lr);
    expect(f[0].values['standardize.accuracy']).toBeCloseTo(acc.mean, 3);
    const rawDiv = c.lrs.filter((lr) => trials.some((t) => t.arm === 'raw' && t.params.lr === lr && t.diverged)).length;
    expect(f[4].values['raw.divergedLrs']).toBe(rawDiv);
  });

  it('rejects a dataset other than scales and bad values, with a clear message', () => {
    expect(() => resolveConfig(scales, { dataset: 'mnist-10k' })).toThrow(/scales: bad config: dataset: dataset must be 'scales'/);
    expect(() => resolveConfig(scales, { sets: ['lrs=[]'] })).toThrow(/lrs: lrs needs at least one learning rate \(got \[\]\)/);
    expect(() => resolveConfig(scales, { sets: ['arms=[raw,bogus]'] })).toThrow(/arms.1: Invalid enum value. Expected 'raw' \| 'standardize' \| 'bn' \| 'input-bn', received 'bogus'/);
    expect(() => resolveConfig(scales, { sets: ['batchSize=5000'] })).toThrow(/batchSize: batchSize must be at most nTrain \(2000\)/);
  });
});

function trial(arm: string, lr: number, seed: number, acc: number, steps: number | null, diverged = false): Trial {
  return {
    id: `${arm}|seed=${seed}|lr=${lr}`, arm, seed, params: { lr }, diverged, divergedAt: diverged ? 2 : null, durationMs: 1,
    metrics: { finalTestAccuracy: acc, stepsToTarget: steps, finalTrainLoss: 0.1 }, curves: {},
  };
}

describe('scales findings', () => {
  const c: ScalesConfig = { ...scales.presets.quick, lrs: [0.01, 0.1], arms: ['raw', 'standardize', 'bn'], seeds: 3 };
  const set = (arm: string, acc: number, steps: number | null, lr = 0.1) => [0, 1, 2].map((s) => trial(arm, lr, s, acc + s * 0.001,
    steps === null ? null : steps + 10 * s));

  it('pick each arm\'s best learning rate and compare there', () => {
    const trials = [
      ...set('raw', 0.6, null, 0.01), ...set('raw', 0.5, null, 0.1).map((t) => ({ ...t, diverged: true })),
      ...set('standardize', 0.97, 100, 0.01), ...set('standardize', 0.98, 50), ...set('bn', 0.7, null, 0.01), ...set('bn', 0.72, null),
    ];
    const f = scales.findings(trials, c);
    expect(f.map((x) => [x.id, x.verdict])).toEqual([
      ['standardize-vs-raw', 'supported'],
      ['bn-vs-raw', 'supported'],
      ['bn-vs-standardize', 'contradicted'],
      ['lr-range', 'inconclusive'],
    ]);
    expect(f[0].text).toBe(
      'Standardized inputs (best lr 0.1) reached 90.0% after 60 ± 25 steps, final accuracy 98.1% ± 0.2%; raw inputs (best lr 0.01) never ' +
        'reached 90.0%, final accuracy 60.1% ± 0.2%: standardized inputs did better (3 seeds, 800 steps).',
    );
    expect(f[2].text).toMatch(/standardized inputs did better, contrary to the claim/);
    expect(f[3].text).toMatch(/Raw inputs reached 90.0% in every seed at 0 of 2 learning rates and diverged at 0.1/);
  });
});
