// Learning-rate schedules vs PyTorch 1.13's StepLR, CosineAnnealingLR and LinearLR (test/fixtures/optim.json) and their closed forms.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StepLR, CosineLR, LinearWarmup } from '../../src/optim/schedule.js';
import { SGD } from '../../src/optim/sgd.js';
import { Adam } from '../../src/optim/adam.js';
import { tensor } from '../../src/tensor/create.js';
import { ArgumentError } from '../../src/tensor/errors.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/optim.json', import.meta.url), 'utf8')).schedules as {
  lr0: number;
  step_lr: { stepSize: number; gamma: number; lrs: number[] };
  cosine: { tMax: number; etaMin: number; lrs: number[] };
  linear_warmup: { warmupSteps: number; startFactor: number; lrs: number[] };
};

const sgd = (lr = fx.lr0) => new SGD([tensor([0], undefined, { requiresGrad: true })], { lr });

/** lr at t = 0..n: read at construction, then after each step() (PyTorch's get_last_lr sequence). */
function trace(opt: SGD, sched: { step(): void }, n: number): number[] {
  const out = [opt.lr];
  for (let t = 0; t < n; t++) {
    sched.step();
    out.push(opt.lr);
  }
  return out;
}

/*
 * Tolerance: PyTorch's CosineAnnealingLR updates recursively (lr_t from lr_{t-1}); the closed form differs only by
 * float64 rounding accumulated over <= 10 steps (~1e-16 each): 1e-12 absolute is ample and still catches any
 * off-by-one (which moves lr by >= 1e-3 here).
 */
const TOL = 1e-12;
const close = (got: number[], want: number[]) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `t=${i}: ${g} vs ${want[i]}`).toBeLessThan(TOL));
};

describe('schedules vs PyTorch', () => {
  it('StepLR: lr0 * gamma^floor(t / stepSize)', () => {
    const opt = sgd();
    const s = new StepLR(opt, fx.step_lr.stepSize, fx.step_lr.gamma);
    const got = trace(opt, s, fx.step_lr.lrs.length - 1);
    close(got, fx.step_lr.lrs);
    close(got, got.map((_, t) => fx.lr0 * 0.5 ** Math.floor(t / 3)));
  });
  it('CosineLR: etaMin + (lr0 - etaMin)(1 + cos(pi t / tMax)) / 2, then held at etaMin', () => {
    const { tMax, etaMin, lrs } = fx.cosine;
    const opt = sgd();
    const s = new CosineLR(opt, tMax, etaMin);
    const got = trace(opt, s, tMax + 3);
    close(got.slice(0, tMax + 1), lrs);
    close(got, got.map((_, t) => etaMin + ((fx.lr0 - etaMin) * (1 + Math.cos((Math.PI * Math.min(t, tMax)) / tMax))) / 2));
    // Past tMax PyTorch's closed form would climb back up (a cosine period); ours holds etaMin, as documented.
    expect(got[tMax + 3]).toBeCloseTo(etaMin, 15);
  });
  it('LinearWarmup: lr0 * (startFactor + (1 - startFactor) min(t, T) / T), as LinearLR', () => {
    const { warmupSteps, startFactor, lrs } = fx.linear_warmup;
    const opt = sgd();
    const s = new LinearWarmup(opt, warmupSteps, startFactor);
    close(trace(opt, s, lrs.length - 1), lrs);
  });
  it('the lr is set at construction, before any step (not NaN)', () => {
    for (const make of [(o: SGD) => new StepLR(o, 2), (o: SGD) => new CosineLR(o, 5), (o: SGD) => new LinearWarmup(o, 4)]) {
      const opt = sgd(0.2);
      make(opt);
      expect(Number.isFinite(opt.lr)).toBe(true);
    }
    const o = sgd(0.2);
    new LinearWarmup(o, 4, 0.5);
    expect(o.lr).toBeCloseTo(0.1, 15);
  });
  it('works with any optimizer and scales from its initial lr', () => {
    const opt = new Adam([tensor([0], undefined, { requiresGrad: true })], { lr: 0.01 });
    const s = new StepLR(opt, 1, 0.5);
    s.step();
    s.step();
    expect(opt.lr).toBeCloseTo(0.0025, 15);
    expect(opt.initialLr).toBe(0.01);
  });
  it('bad arguments get a message', () => {
    expect(() => new StepLR(sgd(), 0)).toThrow(ArgumentError);
    expect(() => new StepLR(sgd(), 0)).toThrow(/StepLR: stepSize/);
    expect(() => new CosineLR(sgd(), 0)).toThrow(/CosineLR: tMax/);
    expect(() => new LinearWarmup(sgd(), 3, 1.5)).toThrow(/LinearWarmup: startFactor/);
    expect(() => new StepLR(undefined as never, 2)).toThrow(/first argument must be an optimizer/);
  });
});
