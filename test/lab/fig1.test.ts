// fig1 end to end on the tiny preset, the percentile probe, and findings computed from (and against) the numbers.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fig1, probePercentiles, type Fig1Config } from '../../src/lab/experiments/fig1.js';
import { autoTarget } from '../../src/lab/kit/targets.js';
import { buildMlp } from '../../src/lab/models.js';
import type { Results, Trial } from '../../src/lab/results.js';
import { runExperiment } from '../../src/lab/runner/run.js';
import { createProgress } from '../../src/lab/runner/progress.js';
import { executeTrial } from '../../src/lab/runner/trial.js';
import { meanCI, percentile } from '../../src/lab/stats.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/rng.js';

const QS = ['p15', 'p50', 'p85'];

describe('fig1 on the tiny preset', () => {
  it('writes results.json with accuracy and percentile curves, and findings computed from them', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bnlab-fig1-')), 'run');
    await runExperiment(fig1, fig1.presets.tiny, dir, { jobs: 1, progress: createProgress('silent') });
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
    const c = fig1.presets.tiny;
    expect(r.experiment).toBe('fig1');
    expect(r.trials.map((t) => t.id)).toEqual(['bn|seed=0', 'bn|seed=1', 'plain|seed=0', 'plain|seed=1']);
    for (const t of r.trials) {
      const steps = t.curves.testAccuracy.map(([s]) => s);
      expect(steps).toEqual([0, 20, 40, 60]);
      for (let u = 0; u < c.probeUnits; u++) {
        const [p15, p50, p85] = QS.map((q) => t.curves[`unit${u}.${q}`]);
        expect(p50.map(([s]) => s)).toEqual(steps);
        p50.forEach(([, v], i) => {
          expect(p15[i][1]).toBeLessThanOrEqual(v);
          expect(v).toBeLessThanOrEqual(p85[i][1]);
        });
      }
      expect(Object.keys(t.metrics).sort()).toEqual(['bestTestAccuracy', 'finalTestAccuracy', 'finalTestLoss', 'medianDrift', 'spreadDrift',
        'steps']);
      expect(t.metrics.finalTestAccuracy).toBe(t.curves.testAccuracy[3][1]);
      // medianDrift is the range of the median, averaged over the probed units.
      const drift = [0, 1, 2].map((u) => {
        const v = t.curves[`unit${u}.p50`].map(([, y]) => y);
        return Math.max(...v) - Math.min(...v);
      });
      expect(t.metrics.medianDrift).toBeCloseTo(drift.reduce((a, b) => a + b) / 3, 10);
    }
    expect(r.findings.map((f) => f.id)).toEqual(['convergence', 'final-accuracy', 'percentile-drift']);
    const fin = r.findings[1];
    const bn = meanCI(r.trials.filter((t) => t.arm === 'bn').map((t) => t.metrics.finalTestAccuracy));
    const pl = meanCI(r.trials.filter((t) => t.arm === 'plain').map((t) => t.metrics.finalTestAccuracy));
    expect(fin.values.bn).toBeCloseTo(bn.mean, 3);
    expect(fin.values.plain).toBeCloseTo(pl.mean, 3);
    expect(fin.text).toContain(`${(100 * bn.mean).toFixed(1)}% ± ${(100 * bn.half).toFixed(1)}% with BN`);
    expect(['supported', 'contradicted', 'inconclusive']).toContain(fin.verdict);
  });

  it('is deterministic: a trial run twice gives identical numbers (what resume relies on)', () => {
    const c = { ...fig1.presets.tiny, steps: 20, evalEvery: 10 };
    const spec = fig1.trials(c)[0];
    const a = executeTrial(fig1, spec, c, () => {});
    const b = executeTrial(fig1, spec, c, () => {});
    expect(b.metrics).toEqual(a.metrics);
    expect(b.curves).toEqual(a.curves);
  });
});

describe('fig1 probe', () => {
  it('gives percentiles of the tapped sigmoid input and leaves BN running statistics untouched', () => {
    const built = buildMlp({ inputs: 6, hidden: [5, 4], classes: 3, activation: 'sigmoid', norm: 'bn', init: { kind: 'normal', std: 0.5 } }, 1);
    const rng = new Rng(3);
    const x = new Tensor(Float32Array.from({ length: 40 * 6 }, () => rng.normal()), [40, 6]);
    const before = built.model.namedBuffers().map(([n, t]) => [n, Array.from(t.data)]);
    const tap = built.taps[1];
    const p = probePercentiles(built.model, tap, x, 2);
    expect(built.model.namedBuffers().map(([n, t]) => [n, Array.from(t.data)])).toEqual(before);
    expect(tap.enabled).toBe(false);
    // Recompute by hand: in training mode BN output of unit u, then its percentiles.
    tap.enabled = true;
    built.model.forward(x);
    const h = tap.last!;
    for (let u = 0; u < 2; u++) {
      const col = Array.from({ length: 40 }, (_, i) => h.data[i * 4 + u]);
      expect(p[u]).toEqual([15, 50, 85].map((q) => percentile(col, q)));
    }
  });
});

/** A made-up trial with a given accuracy curve, for findings tests. */
function fakeTrial(arm: string, seed: number, acc: [number, number][], medianDrift: number): Trial {
  return {
    id: `${arm}|seed=${seed}`, arm, seed, params: {}, diverged: false, divergedAt: null, durationMs: 1,
    metrics: { finalTestAccuracy: acc[acc.length - 1][1], medianDrift, spreadDrift: medianDrift },
    curves: { testAccuracy: acc },
  };
}

describe('fig1 findings', () => {
  const c: Fig1Config = { ...fig1.presets.quick, seeds: 3, steps: 300 };
  const fast = (s: number) => fakeTrial('bn', s, [[0, 0.1], [100, 0.9], [200, 0.93], [300, 0.95 + s * 0.001]], 0.1 + 0.01 * s);
  const slow = (s: number) => fakeTrial('plain', s, [[0, 0.1], [100, 0.5], [200, 0.8], [300, 0.9 + s * 0.001]], 1 + 0.1 * s);

  it('say supported when the numbers favour BN, with the steps and the ratio', () => {
    const f = fig1.findings([0, 1, 2].map(fast).concat([0, 1, 2].map(slow)), c);
    expect(f.map((x) => x.verdict)).toEqual(['supported', 'supported', 'supported']);
    expect(f[0].values.target).toBe(0.85);
    expect(f[0].text).toBe('With BN, test accuracy reached 85% (auto: 95% of the best accuracy every plain seed reached) after 100 ± 0 steps ' +
      'vs 300 ± 0 without (3.0x, 3 seeds).');
  });

  it('say contradicted when the data go against the claim', () => {
    const swap = (t: Trial, arm: string) => ({ ...t, arm, id: `${arm}|seed=${t.seed}` });
    const f = fig1.findings([0, 1, 2].map((s) => swap(slow(s), 'bn')).concat([0, 1, 2].map((s) => swap(fast(s), 'plain'))), c);
    expect(f.map((x) => x.verdict)).toEqual(['contradicted', 'contradicted', 'contradicted']);
    expect(f[0].text).toMatch(/Here BN was slower, contrary to the claim/);
    expect(f[1].text).toMatch(/lower with BN, contrary to the claim/);
  });

  it('use a fixed target when given, and report arms that never reach it', () => {
    const f = fig1.findings([0, 1, 2].map(fast).concat([0, 1, 2].map(slow)), { ...c, target: 0.92 });
    expect(f[0].verdict).toBe('supported');
    expect(f[0].text).toBe('With BN, test accuracy reached 92% after 200 ± 0 steps; without, no seed reached it within 300 steps (3 seeds).');
  });

  it('auto target falls back to the faster arm when the slower never left its start', () => {
    const flat = (s: number) => fakeTrial('plain', s, [[0, 0.1], [100, 0.1], [200, 0.11]], 0);
    expect(autoTarget([0, 1].map(fast).concat([0, 1].map(flat)))).toEqual({ target: 0.9, arm: 'bn' });
  });
});
