// `bnlab report` end to end through the compiled command (dist/ built by test/global-setup.ts): output paths, input errors as `bnlab: <file>: ...`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, writeRun } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'bnlab-report-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function bnlab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bnlab report', () => {
  it('writes the report into <run>/report and prints the paths', () => {
    const dir = writeRun(root, 'lr', FIXTURES.lr());
    const r = bnlab(['report', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(join(dir, 'report', 'report.html'));
    expect(r.stdout).toMatch(/figures: 2 PNGs/);
    expect(existsSync(join(dir, 'report', 'figures', 'lr-accuracy-vs-lr.png'))).toBe(true);
  });

  it('honours --out for several runs', () => {
    const a = writeRun(join(root, 'two'), 'fig1', FIXTURES.fig1());
    const b = writeRun(join(root, 'two'), 'init', FIXTURES.init());
    const out = join(root, 'out');
    const r = bnlab(['report', a, b, '--out', out]);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'summary.md'))).toBe(true);
    expect(existsSync(join(out, 'figures', 'init-heatmap.png'))).toBe(true);
  });

  it('names a missing run directory', () => {
    const dir = join(root, 'nope');
    const r = bnlab(['report', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`bnlab: ${dir}: no such run directory`);
  });

  it('names a directory without results.json', () => {
    const dir = join(root, 'empty');
    mkdirSync(dir);
    const r = bnlab(['report', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`bnlab: ${join(dir, 'results.json')}: missing`);
  });

  it('names a corrupt results.json', () => {
    const dir = join(root, 'corrupt');
    mkdirSync(dir);
    writeFileSync(join(dir, 'results.json'), '{"experiment": ');
    const r = bnlab(['report', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`bnlab: ${join(dir, 'results.json')}: corrupt JSON`);
  });

  it('rejects a bad --scale', () => {
    const dir = writeRun(root, 'scale', FIXTURES.fig1());
    const r = bnlab(['report', dir, '--scale', 'big']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--scale expects a number');
  });
});
