// lab/compare.ts and lab/multiplicity.ts against SciPy (test/fixtures/stats.json), and by simulation: false-positive rate, power, verdicts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compare, CompareError, powerOf, seedsFor, verdictOf } from '../../src/lab/compare.js';
import { adjustFindings, benjaminiHochberg, holm } from '../../src/lab/multiplicity.js';
import type { Finding } from '../../src/lab/results.js';
import { bootstrapCI, meanCI, tQuantile } from '../../src/lab/stats.js';
import { Rng } from '../../src/tensor/rng.js';

interface Case { a: number[]; b: number[]; margin: number; diff: number; lo: number; hi: number; p: number; df: number; effect: number;
  pEquiv: number }
const fx = JSON.parse(readFileSync(new URL('../fixtures/stats.json', import.meta.url), 'utf8')) as {
  paired: Case[]; welch: Case[]; pvalues: number[]; holm: number[]; bh: number[]; tQuantiles: { p: number; df: number; q: number }[];
};

/** Agreement to 1e-9, relative for large values. */
const close = (x: number, y: number) => expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(y)));
const bySeed = (v: number[]) => new Map(v.map((x, i) => [i, x]));

describe('compare vs SciPy', () => {
  it('paired t-test: difference, CI, p, d_z and TOST', () => {
    for (const c of fx.paired) {
      const r = compare('x', bySeed(c.a), bySeed(c.b), { margin: c.margin });
      expect(r.method).toBe('paired');
      close(r.diff, c.diff);
      close(r.lo, c.lo);
      close(r.hi, c.hi);
      close(r.p, c.p);
      close(r.df, c.df);
      close(r.effect, c.effect);
      close(r.pEquiv!, c.pEquiv);
    }
  });
  it("Welch's t-test: difference, CI, p, df, Cohen's d and TOST", () => {
    for (const c of fx.welch) {
      const r = compare('x', c.a, c.b, { margin: c.margin });
      expect(r.method).toBe('welch');
      close(r.diff, c.diff);
      close(r.lo, c.lo);
      close(r.hi, c.hi);
      close(r.p, c.p);
      close(r.df, c.df);
      close(r.effect, c.effect);
      close(r.pEquiv!, c.pEquiv);
    }
  });
  it('Holm and Benjamini-Hochberg adjusted p-values', () => {
    holm(fx.pvalues).forEach((p, i) => close(p, fx.holm[i]));
    benjaminiHochberg(fx.pvalues).forEach((p, i) => close(p, fx.bh[i]));
  });
  it('t quantiles (@stdlib) and meanCI', () => {
    // Quantiles come from two inversions of the incomplete beta (stdlib's and Boost's in SciPy): they agree to 1e-8 relative.
    for (const q of fx.tQuantiles) expect(Math.abs(tQuantile(q.p, q.df) - q.q)).toBeLessThanOrEqual(1e-8 * Math.abs(q.q));
    const c = fx.paired[0];
    const d = c.a.map((x, i) => x - c.b[i]);
    close(meanCI(d).lo, c.lo);
  });
});

describe('the verdict rule', () => {
  it('supported / contradicted / equivalent / inconclusive', () => {
    const up = compare('up', bySeed([1, 2, 3, 4]), bySeed([0, 1.1, 1.9, 3.05]));
    expect(verdictOf(up, 1)).toBe('supported');
    expect(verdictOf(up, -1)).toBe('contradicted');
    const eq = compare('eq', bySeed([1, 2, 3, 4]), bySeed([1.001, 1.999, 3.002, 3.999]), { margin: 0.01 });
    expect(verdictOf(eq, 1)).toBe('equivalent');
    const wide = compare('wide', bySeed([1, 2, 3]), bySeed([1.5, 1, 3.4]), { margin: 0.01 });
    expect(verdictOf(wide, 1)).toBe('inconclusive');
    expect(wide.seedsNeeded === null || wide.seedsNeeded > 3).toBe(true);
  });
  it('rejects a margin that is not a positive number', () => {
    expect(() => compare('m', [1, 2], [1, 2], { margin: 0 })).toThrow(CompareError);
    expect(() => compare('m', [1, 2], [1, 2], { margin: NaN })).toThrow(/positive number/);
  });
  it('one value per arm has no interval and no verdict', () => {
    const c = compare('one', [1], [2]);
    expect(c.outcome).toBe('unresolved');
    expect(Number.isNaN(c.p)).toBe(true);
  });
  it('a correction that removes significance restates the verdict', () => {
    const strong = compare('s', bySeed([1, 2, 3, 4, 5]), bySeed([0, 1, 2, 3, 4.01]));
    const weak = compare('w', bySeed([1, 2, 3, 4]), bySeed([0.2, 1.8, 2.1, 3.5]));
    const nulls = Array.from({ length: 8 }, (_, k) => compare(`n${k}`, bySeed([1, 2, 3, 4 + k]), bySeed([1.5, 1.5, 3.5, 4])));
    expect(weak.outcome).toBe('higher');
    expect(weak.p).toBeGreaterThan(0.01); // BH at rank 2 of 10 multiplies by 5
    const f = (id: string, c: typeof weak): Finding => ({ id, claim: id, text: `${id}.`, verdict: verdictOf(c, 1), values: {}, comparisons: [c] });
    const out = adjustFindings([f('strong', strong), f('weak', weak), ...nulls.map((c, k) => f(`n${k}`, c))]);
    expect(out.multiplicity.comparisons).toBe(10);
    expect(out.findings[0].verdict).toBe('supported');
    expect(out.findings[1].verdict).toBe('inconclusive');
    expect(out.findings[1].verdictRaw).toBe('supported');
    expect(out.findings[1].text).toMatch(/Inconclusive after correction for 10 tests/);
    // Idempotent: a study re-correcting starts from the raw verdicts.
    const again = adjustFindings(out.findings);
    expect(again.findings[1].text.match(/after correction/g)).toHaveLength(1);
  });
});

describe('by simulation (seeded, no training)', () => {
  const rng = new Rng(1414);
  const draw = (n: number, mu = 0) => Array.from({ length: n }, () => mu + rng.normal());

  it('A/A comparisons are false positives 5% +- 1.5% of the time, paired and Welch, and BH keeps the family at 5%', () => {
    const runs = 4000;
    let fpPaired = 0;
    let fpWelch = 0;
    for (let i = 0; i < runs; i++) {
      if (compare('aa', bySeed(draw(5)), bySeed(draw(5))).p < 0.05) fpPaired++;
      if (compare('aa', draw(4), draw(7)).p < 0.05) fpWelch++;
    }
    expect(Math.abs(fpPaired / runs - 0.05)).toBeLessThan(0.015);
    expect(Math.abs(fpWelch / runs - 0.05)).toBeLessThan(0.015);
    // Families of 10 A/A tests: under the global null BH's false discovery rate equals the family-wise rate.
    let anyFalse = 0;
    const families = 1500;
    for (let k = 0; k < families; k++) {
      const p = Array.from({ length: 10 }, () => compare('aa', bySeed(draw(4)), bySeed(draw(4))).p);
      if (benjaminiHochberg(p).some((q) => q < 0.05)) anyFalse++;
    }
    expect(Math.abs(anyFalse / families - 0.05)).toBeLessThan(0.015);
  });

  it('a known effect is found with the power the formula predicts', () => {
    const delta = 1;
    const n = seedsFor(delta, 'paired');
    const predicted = powerOf(delta, n, 'paired');
    expect(predicted).toBeGreaterThanOrEqual(0.8);
    const runs = 3000;
    let hits = 0;
    for (let i = 0; i < runs; i++) if (compare('eff', bySeed(draw(n, delta)), bySeed(new Array<number>(n).fill(0))).outcome === 'higher') hits++;
    // The formula shifts a central t; the exact (noncentral) power differs by a few points at these sizes.
    expect(Math.abs(hits / runs - predicted)).toBeLessThan(0.05);
  });
});

describe('bootstrapCI', () => {
  it('is reproducible for a seed and covers the median of a sample', () => {
    const v = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7];
    const a = bootstrapCI(v, { seed: 7 });
    expect(bootstrapCI(v, { seed: 7 })).toEqual(a);
    expect(a.estimate).toBe(5);
    expect(a.lo).toBeLessThanOrEqual(5);
    expect(a.hi).toBeGreaterThanOrEqual(5);
    expect(bootstrapCI([], {}).n).toBe(0);
  });
  it('covers the true median about 95% of the time (within 90-99% for n = 30, percentile intervals run a little narrow)', () => {
    const rng = new Rng(99);
    let hit = 0;
    const runs = 300;
    for (let k = 0; k < runs; k++) {
      const ci = bootstrapCI(Array.from({ length: 30 }, () => rng.normal()), { seed: k, reps: 500 });
      if (ci.lo <= 0 && ci.hi >= 0) hit++;
    }
    expect(hit / runs).toBeGreaterThan(0.9);
    expect(hit / runs).toBeLessThan(0.99);
  });
});
