// The built lab page in Debian's Chromium: loads clean and offline, trains both nets, keeps settings in the hash, shows BN stats and results.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Request } from 'playwright-core';
import { CHROMIUM, buildSite, launchChromium, serveStatic, type Chromium, type StaticServer } from '../../bench/web-page.js';
import { tinyRun } from './tiny-run.js';

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`SKIPPED: the lab page tests need Chromium at ${CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it)`);

/** A page with everything it logged and requested, for the no-errors and same-origin checks. */
interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
  /** Stops recording requests (the recorder is context-wide). */
  stop(): void;
}

/** The step readout (a button, once named "step" too, is excluded), and the one-step button under either name. */
const STEP = '[data-testid="step"]:not(button)';
const STEP_BUTTON = 'button[data-testid="step-once"], button[data-testid="step"]';

/** The first number in a readout ("0.693", "loss 0.41"), NaN when there is none yet. */
function numberIn(text: string | null): number {
  const m = /-?\d+(\.\d+)?(e[-+]?\d+)?/i.exec(text ?? '');
  return m ? Number(m[0]) : NaN;
}

describe.skipIf(!haveChromium)('the lab page in Chromium', () => {
  let root: string;
  let server: StaticServer;
  let browser: Chromium;
  let resultsFile: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'bnlab-web-page-'));
    buildSite(join(root, 'site'));
    server = await serveStatic(join(root, 'site'));
    browser = await launchChromium();
    resultsFile = tinyRun(root);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Opens the page at `hash` and waits until the worker reported its backend (the engine is up). */
  async function open(hash = ''): Promise<Opened> {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    // Context-wide, so the worker's own fetches (wasm, digits) are recorded too.
    const record = (r: Request) => requests.push(r.url());
    browser.context.on('request', record);
    await page.goto(server.url + hash, { waitUntil: 'load' });
    await page.getByTestId('backend').filter({ hasText: /wasm|ts/ }).waitFor({ timeout: 20_000 });
    return { page, errors, requests, stop: () => browser.context.off('request', record) };
  }

  /** Requests that left the page's own origin (data: and blob: URLs stay inside the page). */
  function outside(o: Opened): string[] {
    const origin = new URL(server.url).origin;
    return o.requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
  }

  /** Closes a page (and its worker) so the next test has both cores. */
  async function done(o: Opened): Promise<void> {
    o.stop();
    await o.page.close();
  }

  /** Every control's current value by data-testid (text boxes and selects; the sliders mirror the boxes). */
  function controls(page: Page): Promise<Record<string, string>> {
    return page.$$eval('.controls input[data-testid], .controls select[data-testid]', (els) =>
      Object.fromEntries(
        els
          .filter((e) => !(e.getAttribute('data-testid') ?? '').endsWith('-slider'))
          .map((e) => [e.getAttribute('data-testid')!, (e as HTMLInputElement | HTMLSelectElement).value]),
      ),
    );
  }

  it('loads with no console errors and requests nothing outside its own origin', async () => {
    const o = await open();
    // Let the worker settle (wasm compiled, first snapshot drawn) before judging the log.
    await o.page.waitForTimeout(1000);
    expect(o.errors).toEqual([]);
    expect(o.requests.length).toBeGreaterThan(0);
    expect(outside(o)).toEqual([]);
    await done(o);
  }, 60_000);

  it("pressing play makes both networks' training loss fall within a few seconds", async () => {
    const o = await open();
    const read = async () => ({
      step: numberIn(await o.page.locator(STEP).textContent()),
      left: numberIn(await o.page.getByTestId('loss-left').textContent()),
      right: numberIn(await o.page.getByTestId('loss-right').textContent()),
    });
    // The loss of the untrained pair first: one step (the pair trains so fast that the first reading after
    // play is already far down the curve), then play and watch the readouts (means since the last snapshot).
    await o.page.locator(STEP_BUTTON).click();
    await expect.poll(async () => (await read()).step, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const first = await read();
    expect(first.left).toBeGreaterThan(0);
    expect(first.right).toBeGreaterThan(0);
    await o.page.getByTestId('play').click();
    const seen = { left: Infinity, right: Infinity };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const r = await read();
      if (r.step > first.step) {
        seen.left = Math.min(seen.left, r.left);
        seen.right = Math.min(seen.right, r.right);
      }
      if (seen.left < 0.7 * first.left && seen.right < 0.7 * first.right) break;
      await o.page.waitForTimeout(200);
    }
    expect(seen.left).toBeLessThan(0.7 * first.left);
    expect(seen.right).toBeLessThan(0.7 * first.right);
    await o.page.getByTestId('pause').click();
    expect(o.errors).toEqual([]);
    await done(o);
  }, 60_000);

  it('changing a control changes the URL hash, and reloading that URL restores every control', async () => {
    const o = await open();
    const before = await controls(o.page);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['lr', 'depth', 'batchSize', 'optimizer', 'left', 'right', 'dataset']));
    const hash0 = new URL(o.page.url()).hash;
    await o.page.getByTestId('lr').fill('0.1');
    await o.page.getByTestId('depth').fill('6');
    await o.page.getByTestId('optimizer').selectOption('adam');
    await expect.poll(() => new URL(o.page.url()).hash).toMatch(/lr=0\.1(&|$)/);
    const hash = new URL(o.page.url()).hash;
    expect(hash).not.toBe(hash0);
    expect(hash).toMatch(/depth=6(&|$)/);
    expect(hash).toMatch(/opt=adam(&|$)/);
    const after = await controls(o.page);
    expect(after).toMatchObject({ lr: '0.1', depth: '6', optimizer: 'adam' });
    await o.page.reload({ waitUntil: 'load' });
    await o.page.getByTestId('backend').filter({ hasText: /wasm|ts/ }).waitFor({ timeout: 20_000 });
    expect(new URL(o.page.url()).hash).toBe(hash);
    expect(await controls(o.page)).toEqual(after);
    // Back goes to the settings before the edits.
    await o.page.goBack();
    await expect.poll(() => controls(o.page).then((c) => c.optimizer)).toBe(before.optimizer);
    expect(o.errors).toEqual([]);
    await done(o);
  }, 60_000);

  it('on a preset with BN, shows per-unit batch and running statistics that change over time', async () => {
    const o = await open();
    if ((await controls(o.page)).right !== 'bn-before') await o.page.getByTestId('right').selectOption('bn-before');
    const stats = o.page.getByTestId('bn-stats');
    await o.page.getByTestId('play').click();
    await expect.poll(async () => numberIn(await o.page.locator(STEP).textContent()), { timeout: 15_000 }).toBeGreaterThan(0);
    const text1 = (await stats.textContent()) ?? '';
    expect(text1).toMatch(/batch/i);
    expect(text1).toMatch(/running/i);
    expect(text1).toMatch(/\d\.\d/);
    await expect.poll(async () => (await stats.textContent()) ?? '', { timeout: 10_000 }).not.toBe(text1);
    await o.page.getByTestId('pause').click();
    expect(o.errors).toEqual([]);
    await done(o);
  }, 60_000);

  it('a hash with unknown keys or out-of-range values loads the defaults for those keys and says so', async () => {
    const defaults = await open();
    const want = await controls(defaults.page);
    await done(defaults);
    const o = await open('#lr=banana&depth=99&zzz=1&batch=5');
    const banner = o.page.locator('[role="alert"], .warnings').first();
    await expect.poll(async () => (await banner.textContent()) ?? '').toMatch(/zzz/);
    const text = (await banner.textContent()) ?? '';
    expect(text).toMatch(/'lr'.*banana/);
    expect(text).toMatch(/'depth'.*99/);
    const got = await controls(o.page);
    expect(got).toEqual({ ...want, batchSize: '5' });
    expect(o.errors).toEqual([]);
    await done(o);
  }, 60_000);

  it("choosing a tiny `bnlab run`'s results.json shows its findings and figures", async () => {
    const o = await open();
    await o.page.getByTestId('results-file').setInputFiles(resultsFile);
    const figures = o.page.getByTestId('results-figures').first();
    await figures.locator('figure svg').first().waitFor({ timeout: 20_000 });
    // Figures draw one by one: wait until none is left without its SVG.
    await expect.poll(() => figures.locator('figure:not(:has(svg))').count(), { timeout: 20_000 }).toBe(0);
    const drawn = await figures.locator('figure').evaluateAll((els) =>
      els.map((el) => ({
        id: el.getAttribute('data-figure'),
        marks: Array.from(el.querySelectorAll('svg g[class*="role-mark"] path, svg g[class*="role-mark"] line')).length,
        width: el.querySelector('svg')?.getBoundingClientRect().width ?? 0,
      })),
    );
    expect(drawn.map((d) => d.id)).toEqual(['fig1/accuracy', 'fig1/percentiles']);
    for (const d of drawn) {
      expect(d.marks, d.id ?? '').toBeGreaterThan(0);
      expect(d.width, d.id ?? '').toBeGreaterThan(300);
    }
    const findings = o.page.getByTestId('results-findings').first();
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as { findings: { text: string; verdict: string }[] };
    for (const f of results.findings) {
      await expect.poll(() => findings.textContent()).toContain(f.text);
      expect(await findings.textContent()).toContain(f.verdict);
    }
    expect(await o.page.getByTestId('results-error').count()).toBe(0);
    // Vega (a lazy chunk) came from the site too, and drew from the file's inline data only.
    expect(outside(o)).toEqual([]);
    expect(o.errors).toEqual([]);
    await done(o);
  }, 60_000);

  it('dropping a results.json onto the panel shows its figures too', async () => {
    const o = await open();
    const text = readFileSync(resultsFile, 'utf8');
    // A real drop: a DataTransfer holding the file, dispatched as the browser does when a file is let go over the panel.
    await o.page.getByTestId('results-panel').evaluate((panel, body) => {
      const dt = new DataTransfer();
      dt.items.add(new File([body], 'results.json', { type: 'application/json' }));
      panel.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      panel.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text);
    await o.page.getByTestId('results-figures').first().locator('figure svg').first().waitFor({ timeout: 20_000 });
    expect(o.errors).toEqual([]);
    await done(o);
  }, 60_000);

  it('a results.json that is not one, or from another experiment version, gives a clear message', async () => {
    const o = await open();
    const input = o.page.getByTestId('results-file');
    const error = o.page.getByTestId('results-error');
    const text = readFileSync(resultsFile, 'utf8');
    const old = JSON.parse(text) as { config: Record<string, unknown>; meta: { version: string } };
    old.config.percentileUnits = 3;
    old.meta.version = '0.0.1';
    const cases: [string, string, RegExp][] = [
      ['results.json', text.slice(0, 500), /results\.json: the JSON is truncated.*Expected the results\.json that `bnlab run <experiment>`/s],
      ['package.json', readFileSync(new URL('../../package.json', import.meta.url), 'utf8'), /package\.json: not a bnlab results file: "experiment" must be a non-empty string/],
      ['notes.json', 'hello', /notes\.json: this is not JSON/],
      ['results.json', JSON.stringify(old), /config does not match the 'fig1' experiment of this page \(unknown key 'percentileUnits'.*written by bnlab 0\.0\.1/s],
    ];
    for (const [name, body, message] of cases) {
      await input.setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(body) });
      await expect.poll(async () => (await error.textContent()) ?? '', { timeout: 10_000 }).toMatch(message);
      // Never a blank page: the lab is still there.
      await expect(o.page.getByTestId('play').isVisible()).resolves.toBe(true);
    }
    expect(o.errors).toEqual([]);
    await done(o);
  }, 60_000);
});
