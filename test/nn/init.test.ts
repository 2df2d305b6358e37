// Initializers vs PyTorch's formulas (test/fixtures/optim.json 'init'): fans, gains, bounds and standard deviations.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as init from '../../src/nn/init.js';
import { Linear, Conv2d } from '../../src/nn/layers.js';
import { zeros } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';

interface ShapeEntry {
  shape: number[];
  fanIn: number;
  fanOut: number;
  defaultBound: number;
  kaimingUniformReluBound: number;
  kaimingNormalReluStd: number;
  kaimingNormalReluFanOutStd: number;
  xavierUniformBound: number;
  xavierNormalStd: number;
  torchDefaultMaxAbs: number;
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/optim.json', import.meta.url), 'utf8')).init as {
  gains: Record<string, number>;
  shapes: ShapeEntry[];
};

/** Pooled mean, std and max |value| over `reps` fresh fills of t (enough draws for tight statistical bounds). */
function stats(t: Tensor, fill: (t: Tensor, rng: Rng) => void, reps: number) {
  const rng = new Rng(123);
  let n = 0, s = 0, s2 = 0, maxAbs = 0;
  for (let r = 0; r < reps; r++) {
    fill(t, rng);
    for (const v of t.data) {
      n++;
      s += v;
      s2 += v * v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
  }
  const mean = s / n;
  return { n, mean, std: Math.sqrt(s2 / n - mean * mean), maxAbs };
}

/*
 * Statistical tolerances: with n >= 20000 pooled draws, the sample std has relative standard error
 * <= sqrt(1/(2n)) ~ 0.5% (normal; less for uniform), the mean's SE is std / sqrt(n) ~ 0.7% of std.
 * 3% on the std and 4% of std on the mean are > 5 sigma. Uniform draws: std = bound / sqrt(3) and all |w| <= bound.
 */
const STD_TOL = 0.03;
const REPS_FOR = (size: number) => Math.ceil(20000 / size);

describe('fans and gains match torch.nn.init', () => {
  it('calculateGain for every nonlinearity', () => {
    for (const [key, want] of Object.entries(fx.gains)) {
      const [nl, param] = key.split(':');
      const got = param === undefined ? init.calculateGain(nl as init.Nonlinearity) : init.calculateGain(nl as init.Nonlinearity, Number(param));
      expect(got, key).toBeCloseTo(want, 12);
    }
  });
  it.each(fx.shapes.map((s) => [JSON.stringify(s.shape), s] as const))('fan in / fan out of %s', (_n, s) => {
    expect(init.fans(zeros(s.shape))).toEqual({ fanIn: s.fanIn, fanOut: s.fanOut });
  });
});

describe.each(fx.shapes.map((s) => [JSON.stringify(s.shape), s] as const))('initializers on shape %s', (_n, s) => {
  const t = zeros(s.shape);
  const reps = REPS_FOR(t.size);
  const uniformCheck = (st: ReturnType<typeof stats>, bound: number) => {
    expect(st.maxAbs).toBeLessThanOrEqual(bound);
    expect(st.maxAbs).toBeGreaterThan(0.99 * bound);
    expect(Math.abs(st.std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(STD_TOL);
    expect(Math.abs(st.mean)).toBeLessThan(0.04 * st.std);
  };
  const normalCheck = (st: ReturnType<typeof stats>, std: number) => {
    expect(Math.abs(st.std / std - 1)).toBeLessThan(STD_TOL);
    expect(Math.abs(st.mean)).toBeLessThan(0.04 * std);
  };

  it("PyTorch's default Linear/Conv2d init: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))", () => {
    expect(s.defaultBound).toBeCloseTo(1 / Math.sqrt(s.fanIn), 12);
    // torch's own draw stays inside the bound (and nearly reaches it): the formula is what torch uses.
    expect(s.torchDefaultMaxAbs).toBeLessThanOrEqual(s.defaultBound);
    uniformCheck(stats(t, (w, rng) => init.torchDefaultInit(w, null, rng), reps), s.defaultBound);
    const layer = s.shape.length === 2 ? new Linear(s.shape[1], s.shape[0], { rng: new Rng(1) }) : new Conv2d(s.shape[1], s.shape[0], s.shape[2],
      { rng: new Rng(1) });
    expect(layer.weight.shape).toEqual(s.shape);
    for (const v of layer.weight.data) expect(Math.abs(v)).toBeLessThanOrEqual(s.defaultBound);
    for (const v of layer.bias!.data) expect(Math.abs(v)).toBeLessThanOrEqual(s.defaultBound);
  });
  it('kaimingUniform (relu): bound gain * sqrt(3 / fan_in)', () => {
    uniformCheck(stats(t, (w, rng) => init.kaimingUniform(w, { nonlinearity: 'relu', rng }), reps), s.kaimingUniformReluBound);
  });
  it('kaimingNormal (relu): std gain / sqrt(fan), fan_in and fan_out modes', () => {
    normalCheck(stats(t, (w, rng) => init.kaimingNormal(w, { nonlinearity: 'relu', rng }), reps), s.kaimingNormalReluStd);
    normalCheck(stats(t, (w, rng) => init.kaimingNormal(w, { nonlinearity: 'relu', mode: 'fanOut', rng }), reps), s.kaimingNormalReluFanOutStd);
  });
  it('xavierUniform and xavierNormal', () => {
    uniformCheck(stats(t, (w, rng) => init.xavierUniform(w, { rng }), reps), s.xavierUniformBound);
    normalCheck(stats(t, (w, rng) => init.xavierNormal(w, { rng }), reps), s.xavierNormalStd);
  });
});

describe('simple fills', () => {
  it('normal, uniform, constant, zeros, ones', () => {
    const t = zeros([4000]);
    const st = stats(t, (w, rng) => init.normal(w, { mean: 2, std: 0.5, rng }), 5);
    expect(Math.abs(st.mean - 2)).toBeLessThan(0.02);
    expect(Math.abs(st.std / 0.5 - 1)).toBeLessThan(STD_TOL);
    init.uniform(t, { low: 3, high: 4, rng: new Rng(1) });
    expect(t.data.every((v) => v >= 3 && v <= 4)).toBe(true);
    expect(init.constant(t, 1.5).data.every((v) => v === 1.5)).toBe(true);
    expect(init.zeros(t).data.every((v) => v === 0)).toBe(true);
    expect(init.ones(t).data.every((v) => v === 1)).toBe(true);
  });
  it('the same rng seed gives the same weights', () => {
    const a = new Linear(5, 7, { rng: new Rng(3) }), b = new Linear(5, 7, { rng: new Rng(3) });
    expect(Array.from(a.weight.data)).toEqual(Array.from(b.weight.data));
    expect(Array.from(a.bias!.data)).toEqual(Array.from(b.bias!.data));
  });
  it('bad arguments get a message', () => {
    expect(() => init.fans(zeros([3]))).toThrow(/at least 2 dimensions/);
    expect(() => init.normal(zeros([3]), { std: -1 })).toThrow(/std/);
    expect(() => init.uniform(zeros([3]), { low: 1, high: 0 })).toThrow(/high/);
    expect(() => init.kaimingNormal(zeros([3, 3]), { mode: 'fan' as never })).toThrow(/mode/);
    expect(() => init.normal(3 as never)).toThrow(/init.normal: expected a Tensor/);
  });
});
