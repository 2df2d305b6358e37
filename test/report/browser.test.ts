// Real tiny runs of every experiment -> report -> headless Chromium: no console errors, no network, every figure drawn, PNGs decode.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPERIMENTS, EXPERIMENT_NAMES } from '../../src/lab/registry.js';
import { runExperiment } from '../../src/lab/runner/run.js';
import { createProgress } from '../../src/lab/runner/progress.js';
import { writeReport, type ReportFiles } from '../../src/report/index.js';
import { EXPECTED_FIGURES } from './fixtures.js';
import { decodePng, inkFraction, pngSize } from './png.js';
import { markdownLinks } from './markdown-links.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run'];
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`SKIPPED: the report browser test needs Chromium at ${CHROMIUM} (Debian: apt-get install chromium)`);

const root = mkdtempSync(join(tmpdir(), 'bnlab-report-browser-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('report from real tiny runs', () => {
  let files: ReportFiles;
  beforeAll(async () => {
    const dirs: string[] = [];
    for (const name of EXPERIMENT_NAMES) {
      const exp = EXPERIMENTS[name];
      const dir = join(root, 'study', name);
      await runExperiment(exp, exp.presets.tiny, dir, { jobs: 1, progress: createProgress('silent'), command: `bnlab run ${name} --tiny` });
      dirs.push(dir);
    }
    files = await writeReport(dirs);
  }, 120_000);

  it('draws every expected figure of every experiment (nothing skipped)', () => {
    const html = readFileSync(files.html, 'utf8');
    expect([...html.matchAll(/Figure skipped — <strong>([^<]*)<\/strong>: ([^<]*)/g)].map((m) => `${m[1]}: ${m[2]}`)).toEqual([]);
    for (const name of EXPERIMENT_NAMES) for (const id of EXPECTED_FIGURES[name] ?? []) expect(html).toContain(`data-figure="${name}/${id}"`);
  });

  it('writes PNGs of sensible sizes (one per experiment decoded here, with ink), and a summary.md whose links resolve', () => {
    const decoded = new Set<string>();
    for (const p of files.pngs) {
      const { width, height } = pngSize(readFileSync(p));
      expect(width, p).toBeGreaterThan(600);
      expect(width, p).toBeLessThan(4000);
      expect(height, p).toBeGreaterThan(300);
      expect(height, p).toBeLessThan(3000);
      // Full decodes in plain JavaScript cost ~0.1 s each: the first figure of each experiment (Chromium decodes them all below).
      const exp = p.split('/').pop()!.split('-')[0];
      if (decoded.has(exp)) continue;
      decoded.add(exp);
      const img = decodePng(readFileSync(p));
      expect([img.width, img.height]).toEqual([width, height]);
      expect(inkFraction(img), p).toBeGreaterThan(0.01);
    }
    const md = readFileSync(files.summary, 'utf8');
    const links = markdownLinks(md);
    expect(links).toHaveLength(files.pngs.length);
    for (const l of links) expect(existsSync(resolve(dirname(files.summary), l)), l).toBe(true);
  });

  it.skipIf(!haveChromium)('opens in headless Chromium from file:// with no console errors or network, every figure drawn, PNGs decoding', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(files.html).href;
      await page.goto(url, { waitUntil: 'load' });
      const figures = await page.$$eval('figure.chart', (els) =>
        els.map((el) => {
          const svg = el.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          // Data marks: Vega's mark groups (lines, areas, points, bars, rects, rules) with drawn geometry.
          const marks = Array.from(el.querySelectorAll('svg g[class*="role-mark"] path, svg g[class*="role-mark"] line')).filter((p) => {
            const b = (p as SVGGraphicsElement).getBBox();
            return b.width > 0 || b.height > 0;
          });
          const png = el.querySelector('figcaption a')?.getAttribute('href') ?? '';
          const texts = el.querySelectorAll('svg text').length;
          return { id: el.getAttribute('data-figure') ?? '', width: box?.width ?? 0, height: box?.height ?? 0, marks: marks.length, texts, png };
        }),
      );
      expect(figures.length).toBe(files.pngs.length);
      for (const name of EXPERIMENT_NAMES) for (const id of EXPECTED_FIGURES[name] ?? []) expect(figures.map((f) => f.id)).toContain(`${name}/${id}`);
      for (const f of figures) {
        expect(f.width, f.id).toBeGreaterThan(300);
        expect(f.height, f.id).toBeGreaterThan(200);
        expect(f.marks, f.id).toBeGreaterThan(0);
        // Title, caption lines, axis titles and ticks, legend: dozens of text elements.
        expect(f.texts, f.id).toBeGreaterThan(10);
      }
      // The PNG links decode as images in the browser too.
      const sizes = await page.evaluate(async (hrefs: string[]) => {
        return Promise.all(
          hrefs.map(async (h) => {
            const img = new Image();
            img.src = h;
            await img.decode();
            return [img.naturalWidth, img.naturalHeight];
          }),
        );
      }, figures.map((f) => f.png));
      for (const [w, h] of sizes) {
        expect(w).toBeGreaterThan(600);
        expect(h).toBeGreaterThan(300);
      }
      expect(errors).toEqual([]);
      // Everything came from the disk: the page itself and the PNGs it decoded.
      expect(requests.filter((r) => !r.startsWith('file://') && !r.startsWith('data:'))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
