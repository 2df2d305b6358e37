// Tensor creation, element access, copies, and the seeded RNG (determinism and distribution checks).
import { describe, expect, it } from 'vitest';
import { Tensor, numel } from '../../src/tensor/tensor.js';
import { tensor, zeros, ones, full, arange, randn, rand } from '../../src/tensor/create.js';
import { Rng, manualSeed, getRng } from '../../src/tensor/rng.js';

describe('creation', () => {
  it('tensor() infers shapes from nested arrays, or takes flat values with a shape', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(a.get(1, 0)).toBe(4);
    const b = tensor([1, 2, 3, 4], [2, 2]);
    expect(b.shape).toEqual([2, 2]);
    expect(b.get(1, 1)).toBe(4);
    const s = tensor(7);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(7);
  });
  it('tensor() wraps a Float32Array without copying and honours requiresGrad', () => {
    const d = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(d, [3, 2], { requiresGrad: true });
    expect(t.data).toBe(d);
    expect(t.requiresGrad).toBe(true);
    expect(t.isLeaf).toBe(true);
  });
  it('values are stored as float32', () => {
    expect(tensor([0.1]).data[0]).toBe(Math.fround(0.1));
  });
  it('zeros, ones, full, arange', () => {
    expect(zeros([2, 2]).toArray()).toEqual([0, 0, 0, 0]);
    expect(ones([3]).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 2.5).toArray()).toEqual([2.5, 2.5]);
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(5, 1, -2).toArray()).toEqual([5, 3]);
    expect(zeros([0, 3]).size).toBe(0);
    expect(numel([2, 3, 4])).toBe(24);
    expect(numel([])).toBe(1);
  });
  it('detach shares data without history; clone copies', () => {
    const t = randn([3], { requiresGrad: true });
    const d = t.detach();
    expect(d.data).toBe(t.data);
    expect(d.requiresGrad).toBe(false);
    const c = t.clone();
    expect(c.data).not.toBe(t.data);
    expect(c.toArray()).toEqual(t.toArray());
  });
  it('toString shows the shape and the first values', () => {
    expect(String(tensor([[1, 2], [3, 4]]))).toBe('Tensor([2, 2], [1.000, 2.000, 3.000, 4.000])');
    expect(String(zeros([10]))).toMatch(/, \.\.\.\]\)$/);
  });
});

describe('Rng', () => {
  it('the same seed gives the same stream, bit for bit; another seed does not', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.normal());
    const sb = Array.from({ length: 100 }, () => b.normal());
    const sc = Array.from({ length: 100 }, () => c.normal());
    expect(sb).toEqual(sa);
    expect(sc).not.toEqual(sa);
  });
  it('uniform draws lie in [0, 1) with mean 1/2 and variance 1/12', () => {
    const r = new Rng(1);
    const n = 20000;
    let s = 0, s2 = 0, outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
    }
    expect(outside).toBe(0);
    const m = s / n;
    // Standard error of the mean: sqrt(1/12 / n) ~ 0.002; 5 sigma = 0.01.
    expect(Math.abs(m - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - m * m - 1 / 12)).toBeLessThan(0.005);
  });
  it('normal draws have mean 0 and variance 1', () => {
    const t = randn([20000], { rng: new Rng(2) });
    let s = 0, s2 = 0;
    for (const v of t.data) {
      s += v;
      s2 += v * v;
    }
    const n = t.size;
    // SE of the mean 1/sqrt(n) ~ 0.007; SE of the variance sqrt(2/n) ~ 0.01: 5 sigma bounds.
    expect(Math.abs(s / n)).toBeLessThan(0.035);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
  it('randn and rand honour mean/std and low/high', () => {
    const t = randn([5000], { rng: new Rng(3), mean: 10, std: 0.5 });
    const m = t.data.reduce((a, b) => a + b, 0) / t.size;
    expect(Math.abs(m - 10)).toBeLessThan(0.05);
    const u = rand([1000], { rng: new Rng(4), low: -2, high: -1 });
    for (const v of u.data) expect(v >= -2 && v <= -1).toBe(true);
  });
  it('int draws cover [0, n) and shuffle gives a permutation', () => {
    const r = new Rng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(7);
    const p = r.shuffle(Int32Array.from({ length: 50 }, (_, i) => i));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...p]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
  it('fork gives an independent but reproducible stream', () => {
    const f1 = new Rng(9).fork(), f2 = new Rng(9).fork();
    expect(f1.nextU32()).toBe(f2.nextU32());
  });
  it('manualSeed resets the global generator used by randn', () => {
    manualSeed(11);
    const a = randn([5]).toArray();
    manualSeed(11);
    expect(randn([5]).toArray()).toEqual(a);
    expect(getRng()).toBeInstanceOf(Rng);
  });
  it('Tensor keeps the shape it was given', () => {
    const t = new Tensor(new Float32Array(6), [1, 2, 3]);
    expect(t.ndim).toBe(3);
    expect(t.size).toBe(6);
  });
});
