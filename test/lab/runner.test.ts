// Runner tests: config resolution and validation errors, journal tearing, run directories, resume, divergence, registry.
import { describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { NonFiniteError } from '../../src/tensor/errors.js';
import type { BaseConfig, Experiment } from '../../src/lab/experiment.js';
import { trialId } from '../../src/lab/experiment.js';
import type { Results, Trial } from '../../src/lab/results.js';
import { Journal, readJournal } from '../../src/lab/runner/journal.js';
import { EXPERIMENTS, EXPERIMENT_NAMES } from '../../src/lab/registry.js';
import { ConfigError, parseSetValue, resolveConfig, validateConfig, withSeedsFlag } from '../../src/lab/runner/config.js';
import { resumeRun, runExperiment, runStudy, resumeStudy } from '../../src/lab/runner/run.js';
import { createProgress } from '../../src/lab/runner/progress.js';
import { stringifyResults } from '../../src/lab/runner/output.js';

const silent = { jobs: 1, progress: createProgress('silent') };

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'bnlab-runner-'));
}

/** A fast, deterministic fake experiment; counts its runTrial calls so resume can prove it skipped work. */
interface FakeConfig extends BaseConfig {
  steps: number;
  arms: string[];
  /** Arm whose trials blow up (NonFiniteError thrown out of runTrial). */
  nanArm: string | null;
}
let calls: string[] = [];
const fake: Experiment<FakeConfig> = {
  name: 'fake',
  title: 'fake',
  claim: 'a is better than b',
  context: 'test double',
  schema: z
    .object({
      dataset: z.string(),
      dataDir: z.string().optional(),
      seeds: z.number().int().min(1),
      steps: z.number().int().min(1, 'steps must be at least 1'),
      arms: z.array(z.string()).min(1),
      nanArm: z.string().nullable(),
    })
    .strict() as unknown as z.ZodType<FakeConfig>,
  presets: {
    tiny: { dataset: 'moons', seeds: 2, steps: 3, arms: ['a', 'b'], nanArm: null },
    quick: { dataset: 'moons', seeds: 3, steps: 5, arms: ['a', 'b'], nanArm: null },
    full: { dataset: 'moons', seeds: 5, steps: 9, arms: ['a', 'b'], nanArm: null },
  },
  trials: (c) => c.arms.flatMap((arm) => Array.from({ length: c.seeds }, (_, seed) => ({ id: trialId(arm, seed), arm, seed, params: {} }))),
  runTrial(spec, c, ctx) {
    calls.push(spec.id);
    if (spec.arm === c.nanArm) throw new NonFiniteError('loss became NaN');
    const curve: [number, number][] = [];
    for (let s = 0; s <= c.steps; s++) {
      curve.push([s, (spec.arm === 'a' ? 0.1 : 0.05) * s + 0.01 * spec.seed]);
      ctx.progress(s, c.steps);
    }
    return { metrics: { final: curve[curve.length - 1][1], none: null }, curves: { testAccuracy: curve }, diverged: false, divergedAt: null };
  },
  findings(trials) {
    const mean = (arm: string) => trials.filter((t) => t.arm === arm).reduce((s, t) => s + (t.metrics.final ?? 0),
      0) / trials.filter((t) => t.arm === arm).length;
    const verdict = mean('a') > mean('b') ? 'supported' : 'contradicted';
    return [{ id: 'f', claim: 'a > b', text: `a ${mean('a').toFixed(3)} vs b ${mean('b').toFixed(3)}`, verdict, values: { a: mean('a'),
      b: mean('b') } }];
  },
};
const fakeBase = fake as unknown as Experiment<BaseConfig>;
const nanConfig: FakeConfig = { ...fake.presets.tiny, nanArm: 'b' };

function readResults(dir: string): Results {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
}

describe('config resolution', () => {
  it('starts from the preset, applies flags, then --set values parsed as JSON', () => {
    const c = resolveConfig(fake, { preset: 'tiny', seeds: 4, steps: 7, sets: ['arms=[x,y,z]', 'nanArm="z"'] });
    expect(c).toMatchObject({ seeds: 4, steps: 7, arms: ['x', 'y', 'z'], nanArm: 'z', dataset: 'moons' });
    expect(resolveConfig(fake, { sets: ['steps=11'] }).steps).toBe(11);
    expect(resolveConfig(fake, {}).seeds).toBe(3);
  });

  it('sets the seeds of a recorded command line (a run given more seeds later)', () => {
    expect(withSeedsFlag('bnlab run cnn --full --out x', 5)).toBe('bnlab run cnn --full --out x --seeds 5');
    expect(withSeedsFlag('bnlab run fig1 --seeds 2 --tiny', 4)).toBe('bnlab run fig1 --tiny --seeds 4');
    expect(withSeedsFlag('bnlab study --seeds=1 --quick', 3)).toBe('bnlab study --quick --seeds 3');
    expect(withSeedsFlag('', 3)).toBe('');
  });

  it('parses --set values: JSON, bare-word lists, plain strings', () => {
    expect(parseSetValue('[0.1,1]')).toEqual([0.1, 1]);
    expect(parseSetValue('2000')).toBe(2000);
    expect(parseSetValue('true')).toBe(true);
    expect(parseSetValue('[bn, plain]')).toEqual(['bn', 'plain']);
    expect(parseSetValue('[]')).toEqual([]);
    expect(parseSetValue('fashion-mnist')).toBe('fashion-mnist');
    expect(parseSetValue('null')).toBe(null);
  });

  it('rejects unknown keys, naming them and the known ones', () => {
    expect(() => resolveConfig(fake, { sets: ['stepz=3'] })).toThrow(ConfigError);
    expect(() => resolveConfig(fake, { sets: ['stepz=3'] })).toThrow(/fake: bad config: unknown key 'stepz' \(known keys: dataset, seeds, steps, arms, nanArm\)/);
  });

  it('rejects bad values, naming the key, what was expected and what was given', () => {
    expect(() => resolveConfig(fake, { sets: ['steps=0'] })).toThrow(/steps: steps must be at least 1 \(got 0\)/);
    expect(() => resolveConfig(fake, { sets: ['steps=abc'] })).toThrow(/steps: Expected number, received string \(got "abc"\)/);
    expect(() => resolveConfig(fake, { sets: ['nokey'] })).toThrow(/--set expects key=value/);
    expect(() => resolveConfig(fake, { dataset: 'nope' })).toThrow(/unknown dataset 'nope' \(known: mnist-10k, /);
    expect(() => resolveConfig(fake, { dataDir: '/x' })).toThrow(/--data \/x needs --dataset fashion-mnist or --dataset mnist/);
    expect(resolveConfig(fake, { dataset: 'mnist', dataDir: '/x' })).toMatchObject({ dataset: 'mnist', dataDir: '/x' });
    expect(() => validateConfig(EXPERIMENTS.fig1, { ...EXPERIMENTS.fig1.presets.tiny, seeds: 1.5 })).toThrow(/fig1: bad config: seeds: seeds must be an integer \(got 1.5\)/);
  });

  it('in a study, flags that do not fit an experiment are skipped instead of failing', () => {
    const scales = EXPERIMENTS.scales;
    expect(() => resolveConfig(scales, { dataset: 'fashion-mnist' })).toThrow(/dataset must be 'scales'/);
    expect(resolveConfig(scales, { dataset: 'fashion-mnist', lenient: true }).dataset).toBe('scales');
    expect(resolveConfig(scales, { sets: ['probeUnits=2'], lenient: true })).toEqual(scales.presets.quick);
  });
});

describe('registry', () => {
  it('maps each name to the experiment of that name, and every preset validates', () => {
    for (const name of EXPERIMENT_NAMES) {
      const e = EXPERIMENTS[name];
      expect(e.name).toBe(name);
      for (const p of ['tiny', 'quick', 'full'] as const) {
        expect(validateConfig(e, e.presets[p])).toEqual(e.presets[p]);
        const ids = e.trials(e.presets[p]).map((t) => t.id);
        expect(new Set(ids).size).toBe(ids.length);
      }
    }
  });
});

describe('journal', () => {
  const trial = (id: string): Trial => ({ id, arm: 'a', seed: 0, params: {}, metrics: { m: 1 }, curves: {}, diverged: false, divergedAt: null,
    durationMs: 1 });

  it('drops a torn last line (a kill mid-write) and truncates it before appending', () => {
    const path = join(tmp(), 'journal.jsonl');
    const j = new Journal(path);
    j.append(trial('t1'));
    j.append(trial('t2'));
    j.close();
    appendFileSync(path, '{"v":1,"trial":{"id":"t3","ar');
    expect(readJournal(path).trials.map((t) => t.id)).toEqual(['t1', 't2']);
    const j2 = new Journal(path);
    j2.append(trial('t3'));
    j2.close();
    expect(readJournal(path).trials.map((t) => t.id)).toEqual(['t1', 't2', 't3']);
  });

  it('refuses a corrupted line in the middle', () => {
    const path = join(tmp(), 'journal.jsonl');
    writeFileSync(path, `${JSON.stringify({ v: 1, trial: trial('t1') })}\nnot json\n${JSON.stringify({ v: 1, trial: trial('t2') })}\n`);
    expect(() => readJournal(path)).toThrow(/line 2 is not valid JSON/);
  });
});

describe('runs', () => {
  it('writes config.json, journal.jsonl, results.json, results.csv and summary.md', async () => {
    const dir = join(tmp(), 'run');
    calls = [];
    const out = await runExperiment(fakeBase, fake.presets.tiny, dir, { ...silent, command: 'bnlab run fake' });
    for (const f of ['config.json', 'journal.jsonl', 'results.json', 'results.csv', 'summary.md']) expect(existsSync(join(dir, f))).toBe(true);
    const r = readResults(dir);
    expect(r.experiment).toBe('fake');
    expect(r.config).toEqual(fake.presets.tiny);
    expect(r.trials.map((t) => t.id)).toEqual(['a|seed=0', 'a|seed=1', 'b|seed=0', 'b|seed=1']);
    expect(r.trials[0]).toMatchObject({ arm: 'a', seed: 0, params: {}, diverged: false, divergedAt: null });
    expect(r.trials[1].curves.testAccuracy[3][0]).toBe(3);
    expect(r.trials[1].curves.testAccuracy[3][1]).toBeCloseTo(0.31, 12);
    expect(r.findings[0]).toMatchObject({ id: 'f', verdict: 'supported' });
    expect(r.meta).toMatchObject({ command: 'bnlab run fake', dataset: 'moons' });
    expect(out.ran).toBe(4);
    const csv = readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('id,arm,seed,final,none,diverged,divergedAt,durationMs');
    expect(csv).toHaveLength(5);
    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(md).toContain('**supported** (f): a 0.305 vs b 0.155');
    expect(md).toMatch(/\| a \| 2 \| 0 \| 0\.305 ± 0\.06353 \| n\/a \|/);
    // A second run into the same directory is refused: it would mix two runs' journals.
    await expect(runExperiment(fakeBase, fake.presets.tiny, dir, silent)).rejects.toThrow(/already holds a run .*; continue it with --resume/);
  });

  it('resumes from the journal without repeating or losing a finished trial', async () => {
    const full = join(tmp(), 'full');
    await runExperiment(fakeBase, fake.presets.quick, full, silent);
    // Simulate a kill after 2 trials: same config, journal holding only its first 2 lines (plus a torn third).
    const part = join(tmp(), 'part');
    calls = [];
    await runExperiment(fakeBase, fake.presets.quick, part, silent);
    const lines = readFileSync(join(part, 'journal.jsonl'), 'utf8').split('\n');
    writeFileSync(join(part, 'journal.jsonl'), `${lines[0]}\n${lines[1]}\n${lines[2].slice(0, 20)}`);
    calls = [];
    const out = await resumeRun(part, silent, fakeBase);
    expect(out.resumed).toBe(2);
    expect(out.ran).toBe(4);
    expect(calls).toEqual(['a|seed=2', 'b|seed=0', 'b|seed=1', 'b|seed=2']);
    const a = readResults(full);
    const b = readResults(part);
    expect(b.trials.map((t) => [t.id, t.metrics, t.curves])).toEqual(a.trials.map((t) => [t.id, t.metrics, t.curves]));
    expect(b.findings).toEqual(a.findings);
    expect(readJournal(join(part, 'journal.jsonl')).trials).toHaveLength(6);
    // Resuming a finished run runs nothing and rewrites the same results.
    calls = [];
    expect((await resumeRun(part, silent, fakeBase)).ran).toBe(0);
    expect(calls).toEqual([]);
  });

  it('records a trial that blows up as diverged and goes on', async () => {
    const dir = join(tmp(), 'nan');
    await runExperiment(fake, nanConfig, dir, silent);
    const r = readResults(dir);
    expect(r.trials.map((t) => t.diverged)).toEqual([false, false, true, true]);
    expect(r.trials[2]).toMatchObject({ arm: 'b', diverged: true, divergedAt: null, metrics: {} });
  });

  it('records a real divergence (raw inputs at 10^4 scale) with its step', async () => {
    const scales = EXPERIMENTS.scales;
    const config = resolveConfig(scales, { preset: 'tiny', sets: ['arms=[raw]', 'lrs=[1]'] });
    const dir = join(tmp(), 'div');
    const out = await runExperiment(scales, config, dir, silent);
    expect(out.results.trials).toHaveLength(2);
    for (const t of out.results.trials) {
      expect(t.diverged).toBe(true);
      expect(t.divergedAt).toBeGreaterThanOrEqual(1);
      expect(t.metrics.stepsToTarget).toBeNull();
    }
    expect(out.results.findings.find((f) => f.id === 'lr-range')?.text).toMatch(/diverged at 1/);
  });

  it('runs a study: one directory per experiment, resumable as a whole', async () => {
    const dir = join(tmp(), 'study');
    const plan = [{ exp: fakeBase, config: fake.presets.tiny }];
    const out = await runStudy(plan, dir, silent);
    expect(out.runs.map((r) => r.dir)).toEqual([join(dir, 'fake')]);
    expect(existsSync(join(dir, 'study.json'))).toBe(true);
    expect(existsSync(join(dir, 'fake', 'results.json'))).toBe(true);
    // resumeStudy looks experiments up in the registry, which has no 'fake'.
    await expect(resumeStudy(dir, silent)).rejects.toThrow(/unknown experiment 'fake'/);
  });

  it('prints plain progress lines, each experiment of a study an equal share of the work', () => {
    const lines: string[] = [];
    const p = createProgress('plain', { write: (l) => lines.push(l), everySec: 0 });
    const t = (id: string): Trial => ({ id, arm: 'a', seed: 0, params: {}, metrics: {}, curves: {}, diverged: id === 'y',
      divergedAt: id === 'y' ? 3 : null, durationMs: 1500 });
    p.begin('study', 5, 0, 'ts', { big: { total: 1, done: 0 }, small: { total: 4, done: 0 } });
    p.trialDone(t('x'), 'big');
    p.trialDone(t('y'), 'small');
    p.end();
    expect(lines).toEqual(['study: 5 trials; ts', expect.stringMatching(/^study \[1\/5\] 50% big x in 1\.5s; ETA \d+s$/), expect.stringMatching(/^study \[2\/5\] 63% small y in 1\.5s, diverged at step 3; ETA \d+s$/)]);
  });

  it('keeps results.json readable: [step, value] points on one line, strings untouched', () => {
    const text = stringifyResults({ curves: { a: [[0, 0.5], [10, 0.75]] }, text: 'lrs [0.1,\n1]', empty: [] });
    expect(text).toContain('"a": [\n      [0, 0.5],\n      [10, 0.75]\n    ]');
    expect(JSON.parse(text)).toEqual({ curves: { a: [[0, 0.5], [10, 0.75]] }, text: 'lrs [0.1,\n1]', empty: [] });
  });
});
