// The compiled CLI end to end: bnlab run/study/list/demo, config errors, and resume after a kill (dist/ built by test/global-setup.ts).
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results } from '../../src/lab/results.js';
import { EXPERIMENT_NAMES } from '../../src/lab/registry.js';

const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'bnlab-cli-'));
}

function bnlab(args: string[], cwd = tmp()): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function results(dir: string): Results {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
}

function journalIds(dir: string): string[] {
  const path = join(dir, 'journal.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => (JSON.parse(l) as { trial: { id: string } }).trial.id);
}

describe('bnlab run', () => {
  it('runs an experiment on worker threads into --out with results, csv, summary and progress lines', () => {
    const out = join(tmp(), 'scales');
    const r = bnlab(['run', 'scales', '--tiny', '--jobs', '2', '--out', out, '--no-report']);
    expect(r.stderr).toMatch(/scales: 16 trials; .*2 jobs x 1 BLAS thread/);
    expect(r.stderr).toMatch(/scales \[16\/16\] 100% .*done in/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/scales: 16 trials \(16 run now/);
    expect(r.stdout).toMatch(/\[(supported|contradicted|inconclusive|mixed)\] Standardized inputs/);
    const res = results(out);
    expect(res.trials).toHaveLength(16);
    expect(res.meta.command).toBe(`bnlab run scales --tiny --jobs 2 --out ${out} --no-report`);
    for (const f of ['config.json', 'journal.jsonl', 'results.csv', 'summary.md']) expect(existsSync(join(out, f))).toBe(true);
  });

  it('rejects bad input with `bnlab: message` and exit code 2, never a stack trace', () => {
    const cases: [string[], RegExp][] = [
      [['run', 'fig1', '--tiny', '--set', 'stepz=3'], /^bnlab: fig1: bad config: unknown key 'stepz' \(known keys: dataset, seeds, steps, /],
      [['run', 'fig1', '--set', 'steps=abc'], /^bnlab: fig1: bad config: steps: steps must be a number \(got "abc"\)/],
      [['run', 'fig1', '--seeds', '0'], /^bnlab: --seeds expects a positive integer, got '0'/],
      [['run', 'nope'], /^bnlab: unknown experiment 'nope' \(known: fig1, /],
      [['run', 'fig1', '--tiny', '--full'], /^bnlab: choose one preset, got --tiny and --full/],
      [['run', '--resume', '/nonexistent/run'], /^bnlab: \/nonexistent\/run is not a bnlab run directory \(no config.json\)/],
      [['run', '--resume', '/nonexistent/run', '--steps', '5'], /^bnlab: --resume continues a run with the config it was started with; --steps cannot change it/],
      [['run', 'fig1', '--dataset', 'cifar'], /^bnlab: fig1: unknown dataset 'cifar' \(known: mnist-10k, fashion-mnist/],
      [['run', 'fig1', '--tiny', '--dataset', 'mnist', '--data', '/nonexistent/idx', '--jobs', '2', '--no-report'], /^bnlab: .*mnist/],
      [['study', '--tiny', '--only', 'fig1,nope'], /^bnlab: unknown experiment 'nope'/],
    ];
    for (const [args, message] of cases) {
      const r = bnlab(args);
      const what = `bnlab ${args.join(' ')}\n${r.stderr}`;
      expect(r.stderr.split('\n').find((l) => l.startsWith('bnlab:')) ?? '', what).toMatch(message);
      expect(r.code, what).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('resumes a killed run without repeating or losing a trial, matching an uninterrupted run', async () => {
    const root = tmp();
    const killed = join(root, 'killed');
    const args = ['run', 'fig1', '--tiny', '--seeds', '4', '--threads', '1', '--no-report', '--progress', 'plain'];
    const child = spawn(process.execPath, [MAIN, ...args, '--jobs', '2', '--out', killed], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let alive = true;
    const exited = new Promise<void>((resolve) => child.on('exit', () => ((alive = false), resolve())));
    // Kill it as soon as the first trial is in the journal (SIGKILL: no chance to clean up).
    for (let i = 0; i < 2400 && alive && journalIds(killed).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    await exited;
    const before = journalIds(killed);
    expect(before.length, stderr).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(8);
    expect(existsSync(join(killed, 'results.json'))).toBe(false);

    const resumed = bnlab(['run', '--resume', killed, '--no-report', '--progress', 'plain'], root);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`fig1: 8 trials \\(${before.length} already done, resuming\\)`));
    expect(resumed.stdout).toMatch(new RegExp(`\\(${8 - before.length} run now, ${before.length} from the journal`));
    const after = journalIds(killed);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(new Set(after).size).toBe(8);
    expect(after).toHaveLength(8);

    // The same run uninterrupted, inline (jobs 1): identical numbers, so worker and inline agree too.
    const straight = join(root, 'straight');
    expect(bnlab([...args, '--jobs', '1', '--out', straight], root).code).toBe(0);
    const a = results(killed);
    const b = results(straight);
    expect(a.config).toEqual(b.config);
    expect(a.trials.map((t) => [t.id, t.metrics, t.curves, t.diverged])).toEqual(b.trials.map((t) => [t.id, t.metrics, t.curves, t.diverged]));
    expect(a.findings).toEqual(b.findings);
  });
});

describe('bnlab run --resume DIR --seeds N (adding seeds)', () => {
  const key = (r: Results) => r.trials.map((t) => [t.id, t.metrics, t.curves, t.diverged]);

  it('runs only the new seeds and ends where a run with that many seeds from the start ends', () => {
    const root = tmp();
    const grown = join(root, 'grown');
    expect(bnlab(['run', 'cnn', '--tiny', '--seeds', '2', '--out', grown, '--no-report'], root).code).toBe(0);
    const r = bnlab(['run', '--resume', grown, '--seeds', '3', '--no-report', '--progress', 'plain'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cnn: 24 trials \(8 run now, 16 from the journal/);
    const straight = join(root, 'straight');
    expect(bnlab(['run', 'cnn', '--tiny', '--seeds', '3', '--out', straight, '--no-report'], root).code).toBe(0);
    const a = results(grown);
    const b = results(straight);
    expect(a.config).toEqual(b.config);
    expect(key(a)).toEqual(key(b));
    expect(a.findings).toEqual(b.findings);
    const added = JSON.parse(readFileSync(join(grown, 'config.json'), 'utf8')).seedsAdded;
    const command = `bnlab run --resume ${grown} --seeds 3 --no-report --progress plain`;
    expect(added).toEqual([expect.objectContaining({ from: 2, to: 3, command })]);
    // What the report says reproduces the run: the first command with the seeds it has now.
    expect(a.meta.command).toBe(`bnlab run cnn --tiny --out ${grown} --no-report --seeds 3`);
    // The same count again is a plain resume: nothing runs, nothing is recorded.
    expect(bnlab(['run', '--resume', grown, '--seeds', '3', '--no-report'], root).stdout).toMatch(/\(0 run now, 24 from the journal/);
    expect(JSON.parse(readFileSync(join(grown, 'config.json'), 'utf8')).seedsAdded).toHaveLength(1);
  });

  it('refuses fewer seeds, a --seeds auto run, a wrong experiment and a schema limit, changing nothing', () => {
    const root = tmp();
    const dir = join(root, 'fig1');
    expect(bnlab(['run', 'fig1', '--tiny', '--seeds', '2', '--out', dir, '--no-report'], root).code).toBe(0);
    const before = readFileSync(join(dir, 'config.json'), 'utf8');
    const cases: [string[], RegExp][] = [
      [['run', '--resume', dir, '--seeds', '1'], /^bnlab: .*fig1 already has 2 seeds per arm; --seeds with --resume only adds seeds \(give 2 or more/],
      [['run', 'lr', '--resume', dir, '--seeds', '3'], /^bnlab: .*fig1 holds a run of 'fig1', not 'lr'/],
      [['run', '--resume', dir, '--seeds', '3', '--steps', '5'], /^bnlab: --resume continues a run with the config it was started with; --steps/],
      [['run', '--resume', dir, '--seeds', '100000'], /^bnlab: --seeds 100000: fig1: bad config: seeds/],
    ];
    for (const [args, re] of cases) {
      const r = bnlab([...args, '--no-report'], root);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.code).toBe(2);
    }
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(before);
    expect(journalIds(dir)).toHaveLength(4);
    const auto = join(root, 'auto');
    expect(bnlab(['run', 'fig1', '--tiny', '--seeds', 'auto', '--max-seeds', '2', '--out', auto, '--no-report'], root).code).toBe(0);
    const r = bnlab(['run', '--resume', auto, '--seeds', '4', '--no-report'], root);
    expect(r.stderr).toMatch(/^bnlab: .*auto was started with --seeds auto \(it adds seeds itself, up to --max-seeds 2\); resume it without --seeds/);
  });

  it('adds seeds to every run of a study', () => {
    const dir = join(tmp(), 'study');
    expect(bnlab(['study', '--tiny', '--only', 'fig1,scales', '--seeds', '1', '--out', dir, '--no-report']).code).toBe(0);
    const r = bnlab(['study', '--resume', dir, '--seeds', '2', '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fig1: 4 trials \(2 run now, 2 from the journal/);
    expect(results(join(dir, 'scales')).config.seeds).toBe(2);
  });
});

describe('bnlab study, list, demo', () => {
  it('study runs every experiment into its own directory and writes one report', () => {
    const dir = join(tmp(), 'study');
    const r = bnlab(['study', '--tiny', '--out', dir, '--jobs', '2']);
    expect(r.stderr).toMatch(new RegExp(`^study: ${EXPERIMENT_NAMES.join(', ')}; writing `, 'm'));
    expect(r.code, r.stderr).toBe(0);
    for (const name of EXPERIMENT_NAMES) {
      const res = results(join(dir, name));
      expect(res.experiment).toBe(name);
      expect(res.trials.length).toBeGreaterThan(0);
      for (const t of res.trials) expect(Object.keys(t).sort()).toEqual(['arm', 'curves', 'diverged', 'divergedAt', 'durationMs', 'id', 'metrics',
        'params', 'seed']);
      expect(res.findings.length).toBeGreaterThan(0);
    }
    expect(JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8')).experiments).toEqual([...EXPERIMENT_NAMES]);
    expect(existsSync(join(dir, 'report', 'report.html'))).toBe(true);
    expect(r.stdout).toMatch(/report: .*report\.html/);
    // Resuming a finished study reruns nothing.
    const again = bnlab(['study', '--resume', dir, '--no-report']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/fig1: 4 trials \(0 run now, 4 from the journal/);
  });

  it('study --only runs a subset, and common flags apply where they fit', () => {
    const dir = join(tmp(), 'only');
    const r = bnlab(['study', '--tiny', '--only', 'scales,fig1', '--out', dir, '--seeds', '1', '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8')).experiments).toEqual(['fig1', 'scales']);
    expect(results(join(dir, 'fig1')).config.seeds).toBe(1);
    expect(results(join(dir, 'scales')).config.seeds).toBe(1);
  });

  it('list names every registered experiment with its claim (alias: experiments)', () => {
    const r = bnlab(['list']);
    expect(r.code).toBe(0);
    for (const name of EXPERIMENT_NAMES) expect(r.stdout).toMatch(new RegExp(`^${name} `, 'm'));
    expect(bnlab(['experiments', '--json']).stdout).toContain('"name": "fig1"');
  });

  it('demo trains on two moons and prints both accuracies', () => {
    const r = bnlab(['demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/with BN\s+test accuracy \d+\.\d%/);
    expect(r.stdout).toMatch(/without BN\s+test accuracy \d+\.\d%/);
  });
});
