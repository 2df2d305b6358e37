// writeReport on synthetic runs of all nine experiments: files written, HTML self-contained, summary.md links resolve, bad input writes nothing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultOutDir, writeReport, commandOf, ReportError, type ReportFiles } from '../../src/report/index.js';
import { FIXTURES, writeRun } from './fixtures.js';
import { decodePng, pngSize } from './png.js';
import { markdownLinks } from './markdown-links.js';

const root = mkdtempSync(join(tmpdir(), 'bnlab-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeReport (all experiments, synthetic fixtures)', () => {
  let files: ReportFiles;
  let html: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    for (const [name, make] of Object.entries(FIXTURES)) dirs.push(writeRun(join(root, 'study'), name, make()));
    files = await writeReport(dirs);
    html = readFileSync(files.html, 'utf8');
  });

  it('writes report.html, summary.md and one PNG per figure next to the runs', () => {
    expect(dirname(files.html)).toBe(join(root, 'study', 'report'));
    expect(existsSync(files.summary)).toBe(true);
    expect(files.pngs).toHaveLength(19);
    expect(readdirSync(join(root, 'study', 'report', 'figures')).sort()).toEqual(files.pngs.map((p) => p.split('/').pop()).sort());
    for (const p of files.pngs) {
      const { width, height } = pngSize(readFileSync(p));
      expect(width).toBeGreaterThan(600);
      expect(height).toBeGreaterThan(300);
    }
    // A full decode of one (the decoder is plain JavaScript: all 19 would cost seconds).
    expect(decodePng(readFileSync(files.pngs[0])).width).toBe(pngSize(readFileSync(files.pngs[0])).width);
  });

  it('inlines one non-empty SVG per figure and references nothing outside the page', () => {
    const figures = [...html.matchAll(/<figure class="chart"[^>]*>\n(<svg[\s\S]*?<\/svg>)/g)];
    expect(figures).toHaveLength(19);
    for (const [, svg] of figures) expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(3);
    // No scripts to run, no stylesheets, images or fonts to fetch: only the embedded JSON specs.
    expect(html).not.toMatch(/<script(?![^>]*type="application\/json")/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\((?!#)/);
  });

  it('keeps element ids unique across the inlined SVGs (clip paths must not cross figures)', () => {
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(19);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [, ref] of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(ref);
  });

  it('shows findings with verdicts and the command per run', () => {
    expect(html).toContain('BN speeds up convergence');
    expect(html).toMatch(/class="verdict"[^>]*>supported/);
    expect(html).toContain('bnlab run fig1 --tiny');
  });

  it('writes summary.md whose links all resolve', () => {
    const md = readFileSync(files.summary, 'utf8');
    const links = markdownLinks(md);
    expect(links.length).toBe(19);
    for (const l of links) expect(existsSync(resolve(dirname(files.summary), l)), l).toBe(true);
    expect(md).toContain('**SUPPORTED**');
  });
});

describe('writeReport input errors', () => {
  it('throws a ReportError naming the bad directory and writes nothing', async () => {
    const good = writeRun(join(root, 'mixed'), 'fig1', FIXTURES.fig1());
    const bad = join(root, 'mixed', 'missing');
    await expect(writeReport([good, bad])).rejects.toThrow(ReportError);
    await expect(writeReport([good, bad])).rejects.toThrow(bad);
    expect(existsSync(join(root, 'mixed', 'report'))).toBe(false);
  });

  it('refuses an empty list', async () => {
    await expect(writeReport([])).rejects.toThrow(ReportError);
  });
});

describe('report paths and commands', () => {
  it('puts a single run report inside the run, several next to them', () => {
    expect(defaultOutDir(['/a/b/run1'])).toBe('/a/b/run1/report');
    expect(defaultOutDir(['/a/b/run1', '/a/b/run2'])).toBe('/a/b/report');
    expect(defaultOutDir(['/a/x/run1', '/a/y/run2'])).toBe('/a/report');
  });

  it('shows the command a user types', () => {
    const run = (command: string) => ({ dir: '/r', results: { ...FIXTURES.fig1(), meta: { ...FIXTURES.fig1().meta, command } } });
    expect(commandOf(run('bnlab run fig1 --tiny'))).toBe('bnlab run fig1 --tiny');
    expect(commandOf(run('/usr/bin/node /x/dist/src/cli/main.js run lr --quick'))).toBe('bnlab run lr --quick');
    expect(commandOf(run(''))).toBe('bnlab run fig1');
    expect(commandOf(run('bnlab run fig1 --tiny --out /tmp/x --progress silent'))).toBe('bnlab run fig1 --tiny');
    expect(commandOf(run('bnlab study --tiny --only fig1,lr --out=/tmp/s --seeds 2'))).toBe('bnlab run fig1 --tiny --seeds 2');
  });
});
