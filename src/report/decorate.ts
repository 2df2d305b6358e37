// Decorates a figure's spec for drawing (title, caption, command, shared look); no Node modules, so the browser lab uses it too.
import type { TopLevelSpec } from 'vega-lite';
import type { Figure } from './figure.js';

/** Font stack written into the SVGs: DejaVu first (what the PNGs are rasterized with), then the browser's sans. */
export const FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';

/** Splits text into lines of at most `width` characters at spaces (Vega titles do not wrap by themselves). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Approximate drawing width of a spec in pixels, to wrap the caption to it. */
function specWidth(spec: TopLevelSpec): number {
  const s = spec as { width?: unknown; spec?: { width?: unknown }; data?: { values?: { panel?: string }[] } };
  if (typeof s.width === 'number') return s.width + 120;
  if (s.spec && typeof s.spec.width === 'number') {
    const panels = new Set((s.data?.values ?? []).map((v) => v.panel)).size || 1;
    const columns = typeof (spec as { columns?: unknown }).columns === 'number' ? Math.min(panels, (spec as { columns: number }).columns) : panels;
    return columns * (s.spec.width + 20) + 80;
  }
  return 560;
}

/**
 * The spec as it is drawn: the figure's spec plus its title, the caption and the reproducing command
 * as subtitle lines (so a PNG pasted alone into slides still says what it shows and how to get it), and
 * a shared look (fonts, sizes, white background).
 */
export function decorate(fig: Figure, command: string): TopLevelSpec {
  const chars = Math.max(60, Math.floor(specWidth(fig.spec) / 6.4));
  const subtitle = [...wrapText(fig.caption, chars), ...(command ? [`Reproduce: ${command}`] : [])];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...fig.spec,
    title: { text: fig.title, subtitle, anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#444', subtitlePadding: 6, offset: 12 },
    background: 'white',
    padding: 12,
    config: {
      font: FONT,
      axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e6e6e6' },
      legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400, titleLimit: 400 },
      header: { titleFontSize: 12, labelFontSize: 12 },
      view: { stroke: '#ccc' },
    },
  } as TopLevelSpec;
}
