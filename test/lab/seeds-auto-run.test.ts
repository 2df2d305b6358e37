// --seeds auto through the runner: seeds go only to the groups unresolved findings rest on, via the journal, resumable; bad input fails before
// anything runs.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compare, verdictOf } from '../../src/lab/compare.js';
import { trialId, type BaseConfig, type Experiment } from '../../src/lab/experiment.js';
import type { Finding, Trial } from '../../src/lab/results.js';
import { ConfigError, RunError } from '../../src/lab/runner/config.js';
import { createProgress } from '../../src/lab/runner/progress.js';
import { resumeRun, runExperiment } from '../../src/lab/runner/run.js';
import { Rng } from '../../src/tensor/rng.js';

const silent = { jobs: 1, progress: createProgress('silent') };
const tmp = () => mkdtempSync(join(tmpdir(), 'bnlab-seeds-auto-'));

/** Arm means: a vs b differ by a little (unresolved at 3 seeds), c vs d by a lot (resolved at once). */
const MEANS: Record<string, number> = { a: 0.55, b: 0.5, c: 0.9, d: 0.1 };

/** A trial-free experiment: each trial's score is its arm's mean plus seeded noise (shared by the pair on a seed). */
const toy: Experiment<BaseConfig> = {
  name: 'toy',
  title: 'toy',
  claim: 'a > b and c > d',
  context: 'test double',
  schema: z.object({ dataset: z.string(), seeds: z.number().int().min(1).max(1000) }).strict() as unknown as z.ZodType<BaseConfig>,
  presets: { tiny: { dataset: 'mnist-10k', seeds: 3 }, quick: { dataset: 'mnist-10k', seeds: 3 }, full: { dataset: 'mnist-10k', seeds: 3 } },
  trials: (c) =>
    ['a', 'b', 'c', 'd'].flatMap((arm) => Array.from({ length: c.seeds }, (_, seed) => ({ id: trialId(arm, seed), arm, seed, params: {} }))),
  runTrial: (spec) => {
    const shared = new Rng(1000 + spec.seed).normal() * 0.05;
    const own = new Rng(7 * spec.seed + spec.arm.charCodeAt(0)).normal() * 0.04;
    return { metrics: { score: MEANS[spec.arm] + shared + own }, curves: {}, diverged: false, divergedAt: null };
  },
  findings: (trials: Trial[]): Finding[] => {
    const by = (arm: string) => new Map(trials.filter((t) => t.arm === arm).map((t) => [t.seed, t.metrics.score]));
    const f = (id: string, x: string, y: string): Finding => {
      const c = compare(`${x} - ${y}`, by(x), by(y));
      return { id, claim: `${x} > ${y}`, text: `${id}.`, verdict: verdictOf(c, 1), values: {}, comparisons: [c] };
    };
    return [f('ab', 'a', 'b'), f('cd', 'c', 'd')];
  },
};

const seedsOf = (trials: Trial[], arm: string) => trials.filter((t) => t.arm === arm).map((t) => t.seed).sort((x, y) => x - y);

describe('--seeds auto in the runner', () => {
  it('adds seeds only to the groups an unresolved finding rests on, records the looks, and resumes to the same results', async () => {
    const dir = join(tmp(), 'run');
    const first = await runExperiment(toy, { dataset: 'mnist-10k', seeds: 3 }, dir, { ...silent, seedsAuto: { maxSeeds: 12 } });
    const r = first.results;
    const cd = r.findings.find((f) => f.id === 'cd')!;
    const ab = r.findings.find((f) => f.id === 'ab')!;
    expect(cd.verdict).toBe('supported');
    expect(cd.look).toBe(0);
    expect(cd.seedsUsed).toBe(3);
    expect(seedsOf(r.trials, 'c')).toEqual([0, 1, 2]);
    expect(seedsOf(r.trials, 'a').length).toBeGreaterThan(3);
    expect(seedsOf(r.trials, 'a')).toEqual(seedsOf(r.trials, 'b'));
    expect(ab.seedsUsed).toBe(seedsOf(r.trials, 'a').length);
    expect(r.multiplicity?.sequential?.looks.map((l) => l.seeds)).toEqual([3, 6, 12]);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).seedsAuto).toEqual({ maxSeeds: 12 });
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/\| cd \|.*\| 3 \(look 1\) \|/);
    // A kill after the first 8 journal lines: resume replays the looks and runs only what is missing.
    const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n');
    writeFileSync(join(dir, 'journal.jsonl'), journal.slice(0, 8).join('\n') + '\n');
    const again = await resumeRun(dir, silent, toy);
    expect(again.ran).toBe(r.trials.length - 8);
    expect(again.results.trials.map((t) => t.id)).toEqual(r.trials.map((t) => t.id));
    const summary = (fs: Finding[]) => fs.map((f) => [f.verdict, f.seedsUsed, f.look, f.text]);
    expect(summary(again.results.findings)).toEqual(summary(r.findings));
  });

  it('refuses bad input before anything is written', async () => {
    const base = tmp();
    const low = runExperiment(toy, { dataset: 'mnist-10k', seeds: 3 }, join(base, 'low'), { ...silent, seedsAuto: { maxSeeds: 2 } });
    await expect(low).rejects.toThrow(ConfigError);
    const huge = runExperiment(toy, { dataset: 'mnist-10k', seeds: 3 }, join(base, 'huge'), { ...silent, seedsAuto: { maxSeeds: 5000 } });
    await expect(huge).rejects.toThrow(/--max-seeds 5000/);
    expect(existsSync(join(base, 'low'))).toBe(false);
    expect(existsSync(join(base, 'huge'))).toBe(false);
    const fixed = join(base, 'fixed');
    await runExperiment(toy, { dataset: 'mnist-10k', seeds: 2 }, fixed, silent);
    const before = readFileSync(join(fixed, 'journal.jsonl'), 'utf8');
    await expect(resumeRun(fixed, { ...silent, seedsAuto: { maxSeeds: 6 } }, toy)).rejects.toThrow(RunError);
    await expect(resumeRun(fixed, { ...silent, seedsAuto: { maxSeeds: 6 } }, toy)).rejects.toThrow(/started with fixed seeds/);
    const auto = join(base, 'auto');
    await runExperiment(toy, { dataset: 'mnist-10k', seeds: 2 }, auto, { ...silent, seedsAuto: { maxSeeds: 4 } });
    await expect(resumeRun(auto, { ...silent, seedsAuto: { maxSeeds: 8 } }, toy)).rejects.toThrow(/--max-seeds 4, not 8/);
    expect(readFileSync(join(fixed, 'journal.jsonl'), 'utf8')).toBe(before);
  });
});
