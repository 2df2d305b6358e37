// Rendering: PNGs decode, have sensible sizes and ink; text is drawn with a local font; font metrics read right.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decorate, toPng, toSvg, wrapText } from '../../src/report/render.js';
import { findFonts } from '../../src/report/fonts.js';
import { fontFamilyName, readFontMetrics } from '../../src/report/font-metrics.js';
import { figuresFor } from '../../src/report/specs/index.js';
import type { Figure } from '../../src/report/figure.js';
import { decodePng, inkFraction } from './png.js';
import { fig1 } from './fixtures.js';

const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

describe('rendering', () => {
  it('turns a figure into an SVG and a PNG of sensible size with ink on it', async () => {
    const r = fig1();
    const fig = figuresFor({ results: r, trials: r.trials })[0] as Figure;
    const svg = await toSvg(decorate(fig, 'bnlab run fig1 --tiny'));
    const { png, width, height } = toPng(svg, 2);
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([width, height]);
    expect(width).toBeGreaterThan(800);
    expect(width).toBeLessThan(4000);
    expect(height).toBeGreaterThan(400);
    expect(height).toBeLessThan(3000);
    const ink = inkFraction(img);
    expect(ink).toBeGreaterThan(0.01);
    expect(ink).toBeLessThan(0.5);
  });

  it.skipIf(findFonts().files.length === 0)('draws text in PNGs with a local font (text-only SVG gets ink)', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60"><text x="10" y="40" font-family="sans-serif" font-size="28">Accuracy 95%</text></svg>';
    const img = decodePng(toPng(svg, 1).png);
    // Glyph strokes of 12 characters at 28px cover a few percent of the image; without a font there are none.
    expect(inkFraction(img, 128)).toBeGreaterThan(0.02);
  });

  it('wraps captions at word boundaries', () => {
    expect(wrapText('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrapText('', 10)).toEqual([]);
  });
});

describe.skipIf(!existsSync(DEJAVU))('font metrics (DejaVu Sans)', () => {
  const buf = readFileSync(DEJAVU);
  it('reads the family name', () => {
    expect(fontFamilyName(buf)).toBe('DejaVu Sans');
  });
  it('reads advance widths: M is wider than i, and a known width matches', () => {
    const m = readFontMetrics(buf)!;
    expect(m.width('M')).toBeGreaterThan(m.width('i') * 2);
    // DejaVu Sans: advance of 'a' is 1255 units of 2048 per em.
    expect(m.width('a')).toBeCloseTo(1255 / 2048, 4);
    expect(m.width('aa')).toBeCloseTo(2 * m.width('a'), 10);
  });
  it('returns null for a file that is not a font', () => {
    expect(readFontMetrics(Buffer.from('not a font at all, just bytes'))).toBeNull();
  });
});
