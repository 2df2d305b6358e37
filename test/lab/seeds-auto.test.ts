// --seeds auto's rule by simulation (seeded A/A families, no training), its look schedule, the dependency probe and its flags.
import { describe, expect, it } from 'vitest';
import { compare, verdictOf } from '../../src/lab/compare.js';
import { dependencies } from '../../src/lab/dependencies.js';
import type { Finding, Trial } from '../../src/lab/results.js';
import { decideLook, findingKeys, lookSchedule, type Look } from '../../src/lab/sequential.js';
import { seedsFlags } from '../../src/lab/runner/seeds-auto.js';
import { Rng } from '../../src/tensor/rng.js';

const bySeed = (v: readonly number[]) => new Map(v.map((x, i) => [i, x]));

/**
 * One simulated --seeds auto procedure over a family of `m` comparisons whose arms share one distribution (plus a
 * per-seed effect both arms share, as a shared init draw would): data for every seed up to the cap drawn upfront,
 * each look sees the first n_k seeds. Returns whether any finding ended supported or contradicted: a false positive.
 */
function simulate(rng: Rng, m: number, looks: readonly Look[], shift = 0): { falsePositive: boolean; hits: number } {
  const cap = looks[looks.length - 1].seeds;
  const data = Array.from({ length: m }, () => {
    const shared = Array.from({ length: cap }, () => rng.normal());
    return { a: shared.map((s) => s + shift + rng.normal()), b: shared.map((s) => s + rng.normal()) };
  });
  const decided = new Map<string, Finding>();
  let last: Finding[] = [];
  for (let k = 0; k < looks.length; k++) {
    const n = looks[k].seeds;
    const family = data.map((d, i): Finding => {
      const c = compare(`c${i}`, bySeed(d.a.slice(0, n)), bySeed(d.b.slice(0, n)));
      return { id: `f${i}`, claim: 'a > b', text: 'x.', verdict: verdictOf(c, 1), values: {}, comparisons: [c] };
    });
    const d = decideLook(family, findingKeys(family), { k, looks, maxSeeds: cap, family: 'run', decided });
    last = d.findings;
    if (!d.open.some(Boolean)) break;
  }
  const hits = last.filter((f) => f.verdict === 'supported').length;
  return { falsePositive: last.some((f) => f.verdict === 'supported' || f.verdict === 'contradicted'), hits };
}

describe('lookSchedule', () => {
  it('doubles from the configured seeds to the cap, and the levels sum to 5% in proportion to the seeds added', () => {
    const l = lookSchedule(3, 12);
    expect(l.map((x) => x.seeds)).toEqual([3, 6, 12]);
    expect(l.map((x) => x.alpha)).toEqual([0.0125, 0.0125, 0.025]);
    const odd = lookSchedule(3, 10);
    expect(odd.map((x) => x.seeds)).toEqual([3, 6, 10]);
    expect(odd.reduce((a, x) => a + x.alpha, 0)).toBeCloseTo(0.05, 12);
    expect(lookSchedule(5, 5)).toEqual([{ seeds: 5, alpha: 0.05 }]);
    expect(() => lookSchedule(4, 3)).toThrow(/start <= maxSeeds/);
  });
});

describe('the auto procedure by simulation (seeded A/A, no training)', () => {
  const SIMS = 3000;
  // 3 standard errors of a rate near 5% over SIMS runs: the bound a correct rule must stay within.
  const slack = 3 * Math.sqrt((0.05 * 0.95) / SIMS);

  it('keeps the false-positive rate of one finding within 5% over looks at 3, 6 and 12 seeds', () => {
    const rng = new Rng(2014);
    const looks = lookSchedule(3, 12);
    let fp = 0;
    for (let i = 0; i < SIMS; i++) if (simulate(rng, 1, looks).falsePositive) fp++;
    if (process.env.BNLAB_SIM_LOG) console.log(`false-positive rate ${fp / SIMS}`);
    expect(fp / SIMS).toBeLessThan(0.05 + slack);
  });

  it('keeps the family-wise rate of 5 A/A findings (BH at each look) within 5%', () => {
    const rng = new Rng(2015);
    const looks = lookSchedule(3, 12);
    let fp = 0;
    for (let i = 0; i < SIMS; i++) if (simulate(rng, 5, looks).falsePositive) fp++;
    if (process.env.BNLAB_SIM_LOG) console.log(`false-positive rate ${fp / SIMS}`);
    expect(fp / SIMS).toBeLessThan(0.05 + slack);
  });

  it('whereas testing every look at 5% (naive optional stopping) inflates it: the simulation can see a broken rule', () => {
    const rng = new Rng(2016);
    const naive = lookSchedule(3, 12).map((l) => ({ ...l, alpha: 0.05 }));
    let fp = 0;
    for (let i = 0; i < SIMS; i++) if (simulate(rng, 1, naive).falsePositive) fp++;
    if (process.env.BNLAB_SIM_LOG) console.log(`naive false-positive rate ${fp / SIMS}`);
    expect(fp / SIMS).toBeGreaterThan(0.05 + slack);
  });

  it('still finds a real effect: power at the cap beats a fixed 3-seed run', () => {
    const rng = new Rng(2017);
    let auto = 0;
    let fixed = 0;
    const runs = 1000;
    for (let i = 0; i < runs; i++) {
      auto += simulate(rng, 1, lookSchedule(3, 12), 1).hits;
      fixed += simulate(rng, 1, lookSchedule(3, 3), 1).hits;
    }
    if (process.env.BNLAB_SIM_LOG) console.log(`power auto ${auto / runs} fixed ${fixed / runs}`);
    expect(auto / runs).toBeGreaterThan(fixed / runs + 0.2);
  });
});

describe('decideLook', () => {
  it('keeps the verdict of the first look that resolves a finding, with its seeds and look', () => {
    const looks = lookSchedule(4, 8);
    const decided = new Map<string, Finding>();
    const mk = (a: number[], b: number[]): Finding[] => {
      const c = compare('c', bySeed(a), bySeed(b));
      return [{ id: 'f', claim: 'a > b', text: 't.', verdict: verdictOf(c, 1), values: {}, comparisons: [c] }];
    };
    const first = decideLook(mk([5, 6, 7, 8], [1, 2, 3, 4.1]), ['f'], { k: 0, looks, maxSeeds: 8, family: 'run', decided });
    expect(first.findings[0].verdict).toBe('supported');
    expect(first.findings[0].seedsUsed).toBe(4);
    expect(first.open).toEqual([false]);
    // Later data that would not resolve it does not undo the decision.
    const later = decideLook(mk([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8.5]), ['f'], { k: 1, looks, maxSeeds: 8, family: 'run', decided });
    expect(later.findings[0].verdict).toBe('supported');
    expect(later.findings[0].look).toBe(0);
    expect(later.multiplicity.sequential?.look).toBe(1);
  });
  it('restates a 5% verdict that fails the look level, with the seeds that would resolve it', () => {
    const looks = lookSchedule(3, 12);
    const c = compare('c', bySeed([1.2, 2.3, 3.1, 4.4]), bySeed([1, 2, 3, 4]));
    expect(c.p).toBeLessThan(0.05);
    expect(c.p).toBeGreaterThan(0.0125);
    const f: Finding = { id: 'f', claim: 'a > b', text: 't.', verdict: verdictOf(c, 1), values: {}, comparisons: [c] };
    const d = decideLook([f], ['f'], { k: 0, looks, maxSeeds: 12, family: 'run', decided: new Map() });
    expect(d.findings[0].verdict).toBe('inconclusive');
    expect(d.findings[0].text).toMatch(/at level 0\.0125 \(look 1 of 3\).*about \d+ seeds would resolve it/);
    expect(d.findings[0].comparisons![0].seedsNeeded).toBeGreaterThan(4);
  });
});

describe('dependencies', () => {
  const trial = (arm: string, seed: number, lr: number, acc: number): Trial => ({
    id: `${arm}|${seed}|${lr}`, arm, seed, params: { lr }, metrics: { acc }, curves: {}, diverged: false, divergedAt: null, durationMs: 0,
  });
  const trials = [0, 1, 2].flatMap((s) => [
    trial('bn', s, 0.1, 0.9 + s / 100), trial('plain', s, 0.1, 0.8 + s / 50), trial('bn', s, 1, 0.5 + s / 30), trial('plain', s, 1, 0.1),
  ]);
  const at = (ts: Trial[], arm: string, lr: number) => bySeed(ts.filter((t) => t.arm === arm && t.params.lr === lr).map((t) => t.metrics.acc!));
  const f = (ts: Trial[], id: string, lr: number): Finding => {
    const c = compare(id, at(ts, 'bn', lr), at(ts, 'plain', lr));
    return { id, claim: id, text: id, verdict: verdictOf(c, 1), values: {}, comparisons: [c] };
  };
  it('finds the groups each finding rests on by dropping one trial at a time', () => {
    const d = dependencies(trials, (ts) => [f(ts, 'small', 0.1), f(ts, 'large', 1)], ['small', 'large']);
    expect([...d.get('small')!].sort()).toEqual(['bn (lr=0.1)', 'plain (lr=0.1)']);
    expect([...d.get('large')!].sort()).toEqual(['bn (lr=1)', 'plain (lr=1)']);
  });
  it('counts a group whose missing trial makes the findings throw (the safe side)', () => {
    const strict = (ts: Trial[]) => {
      if (ts.filter((t) => t.params.lr === 1).length < 6) throw new Error('needs every lr=1 trial');
      return [f(ts, 'small', 0.1)];
    };
    expect([...dependencies(trials, strict, ['small']).get('small')!].sort()).toEqual(['bn (lr=0.1)', 'bn (lr=1)', 'plain (lr=0.1)', 'plain (lr=1)']);
  });
});

describe('--seeds and --max-seeds', () => {
  it('accepts N or auto with a cap, and rejects the rest with one clear error each', () => {
    expect(seedsFlags('4', undefined)).toEqual({ seeds: 4 });
    expect(seedsFlags('auto', '12')).toEqual({ auto: { maxSeeds: 12 } });
    expect(seedsFlags(undefined, undefined)).toEqual({ seeds: undefined });
    expect(() => seedsFlags('auto', undefined)).toThrow(/--seeds auto needs --max-seeds/);
    expect(() => seedsFlags('auto', '0')).toThrow(/--max-seeds expects a positive integer, got '0'/);
    expect(() => seedsFlags('auto', 'ten')).toThrow(/--max-seeds expects a positive integer/);
    expect(() => seedsFlags('3', '12')).toThrow(/--max-seeds 12 only applies with --seeds auto/);
    expect(() => seedsFlags('many', undefined)).toThrow(/--seeds expects a positive integer/);
  });
});
