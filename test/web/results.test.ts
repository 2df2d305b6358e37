// The page's results loader in Node: bad files get messages naming the problem and what was expected; good ones get the report's figures.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPERIMENT_NAMES } from '../../src/lab/registry.js';
import { decorate } from '../../src/report/decorate.js';
import type { Figure } from '../../src/report/figure.js';
import { BUILDERS, figuresFor } from '../../src/report/specs/index.js';
import { ResultsFileError } from '../../web/src/results/errors.js';
import { loadResultsText } from '../../web/src/results/load.js';
import { PAGE_VERSION } from '../../web/src/results/version.js';
import { tinyRun } from './tiny-run.js';

const root = mkdtempSync(join(tmpdir(), 'bnlab-web-results-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let text: string;
beforeAll(() => {
  text = readFileSync(tinyRun(root), 'utf8');
}, 120_000);

/** Loads `body` as a file named `name` and returns the ResultsFileError it must raise. */
async function problem(body: string, name = 'results.json'): Promise<ResultsFileError> {
  try {
    await loadResultsText(body, name);
  } catch (err) {
    expect(err).toBeInstanceOf(ResultsFileError);
    const e = err as ResultsFileError;
    expect(e.file).toBe(name);
    expect(e.message.startsWith(`${name}: `)).toBe(true);
    // Every message ends by saying what the page wanted instead.
    expect(e.problem).toMatch(/[.?] Expected .+\.$/);
    return e;
  }
  throw new Error(`expected ${name} to be refused`);
}

describe('results loader', () => {
  it('loads a real tiny run: findings kept, the same decorated specs the report draws, nothing skipped', async () => {
    const run = await loadResultsText(text, 'results.json');
    expect(run.results.experiment).toBe('fig1');
    expect(run.results.findings.length).toBeGreaterThan(0);
    expect(run.info.claim.length).toBeGreaterThan(10);
    expect(run.notes).toEqual([]);
    expect(run.command).toBe('bnlab run fig1 --tiny --jobs 1');
    expect(run.skipped).toEqual([]);
    const report = figuresFor({ results: run.results, trials: run.results.trials }).filter((f): f is Figure => f.kind === 'figure');
    expect(run.figures.map((f) => f.id)).toEqual(report.map((f) => f.id));
    for (const [i, f] of run.figures.entries()) expect(f.spec).toEqual(decorate(report[i], run.command));
    expect(run.table.rows.length).toBe(2);
  });

  it('refuses empty, truncated and non-JSON files, saying which', async () => {
    expect((await problem('')).problem).toMatch(/^the file is empty/);
    // Any cut, including one right after a complete value ("...0.5]"), reads as truncated.
    for (let cut = 1; cut < text.length - 1; cut += 97) {
      expect((await problem(text.slice(0, cut))).problem, `cut at ${cut}`).toMatch(/^the JSON is truncated: it stops after \d+ characters/);
    }
    expect((await problem('<!DOCTYPE html><html>')).problem).toMatch(/^this is not JSON \(it starts with "<!DOCTYPE html><html>"\)/);
    expect((await problem('{"experiment": "fig1",, }')).problem).toMatch(/^the JSON is invalid/);
  });

  it('refuses JSON that is not a results file, naming the missing field', async () => {
    expect((await problem('[1, 2]')).problem).toMatch(/not a bnlab results file: expected a JSON object/);
    expect((await problem('{"experiment": "fig1"}')).problem).toMatch(/"trials" must be an array/);
    expect((await problem('{"experiment": "fig1", "trials": [{"seed": 0}]}')).problem).toMatch(/trials\[0\]\.arm must be a string/);
    const noMeta = JSON.parse(text) as Record<string, unknown>;
    delete noMeta.meta;
    expect((await problem(JSON.stringify(noMeta))).problem).toMatch(/"meta\.version" .* is missing/);
  });

  it("points at the right file when given a study's study.json or a run's config.json", async () => {
    const study = await problem(JSON.stringify({ experiments: ['fig1', 'lr'], createdAt: 'x', command: 'bnlab study' }), 'study.json');
    expect(study.problem).toMatch(/study's study\.json .*fig1, lr.*Expected one of the study's results\.json files/);
    const config = await problem(JSON.stringify({ experiment: 'fig1', config: {}, createdAt: 'x', command: '', version: '0.1.0' }), 'config.json');
    expect(config.problem).toMatch(/config\.json of a 'fig1' run, not its results/);
  });

  it('refuses an unknown experiment and a config from another version of the experiment; notes another bnlab version', async () => {
    const other = JSON.parse(text) as { experiment: string; config: Record<string, unknown>; meta: { version: string } };
    other.experiment = 'fig9';
    const unknown = await problem(JSON.stringify(other));
    expect(unknown.problem).toContain(`experiment named 'fig9', which this page does not know (written by bnlab ${PAGE_VERSION}, this page is ` +
      `bnlab ${PAGE_VERSION})`);
    expect(unknown.problem).toContain(`Expected results of one of ${EXPERIMENT_NAMES.join(', ')}.`);
    const old = JSON.parse(text) as typeof other;
    old.config.percentileUnits = 3;
    old.meta.version = '0.0.1';
    const e = await problem(JSON.stringify(old));
    expect(e.problem).toMatch(/its 'fig1' config does not match the 'fig1' experiment of this page \(unknown key 'percentileUnits' \(known keys: .*steps.*\)\): it comes from another version of the experiment \(written by bnlab 0\.0\.1/);
    const newer = JSON.parse(text) as typeof other;
    newer.meta.version = '9.9.9';
    const run = await loadResultsText(JSON.stringify(newer), 'results.json');
    expect(run.notes.join(' ')).toMatch(/written by bnlab 9\.9\.9, this page is bnlab/);
  });

  it('has figure builders for exactly the registered experiments', () => {
    expect(Object.keys(BUILDERS).sort()).toEqual([...EXPERIMENT_NAMES].sort());
  });

  it('bundles for the browser without Node modules (the page imports this code)', async () => {
    const entry = fileURLToPath(new URL('../../web/src/results/load.ts', import.meta.url));
    const out = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent',
      splitting: true, outdir: join(root, 'bundle') });
    expect(out.errors).toEqual([]);
  });
});
