// The data of a run: the chosen set made (or decoded) from the settings, split into train and test, deterministic per seed.
import type { Split } from '../../../src/data/dataset.js';
import { loadSynthetic } from '../../../src/data/synthetic.js';
import { Rng } from '../../../src/tensor/rng.js';
import type { Settings } from '../protocol.js';
import { DIGIT_PIXELS, type DigitsAsset } from './digits-format.js';
import { isPlanar, makePlanar } from './planar.js';

/** Points of each 2-D set; the TensorFlow Playground also uses 500. */
export const PLANAR_POINTS = 500;
/** Samples of 'scales' (train + test). */
export const SCALES_POINTS = 1000;
/** Features of 'scales': x_j = z_j * 10^(j mod 5), ranges 1 ... 10^4. */
export const SCALES_FEATURES = 10;

/** A run's data: the splits, their sizes, and for 2-D sets the points as plotted and the plot's range. */
export interface WebData {
  train: Split;
  test: Split;
  inputs: number;
  classes: number;
  /** Per-sample shape handed to the model. */
  inputShape: number[];
  /** 2-D sets: every point (train then test) with its label and split; null otherwise. */
  points: { x: Float32Array; y: Float32Array; label: Uint8Array; test: Uint8Array } | null;
  /** 2-D sets: the square the decision boundary is drawn over (the points' box, with a margin). */
  range: { x0: number; x1: number; y0: number; y1: number } | null;
}

/** First round(share * n) samples train, the rest test; at least one of each. */
function cut(n: number, share: number): number {
  return Math.min(n - 1, Math.max(1, Math.round(share * n)));
}

function splitOf(x: Float32Array, y: Int32Array, f: number, from: number, to: number): Split {
  return { x: x.slice(from * f, to * f), y: y.slice(from, to), n: to - from };
}

function planarData(s: Settings & { dataset: Parameters<typeof makePlanar>[0] }): WebData {
  const n = PLANAR_POINTS;
  const { x, y } = makePlanar(s.dataset, n, s.noise, s.seed);
  const k = cut(n, s.trainShare);
  const px = new Float32Array(n);
  const py = new Float32Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    px[i] = x[2 * i];
    py[i] = x[2 * i + 1];
    lo = Math.min(lo, px[i], py[i]);
    hi = Math.max(hi, px[i], py[i]);
  }
  // A square range keeps the plot's aspect true; a 10% margin shows the boundary past the outermost points.
  const pad = 0.1 * (hi - lo);
  const test = new Uint8Array(n);
  test.fill(1, k);
  return {
    train: splitOf(x, y, 2, 0, k),
    test: splitOf(x, y, 2, k, n),
    inputs: 2,
    classes: 2,
    inputShape: [2],
    points: { x: px, y: py, label: Uint8Array.from(y), test },
    range: { x0: lo - pad, x1: hi + pad, y0: lo - pad, y1: hi + pad },
  };
}

function scalesData(s: Settings): WebData {
  const nTrain = cut(SCALES_POINTS, s.trainShare);
  const ds = loadSynthetic('scales', { nTrain, nTest: SCALES_POINTS - nTrain, noise: s.noise, seed: s.seed, features: SCALES_FEATURES });
  return { train: ds.train, test: ds.test, inputs: SCALES_FEATURES, classes: 2, inputShape: [SCALES_FEATURES], points: null, range: null };
}

/** Digits: the asset's images in an order shuffled by the seed, pixels scaled to [0, 1], split by trainShare. */
export function digitsData(asset: DigitsAsset, s: Settings): WebData {
  const n = asset.n;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Rng(s.seed).shuffle(order);
  const x = new Float32Array(n * DIGIT_PIXELS);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const src = order[i] * DIGIT_PIXELS;
    for (let p = 0; p < DIGIT_PIXELS; p++) x[i * DIGIT_PIXELS + p] = asset.pixels[src + p] / 255;
    y[i] = asset.labels[order[i]];
  }
  const k = cut(n, s.trainShare);
  return { train: splitOf(x, y, DIGIT_PIXELS, 0, k), test: splitOf(x, y, DIGIT_PIXELS, k, n), inputs: DIGIT_PIXELS, classes: 10,
    inputShape: [DIGIT_PIXELS], points: null, range: null };
}

/** The data of a run; `digits` is asked for the asset only when the dataset is 'digits'. */
export async function makeData(s: Settings, digits: () => Promise<DigitsAsset>): Promise<WebData> {
  const name = s.dataset;
  if (isPlanar(name)) return planarData({ ...s, dataset: name });
  if (name === 'scales') return scalesData(s);
  if (name === 'digits') return digitsData(await digits(), s);
  const never: never = name;
  throw new Error(`unknown dataset '${String(never)}'`);
}
