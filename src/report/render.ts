// Renders a figure: Vega-Lite spec -> Vega -> SVG string in Node (no network, no DOM), and SVG -> PNG with resvg.
import { compile, type TopLevelSpec } from 'vega-lite';
import * as vega from 'vega';
import { parse, View, type Loader } from 'vega';
import { Resvg } from '@resvg/resvg-js';
import { findFonts } from './fonts.js';
import { fontFileMetrics, type FontMetrics } from './font-metrics.js';

// The spec decoration is browser-safe and lives apart; re-exported so callers keep one import.
export { FONT, decorate, wrapText } from './decorate.js';

/**
 * A Vega loader that refuses to load anything: every figure carries its data inline, and a report must
 * render offline and never phone home, so any fetch attempt is a bug we want to hear about.
 */
const offlineLoader = {
  load: () => Promise.reject(new Error('bnlab report: Vega tried to load an external resource (reports render offline)')),
  sanitize: () => Promise.reject(new Error('bnlab report: Vega tried to resolve an external URL (reports render offline)')),
  http: () => Promise.reject(new Error('offline')),
  file: () => Promise.reject(new Error('offline')),
} as unknown as Loader;

/** Vega's text measurement hook (vega-scenegraph's textMetrics; not in vega's type declarations). */
type VegaTextItem = { text?: unknown; fontSize?: number; fontWeight?: string | number };
const textMetrics = (vega as unknown as { textMetrics: { width: (item: VegaTextItem, text?: unknown) => number } }).textMetrics;

let measuring = false;

/**
 * Makes Vega measure text with the advance widths of the font the PNGs are drawn with. Without a canvas
 * Vega guesses 0.8 em per character, about 40% too wide for DejaVu Sans, which leaves wide empty margins
 * right of every legend and truncates long legend labels. vl-convert uses the same hook. Idempotent.
 */
export function measureTextWithFonts(): void {
  if (measuring) return;
  measuring = true;
  const fonts = findFonts();
  const regular: FontMetrics | null = fonts.regular ? fontFileMetrics(fonts.regular) : null;
  const bold: FontMetrics | null = fonts.bold ? fontFileMetrics(fonts.bold) : regular;
  if (!regular) return;
  textMetrics.width = (item, text) => {
    const value = text === undefined ? item.text : text;
    const lines = Array.isArray(value) ? value.map(String) : [value == null ? '' : String(value)];
    const size = item.fontSize ?? 11;
    const isBold = item.fontWeight === 'bold' || (typeof item.fontWeight === 'number' && item.fontWeight >= 600);
    const m = isBold && bold ? bold : regular;
    return Math.max(0, ...lines.map((l) => m.width(l.trim()) * size));
  };
}

/**
 * A Vega logger that collects warnings instead of printing them: a report run must not litter the
 * terminal, and tests assert that specs compile without warnings (a warning means a dropped encoding).
 */
function collectingLogger(sink: string[]) {
  let lvl = 2;
  const push = (kind: string) => (...args: unknown[]) => {
    sink.push(`${kind}: ${args.map(String).join(' ')}`);
    return logger;
  };
  const logger = {
    level(l?: number) {
      if (l === undefined) return lvl as never;
      lvl = l;
      return logger as never;
    },
    error: push('error'),
    warn: push('warn'),
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string headlessly (renderer 'none': no canvas needed).
 * Compiler and view warnings go to `warnings` when given, and are dropped otherwise.
 */
export async function toSvg(spec: TopLevelSpec, warnings: string[] = []): Promise<string> {
  measureTextWithFonts();
  const log = collectingLogger(warnings);
  const vg = compile(spec, { logger: log }).spec;
  const view = new View(parse(vg), { renderer: 'none', loader: offlineLoader, logger: log as never });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterizes an SVG to PNG at `scale`x (2 = crisp on slides and high-DPI screens), with local fonts only. */
export function toPng(svg: string, scale = 2): { png: Buffer; width: number; height: number } {
  const fonts = findFonts();
  const family = fonts.family ?? undefined;
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: {
      // System font discovery is slow and machine-dependent; load known files, or all system fonts when none were found.
      loadSystemFonts: fonts.files.length === 0,
      fontFiles: fonts.files,
      ...(family ? { defaultFontFamily: family, sansSerifFamily: family } : {}),
      ...(fonts.files.some((f) => /mono/i.test(f)) ? { monospaceFamily: family === 'Liberation Sans' ? 'Liberation Mono' : 'DejaVu Sans Mono' } : {}),
    },
  });
  const img = resvg.render();
  return { png: img.asPng(), width: img.width, height: img.height };
}
