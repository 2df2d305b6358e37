// Names, colours and number formats the page's views share.
import type { NormChoice } from '../protocol.js';

export const NORM_LABELS: Record<NormChoice, string> = {
  none: 'No normalization',
  'bn-before': 'BatchNorm before activation',
  'bn-after': 'BatchNorm after activation',
  renorm: 'Batch Renorm',
  ghost: 'Ghost BatchNorm',
  group: 'GroupNorm',
  layer: 'LayerNorm',
  'noisy-bn': 'Noisy BatchNorm',
};

/** Whether a normalization keeps running statistics (so has batch vs running stats and a train/eval gap). */
export const USES_BATCH_STATS: Record<NormChoice, boolean> = {
  none: false,
  'bn-before': true,
  'bn-after': true,
  renorm: true,
  ghost: true,
  group: false,
  layer: false,
  'noisy-bn': true,
};

export const SIDES = ['left', 'right'] as const;
export type Side = (typeof SIDES)[number];

/** One colour per network, used by every chart; the two class colours of the 2-D data. */
export const NET_COLORS: Record<Side, string> = { left: '#6741d9', right: '#0c8599' };
export const CLASS_COLORS = ['#f08c00', '#1971c2', '#2f9e44', '#e03131', '#9c36b5', '#5c940d'];

export function labelOf(norm: string): string {
  return (NORM_LABELS as Record<string, string>)[norm] ?? norm;
}

/** A compact number: 3 significant digits, exponent form when tiny or huge, and a dash for nothing. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined) return '–';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

export const pct = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)}%`;

/** An rgba() string from a #rrggbb colour. */
export function alpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${a})`;
}
