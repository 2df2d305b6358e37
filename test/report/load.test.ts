// Bad run directories fail with a ReportError naming the file; good ones load with defaults filled in.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRun } from '../../src/report/load.js';
import { ReportError } from '../../src/report/errors.js';
import { BnlabError } from '../../src/tensor/errors.js';
import { fig1, writeRun } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'bnlab-report-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function expectReportError(fn: () => unknown, file: string, words: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ReportError);
    expect(err).toBeInstanceOf(BnlabError);
    expect((err as ReportError).file).toBe(file);
    expect((err as Error).message.startsWith(file)).toBe(true);
    expect((err as Error).message).toMatch(words);
    return;
  }
  throw new Error('expected a ReportError');
}

describe('loadRun', () => {
  it('loads a run and keeps its trials', () => {
    const dir = writeRun(root, 'ok', fig1());
    const run = loadRun(dir);
    expect(run.results.experiment).toBe('fig1');
    expect(run.results.trials).toHaveLength(6);
    expect(run.results.trials[0].curves['unit0.p50'].length).toBeGreaterThan(3);
  });

  it('names a missing directory', () => {
    const dir = join(root, 'nope');
    expectReportError(() => loadRun(dir), dir, /no such run directory/);
  });

  it('names a missing results.json', () => {
    const dir = join(root, 'empty');
    mkdirSync(dir);
    expectReportError(() => loadRun(dir), join(dir, 'results.json'), /missing/);
  });

  it('names a corrupt results.json', () => {
    const dir = join(root, 'corrupt');
    mkdirSync(dir);
    writeFileSync(join(dir, 'results.json'), '{"experiment": "fig1", "trials": [');
    expectReportError(() => loadRun(dir), join(dir, 'results.json'), /corrupt JSON/);
  });

  it('names a results.json of the wrong shape', () => {
    const dir = join(root, 'shape');
    mkdirSync(dir);
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ experiment: 'fig1', trials: 'none' }));
    expectReportError(() => loadRun(dir), join(dir, 'results.json'), /"trials" must be an array/);
  });

  it('turns JSON nulls in curves into NaN and fills a missing meta', () => {
    const dir = join(root, 'nulls');
    mkdirSync(dir);
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ experiment: 'x', trials: [{ arm: 'a', seed: 0, curves: { c: [[0, null], [1,
      2]] } }] }));
    const r = loadRun(dir).results;
    expect(Number.isNaN(r.trials[0].curves.c[0][1])).toBe(true);
    expect(r.meta.command).toBe('');
    expect(r.findings).toEqual([]);
  });
});
