// SGD (plain, momentum, dampening, Nesterov, weight decay), Adam and AdamW vs five steps of PyTorch 1.13 (test/fixtures/optim.json).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SGD, type SGDOptions } from '../../src/optim/sgd.js';
import { Adam, AdamW, type AdamOptions } from '../../src/optim/adam.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { tensor } from '../../src/tensor/create.js';
import { ArgumentError } from '../../src/tensor/errors.js';
import { Linear } from '../../src/nn/layers.js';

interface Enc {
  shape: number[];
  data: number[];
}
interface OptCase {
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, number | boolean | number[]>;
  params: Enc[][];
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/optim.json', import.meta.url), 'utf8')).optim as {
  params0: Enc[];
  grads: Enc[][];
  cases: Record<string, OptCase>;
};

/*
 * Tolerance: PyTorch rounds every intermediate (d_p, buffers, denominators) to float32; we compute each update in
 * float64 and round once, so the two drift by a few float32 ulps of |p| (~1e-7) per step. After 5 steps with
 * |p| < 4: ATOL = 2e-6 covers it with margin; a wrong rule (missing bias correction, dampening on the first step,
 * coupled vs decoupled decay) moves parameters by >= 1e-4 here.
 */
const ATOL = 2e-6;

/** PyTorch option names -> ours. */
function make(c: OptCase, params: Tensor[]): Optimizer {
  const o = c.options;
  if (c.optimizer === 'SGD') {
    const opts: SGDOptions = { lr: o.lr as number };
    if (o.momentum !== undefined) opts.momentum = o.momentum as number;
    if (o.dampening !== undefined) opts.dampening = o.dampening as number;
    if (o.nesterov !== undefined) opts.nesterov = o.nesterov as boolean;
    if (o.weight_decay !== undefined) opts.weightDecay = o.weight_decay as number;
    return new SGD(params, opts);
  }
  const opts: AdamOptions = { lr: o.lr as number };
  if (o.betas !== undefined) opts.betas = o.betas as [number, number];
  if (o.eps !== undefined) opts.eps = o.eps as number;
  if (o.weight_decay !== undefined) opts.weightDecay = o.weight_decay as number;
  return c.optimizer === 'Adam' ? new Adam(params, opts) : new AdamW(params, opts);
}

describe('optimizers vs PyTorch', () => {
  it.each(Object.keys(fx.cases))('%s: parameters after each of 5 steps', (name) => {
    const c = fx.cases[name];
    const params = fx.params0.map((e) => new Tensor(Float32Array.from(e.data), e.shape, true));
    const opt = make(c, params);
    fx.grads.forEach((gs, step) => {
      params.forEach((p, k) => (p.grad = Float32Array.from(gs[k].data)));
      opt.step();
      params.forEach((p, k) => {
        const want = c.params[step][k].data;
        for (let i = 0; i < want.length; i++) {
          if (!(Math.abs(p.data[i] - want[i]) <= ATOL)) {
            throw new Error(`${name} step ${step + 1} param ${k}[${i}]: ${p.data[i]} vs PyTorch ${want[i]}`);
          }
        }
      });
    });
    expect(opt.stepCount).toBe(5);
  });
  it('the fixture covers plain, momentum, dampening, nesterov and weight decay SGD, Adam and AdamW', () => {
    expect(Object.keys(fx.cases)).toEqual(expect.arrayContaining([
      'sgd', 'sgd_momentum', 'sgd_momentum_dampening', 'sgd_nesterov', 'sgd_weight_decay', 'adam', 'adam_weight_decay', 'adamw',
    ]));
  });
});

describe('optimizer behaviour', () => {
  it('parameters without a gradient are left alone', () => {
    const a = tensor([1, 2], undefined, { requiresGrad: true });
    const b = tensor([3, 4], undefined, { requiresGrad: true });
    for (const opt of [new SGD([a, b], { lr: 0.1, momentum: 0.9 }), new Adam([a, b], { lr: 0.1 })]) {
      a.grad = new Float32Array([1, 1]);
      b.grad = null;
      opt.step();
      expect(b.toArray()).toEqual([3, 4]);
    }
    expect(a.data[0]).toBeLessThan(1);
  });
  it('zeroGrad clears every gradient', () => {
    const l = new Linear(2, 2);
    const opt = new SGD(l.parameters(), { lr: 0.1 });
    for (const p of l.parameters()) p.grad = new Float32Array(p.size).fill(1);
    opt.zeroGrad();
    expect(l.parameters().every((p) => p.grad === null)).toBe(true);
  });
  it('AdamW defaults weight decay to 0.01, Adam to 0', () => {
    const p = [tensor([1], undefined, { requiresGrad: true })];
    expect(new AdamW(p).weightDecay).toBe(0.01);
    expect(new Adam(p).weightDecay).toBe(0);
    expect(new Adam(p).lr).toBe(1e-3);
  });
});

describe('optimizer errors', () => {
  const params = () => new Linear(2, 2).parameters();
  it('SGD without lr, or with a bad one, says so', () => {
    expect(() => new SGD(params(), {} as never)).toThrow(ArgumentError);
    expect(() => new SGD(params(), {} as never)).toThrow('SGD: lr must be a number in [0, Infinity], got undefined');
    expect(() => new (SGD as unknown as new (p: Tensor[]) => SGD)(params())).toThrow('SGD: options { lr } are required');
    expect(() => new SGD(params(), { lr: -1 })).toThrow(/SGD: lr/);
    expect(() => new SGD(params(), { lr: '0.1' as never })).toThrow(/the string '0.1'/);
  });
  it('bad hyperparameters name the optimizer and the option', () => {
    expect(() => new SGD(params(), { lr: 0.1, momentum: -0.5 })).toThrow(/SGD: momentum/);
    expect(() => new SGD(params(), { lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum/);
    expect(() => new SGD(params(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/dampening 0/);
    expect(() => new Adam(params(), { betas: [0.9, 1] })).toThrow(/Adam: betas\[1\]/);
    expect(() => new Adam(params(), { betas: [0.9] as never })).toThrow(/betas must be a pair/);
    expect(() => new AdamW(params(), { eps: -1 })).toThrow(/AdamW: eps/);
  });
  it('params that are not Tensors: a module, a number, an empty list', () => {
    const m = new Linear(2, 2);
    expect(() => new SGD(m as never, { lr: 0.1 })).toThrow('SGD: params must be an iterable of Tensors (pass model.parameters())');
    expect(() => new Adam(3 as never)).toThrow(/Adam: params must be an iterable/);
    expect(() => new SGD([1, 2] as never, { lr: 0.1 })).toThrow('SGD: params[0] must be a Tensor');
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/empty parameter list/);
  });
});
