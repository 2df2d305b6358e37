// Feature normalization whose statistics come from the training split only, applied in place to both splits.
import { check } from '../tensor/errors.js';
import type { FeatureStats, Split } from './dataset.js';

function featureCount(split: Split, who: string): number {
  check(split.n > 0, `${who}: the training split is empty, no statistics to compute`);
  check(split.x.length % split.n === 0, `${who}: ${split.x.length} values do not divide into ${split.n} samples`);
  return split.x.length / split.n;
}

/**
 * Per-feature mean and standard deviation of a split: two passes in float64 (never E[x^2] - E[x]^2),
 * population variance (divided by n).
 */
export function featureStats(split: Split): FeatureStats {
  const f = featureCount(split, 'featureStats');
  const n = split.n;
  const x = split.x;
  const sum = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    const o = i * f;
    for (let j = 0; j < f; j++) sum[j] += x[o + j];
  }
  const mean = new Float64Array(f);
  for (let j = 0; j < f; j++) mean[j] = sum[j] / n;
  const ss = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    const o = i * f;
    for (let j = 0; j < f; j++) {
      const d = x[o + j] - mean[j];
      ss[j] += d * d;
    }
  }
  const std = new Float32Array(f);
  for (let j = 0; j < f; j++) std[j] = Math.sqrt(ss[j] / n);
  return { mean: Float32Array.from(mean), std };
}

/**
 * Applies x = (x - mean) / std per feature, in place. A feature constant on the training split
 * (std below `minStd`, e.g. MNIST's always-black corner pixels) is only centred: dividing by ~0 would
 * blow test values up to huge numbers.
 */
export function applyStandardize(split: Split, stats: FeatureStats, minStd = 1e-6): void {
  const f = stats.mean.length;
  check(split.x.length === split.n * f, `applyStandardize: split has ${split.x.length} values, expected ${split.n} x ${f}`);
  const inv = new Float64Array(f);
  for (let j = 0; j < f; j++) inv[j] = stats.std[j] > minStd ? 1 / stats.std[j] : 1;
  const x = split.x;
  for (let i = 0; i < split.n; i++) {
    const o = i * f;
    for (let j = 0; j < f; j++) x[o + j] = (x[o + j] - stats.mean[j]) * inv[j];
  }
}

/**
 * Standardizes both splits in place with per-feature mean/std computed on `train` only, so nothing
 * about the test set leaks into training. Returns the statistics (to apply to further data).
 * Default: features with std <= 1e-6 are centred but not scaled.
 */
export function standardize(train: Split, test: Split): FeatureStats {
  const stats = featureStats(train);
  applyStandardize(train, stats);
  if (test.n > 0) applyStandardize(test, stats);
  return stats;
}

/**
 * Min-max scales both splits in place to [0, 1] per feature using the training split's range
 * (test values may land slightly outside). A feature constant on train maps to 0.
 */
export function scaleToUnit(train: Split, test: Split): { min: Float32Array; max: Float32Array } {
  const f = featureCount(train, 'scaleToUnit');
  const min = new Float32Array(f).fill(Infinity);
  const max = new Float32Array(f).fill(-Infinity);
  for (let i = 0; i < train.n; i++) {
    for (let j = 0; j < f; j++) {
      const v = train.x[i * f + j];
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  for (const s of [train, test]) {
    for (let i = 0; i < s.n; i++) {
      for (let j = 0; j < f; j++) {
        const r = max[j] - min[j];
        s.x[i * f + j] = r > 0 ? (s.x[i * f + j] - min[j]) / r : 0;
      }
    }
  }
  return { min, max };
}
