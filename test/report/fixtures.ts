// TEST FIXTURES: small synthetic results.json contents per experiment (made-up numbers, shaped like real runs).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results, Series, Trial } from '../../src/lab/results.js';

/** Deterministic noise in [-1, 1) (a tiny LCG: fixtures must not change between test runs). */
function noise(seed: number): () => number {
  let s = (seed * 2654435761 + 12345) >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/** A trial with defaults for the fields a test does not care about. */
export function trial(arm: string, seed: number, params: Trial['params'], metrics: Trial['metrics'], curves: Trial['curves'] = {},
  diverged = false): Trial {
  const p = Object.keys(params).sort().map((k) => `${k}=${String(params[k])}`).join(',');
  return { id: `${arm}|seed=${seed}${p ? `|${p}` : ''}`, arm, seed, params, metrics, curves, diverged, divergedAt: diverged ? 100 : null,
    durationMs: 10 };
}

/** A saturating accuracy curve with per-seed noise. */
function accCurve(steps: number[], rate: number, top: number, seed: number): Series {
  const n = noise(seed);
  return steps.map((s) => [s, Math.min(1, 0.1 + (top - 0.1) * (1 - Math.exp(-s / rate)) + 0.01 * n())]);
}

const STEPS = Array.from({ length: 21 }, (_, i) => i * 50);

/** Wraps trials into a Results object. */
export function results(experiment: string, trials: Trial[], findings: Results['findings'] = []): Results {
  return {
    experiment,
    config: { dataset: 'mnist-10k', seeds: 3 },
    trials,
    findings,
    meta: {
      version: '0.1.0', backend: 'ts', node: 'v20', startedAt: '2025-01-01T00:00:00Z', finishedAt: '2025-01-01T00:01:00Z',
      command: `bnlab run ${experiment} --tiny`, dataset: 'mnist-10k',
    },
  };
}

export function fig1(): Results {
  const trials: Trial[] = [];
  for (const arm of ['bn', 'plain']) {
    for (let seed = 0; seed < 3; seed++) {
      const n = noise(seed + (arm === 'bn' ? 10 : 20));
      const drift = arm === 'bn' ? 0 : 1;
      const pct = (q: number, base: number): Series => STEPS.map((s) => [s,
        base + drift * (s / 1000) * (q === 50 ? -1 : q === 15 ? -2 : 0.5) + 0.05 * n()]);
      trials.push(
        trial(arm, seed, {}, { finalTestAccuracy: arm === 'bn' ? 0.95 : 0.9 }, {
          testAccuracy: accCurve(STEPS, arm === 'bn' ? 100 : 300, arm === 'bn' ? 0.96 : 0.92, seed),
          trainLoss: STEPS.map((s) => [s, 2.3 * Math.exp(-s / (arm === 'bn' ? 200 : 400)) + 0.05]),
          'unit0.p15': pct(15, -1),
          'unit0.p50': pct(50, 0),
          'unit0.p85': pct(85, 1),
        }),
      );
    }
  }
  return results('fig1', trials, [
    { id: 'convergence', claim: 'BN speeds up convergence', text: 'BN reached 90% in 150 steps vs 450 without (3 seeds).', verdict: 'supported',
      values: {} },
    { id: 'percentile-stability', claim: 'BN keeps the sigmoid input distribution stable',
      text: 'The median moved by 0.02 with BN vs 1.0 without.', verdict: 'supported', values: {} },
  ]);
}

export function lr(): Results {
  const trials: Trial[] = [];
  for (let seed = 0; seed < 3; seed++) {
    for (const lr of [0.01, 0.1, 1, 10]) {
      for (const arm of ['bn', 'plain']) {
        const n = noise(seed * 7 + lr * 100);
        const diverged = (arm === 'plain' && lr >= 1) || (arm === 'bn' && lr === 10 && seed === 0);
        const acc = diverged ? 0.1 : (arm === 'bn' ? 0.9 : 0.85) - 0.1 * Math.abs(Math.log10(lr) - (arm === 'bn' ? 0 : -1)) + 0.01 * n();
        trials.push(trial(arm, seed, { lr }, { finalTestAccuracy: acc, stepsToTarget: acc > 0.8 ? Math.round(300 / (1 + lr)) + seed * 10 : null },
          { testAccuracy: accCurve(STEPS, 200, acc, seed) }, diverged));
      }
    }
  }
  return results('lr', trials);
}

const layers = (n: number, f: (k: number) => number): Series => Array.from({ length: n }, (_, k) => [k + 1, f(k + 1)]);

export function init(): Results {
  const trials: Trial[] = [];
  const cells: [string, number | null][] = [['normal', 0.01], ['normal', 1], ['normal', 10], ['kaiming', null]];
  for (let seed = 0; seed < 2; seed++) {
    for (const activation of ['sigmoid', 'relu']) {
      for (const [init, std] of cells) {
        for (const arm of ['bn', 'plain']) {
          const bad = arm === 'plain' && std !== null && (std < 0.1 || std > 1);
          const acc = bad ? 0.11 : 0.85 + 0.05 * noise(seed)();
          trials.push(trial(arm, seed, { init, std, activation }, { finalTestAccuracy: acc, trained: bad ? 0 : 1 },
            { testAccuracy: accCurve(STEPS, 200, acc, seed) }, bad && std === 10 && seed === 0));
        }
      }
    }
  }
  return results('init', trials);
}

export function regularization(): Results {
  const trials: Trial[] = [];
  for (let seed = 0; seed < 3; seed++) {
    for (const arm of ['plain', 'plain+dropout', 'bn', 'bn+dropout']) {
      const train = arm.startsWith('bn') ? 0.99 : 0.97;
      const test = arm.endsWith('dropout') ? 0.93 : 0.9;
      const n = noise(seed + arm.length);
      trials.push(
        trial(arm, seed, {}, { trainAccuracy: train + 0.005 * n(), testAccuracy: test + 0.01 * n(), gap: train - test }, {
          gap: STEPS.map((st) => [st, (train - test) * (1 - Math.exp(-st / 300)) + 0.01 * n()]),
          testAccuracy: accCurve(STEPS, 200, test, seed),
        }),
      );
    }
  }
  return results('regularization', trials);
}

export function depth(): Results {
  const trials: Trial[] = [];
  for (let seed = 0; seed < 2; seed++) {
    for (const activation of ['tanh', 'relu']) {
      for (const d of [5, 10]) {
        for (const arm of ['bn', 'plain']) {
          const growth = arm === 'bn' ? 1.6 : 1.1;
          const n = noise(seed * 13 + d);
          const init = layers(d + 1, (k) => growth ** (d + 1 - k) * (1 + 0.1 * n()));
          trials.push(
            trial(arm, seed, { depth: d, activation }, { finalTestAccuracy: 0.8, log10GradRatioInit: Math.log10(init[0][1] / init[d][1]) }, {
              gradNormInit: init,
              gradNormTrained: layers(d + 1, (k) => 0.5 * (1 + 0.05 * k) * (1 + 0.1 * n())),
              testAccuracy: accCurve(STEPS, 200, 0.8, seed),
            }),
          );
        }
      }
    }
  }
  return results('depth', trials);
}

export function ics(): Results {
  const trials: Trial[] = [];
  for (let seed = 0; seed < 3; seed++) {
    for (const arm of ['plain', 'bn', 'noisy-bn']) {
      const n = noise(seed * 3 + arm.length);
      const curves: Trial['curves'] = { testAccuracy: accCurve(STEPS, arm === 'plain' ? 300 : 100, 0.95, seed) };
      const drift = arm === 'noisy-bn' ? 1 : arm === 'bn' ? 0.05 : 0.2;
      for (let k = 1; k <= 3; k++) {
        curves[`meanDriftL${k}`] = STEPS.map((st) => [st, drift * k * (1 + 0.1 * n())]);
        curves[`stdDriftL${k}`] = STEPS.map((st) => [st, 0.5 * drift * k * (1 + 0.1 * n())]);
        if (k > 1) {
          curves[`icsL2L${k}`] = STEPS.map((st) => [st, (arm === 'plain' ? 0.1 : 0.3) * (1 + 0.1 * n())]);
          curves[`icsCosL${k}`] = STEPS.map((st) => [st, 0.9 + 0.05 * n()]);
        }
      }
      curves.lossRange = STEPS.map((st) => [st, (arm === 'plain' ? 1 : 0.2) * Math.exp(-st / 500) * (1 + 0.1 * n())]);
      curves.gradChange = STEPS.map((st) => [st, (arm === 'plain' ? 2 : 0.5) * (1 + 0.1 * n())]);
      curves.betaSmoothness = STEPS.map((st) => [st, (arm === 'plain' ? 5 : 1) * (1 + 0.1 * n())]);
      trials.push(trial(arm, seed, {}, { finalTestAccuracy: 0.95 }, curves));
    }
  }
  return results('ics', trials);
}

export function inference(): Results {
  const trials: Trial[] = [];
  for (const momentum of [0.1, 0.01, null]) {
    for (let seed = 0; seed < 3; seed++) {
      const n = noise(seed + 100 * (momentum ?? 1));
      const base = 0.92 + 0.01 * n();
      trials.push(
        trial('bn', seed, { momentum }, { accRunning: base - (momentum === 0.01 ? 0.05 : 0), accRunningBiased: base - 0.002,
          accPopulation: base + 0.002, accBatchStats: base - 0.01, accBatch2: 0.6, accBatch16: 0.85, accBatch64: 0.9 }, {
          accuracyVsEvalBatch: [[2, 0.6 + 0.02 * n()], [16, 0.85 + 0.01 * n()], [64, 0.9 + 0.01 * n()]],
          runningMeanError: STEPS.map((st) => [st, Math.exp(-st / 200) + 0.01]),
          runningVarError: STEPS.map((st) => [st, 0.5 * Math.exp(-st / 300) + 0.01]),
        }),
      );
    }
  }
  return results('inference', trials);
}

export function batchsize(): Results {
  const trials: Trial[] = [];
  for (const batchSize of [2, 8, 32, 128]) {
    for (const arm of ['bn', 'renorm', 'ghost', 'group', 'layer']) {
      if (arm === 'ghost' && batchSize <= 16) continue;
      for (let seed = 0; seed < 2; seed++) {
        const penalty = arm === 'bn' ? 0.3 / batchSize : arm === 'renorm' ? 0.1 / batchSize : 0;
        const acc = 0.9 - penalty + 0.01 * noise(seed + batchSize)();
        const curve = accCurve(STEPS.map((x) => x * 8), 2000, acc, seed);
        const diverged = arm === 'bn' && batchSize === 2 && seed === 1;
        trials.push(trial(arm, seed, { batchSize }, { finalTestAccuracy: acc }, { testAccuracy: curve }, diverged));
      }
    }
  }
  return results('batchsize', trials);
}

export function scales(): Results {
  const trials: Trial[] = [];
  for (const arm of ['raw', 'standardize', 'bn', 'input-bn']) {
    for (const lr of [0.01, 0.1]) {
      for (let seed = 0; seed < 2; seed++) {
        const diverged = arm === 'raw';
        const loss: Series = diverged ? [[1, 1e3], [2, 1e6]] : STEPS.map((st) => [st, 2.3 * Math.exp(-st * lr / (arm === 'bn' ? 10 : 20)) + 0.05]);
        trials.push(trial(arm, seed, { lr }, { finalTestAccuracy: diverged ? 0.5 : 0.9, stepsToTarget: diverged ? null : 200 }, { trainLoss: loss,
          testAccuracy: accCurve(STEPS, 200, diverged ? 0.5 : 0.9, seed) }, diverged));
      }
    }
  }
  return results('scales', trials);
}

/** An experiment no builder knows: only the generic per-curve figures apply. */
export function unknown(): Results {
  const trials: Trial[] = [];
  for (const arm of ['a', 'b']) for (let seed = 0; seed < 2; seed++) trials.push(trial(arm, seed, {}, { score: seed },
    { widgetLoss: STEPS.map((st) => [st, 1 / (1 + st)]), 'gadget.rate': STEPS.map((st) => [st, st / 1000]) }));
  return results('mystery', trials);
}

/** Writes `r` as a run directory (results.json plus the other files a run holds) under `root`. */
export function writeRun(root: string, name: string, r: Results): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), JSON.stringify(r, null, 1));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(r.config));
  writeFileSync(join(dir, 'journal.jsonl'), '');
  writeFileSync(join(dir, 'summary.md'), `# ${r.experiment}\n`);
  return dir;
}

/** Every fixture by experiment name. */
export const FIXTURES: Record<string, () => Results> = { fig1, lr, init, regularization, depth, ics, inference, batchsize, scales };

/** The figure ids each experiment must draw from complete data (fixtures here, real tiny runs in the browser test). */
export const EXPECTED_FIGURES: Record<string, string[]> = {
  fig1: ['accuracy', 'percentiles'],
  lr: ['accuracy-vs-lr', 'steps-vs-lr'],
  init: ['heatmap'],
  regularization: ['train-test', 'gap'],
  depth: ['grad-norm-per-layer', 'grad-ratio-vs-depth'],
  ics: ['drift', 'gradient-change', 'smoothness', 'noisy-bn'],
  inference: ['modes-vs-momentum', 'accuracy-vs-eval-batch', 'running-vs-population'],
  batchsize: ['accuracy-vs-batch-size'],
  scales: ['loss-curves', 'accuracy-vs-lr'],
};
