// Synthetic datasets for small, fast, visual experiments: moons, spirals, blobs, xor, and features on wildly different scales.
import { Rng } from '../tensor/rng.js';
import { check } from '../tensor/errors.js';
import type { Dataset, Normalization, Split } from './dataset.js';
import { scaleToUnit, standardize } from './normalize.js';

/** Names of the synthetic datasets. */
export type SyntheticName = 'moons' | 'spirals' | 'blobs' | 'xor' | 'scales';

/** Options shared by the generators; each documents its own defaults. */
export interface SyntheticOptions {
  /** Training samples (default 1000). */
  nTrain?: number;
  /** Test samples, drawn from the same distribution (default 500). */
  nTest?: number;
  /** Noise level; its meaning and default depend on the dataset (see SYNTHETIC). */
  noise?: number;
  /** Seed of everything random here (default 0). */
  seed?: number;
  /** Number of classes for spirals (default 3) and blobs (default 4). */
  classes?: number;
  /** Number of input features for blobs (default 2) and scales (default 10). */
  features?: number;
  /** Feature scaling (default 'raw': as generated). */
  normalize?: Normalization;
}

interface Spec {
  description: string;
  defaultNoise: number;
  numClasses(o: SyntheticOptions): number;
  features(o: SyntheticOptions): number;
  /** Draws the dataset's fixed parameters and returns a sampler filling sample i of (x, y). */
  make(rng: Rng, o: Required<Pick<SyntheticOptions, 'noise'>> & SyntheticOptions): (x: Float32Array, y: Int32Array, i: number) => void;
}

/** The synthetic datasets: description, default noise, classes and features. */
export const SYNTHETIC: Record<SyntheticName, Spec> = {
  moons: {
    description: 'two interleaving half circles (as sklearn make_moons); noise = std of Gaussian jitter, default 0.1',
    defaultNoise: 0.1,
    numClasses: () => 2,
    features: () => 2,
    make: (rng, o) => (x, y, i) => {
      const c = i % 2;
      const t = Math.PI * rng.uniform();
      x[2 * i] = (c === 0 ? Math.cos(t) : 1 - Math.cos(t)) + o.noise * rng.normal();
      x[2 * i + 1] = (c === 0 ? Math.sin(t) : 0.5 - Math.sin(t)) + o.noise * rng.normal();
      y[i] = c;
    },
  },
  spirals: {
    description: 'K interleaved spiral arms (as CS231n); noise = std of the angle jitter in radians, default 0.2',
    defaultNoise: 0.2,
    numClasses: (o) => o.classes ?? 3,
    features: () => 2,
    make: (rng, o) => {
      const k = o.classes ?? 3;
      return (x, y, i) => {
        const c = i % k;
        const t = rng.uniform();
        const theta = (2 * Math.PI * c) / k + 4 * t + o.noise * rng.normal();
        x[2 * i] = t * Math.sin(theta);
        x[2 * i + 1] = t * Math.cos(theta);
        y[i] = c;
      };
    },
  },
  blobs: {
    description: 'K isotropic Gaussian blobs, centres uniform in [-5, 5]^F; noise = blob std, default 1',
    defaultNoise: 1,
    numClasses: (o) => o.classes ?? 4,
    features: (o) => o.features ?? 2,
    make: (rng, o) => {
      const k = o.classes ?? 4;
      const f = o.features ?? 2;
      const centres = new Float64Array(k * f);
      for (let j = 0; j < centres.length; j++) centres[j] = -5 + 10 * rng.uniform();
      return (x, y, i) => {
        const c = i % k;
        for (let j = 0; j < f; j++) x[i * f + j] = centres[c * f + j] + o.noise * rng.normal();
        y[i] = c;
      };
    },
  },
  xor: {
    description: 'points uniform in [-1, 1]^2, class = sign(x0) xor sign(x1); noise = std of jitter added after labelling, default 0.1',
    defaultNoise: 0.1,
    numClasses: () => 2,
    features: () => 2,
    make: (rng, o) => (x, y, i) => {
      const a = 2 * rng.uniform() - 1;
      const b = 2 * rng.uniform() - 1;
      y[i] = (a > 0) !== (b > 0) ? 1 : 0;
      x[2 * i] = a + o.noise * rng.normal();
      x[2 * i + 1] = b + o.noise * rng.normal();
    },
  },
  scales: {
    description:
      'F features (default 10), x_j = z_j * 10^(j mod 5) with z ~ N(0, I); class = [sum_j s_j z_j + noise * N(0, F) > 0], s_j = +-1 fixed: ' +
      'every feature matters equally, but unnormalized the large ones dominate the gradient; noise default 0',
    defaultNoise: 0,
    numClasses: () => 2,
    features: (o) => o.features ?? 10,
    make: (rng, o) => {
      const f = o.features ?? 10;
      const sign = Float64Array.from({ length: f }, () => (rng.uniform() < 0.5 ? -1 : 1));
      const scale = Float64Array.from({ length: f }, (_, j) => 10 ** (j % 5));
      const z = new Float64Array(f);
      return (x, y, i) => {
        let s = 0;
        for (let j = 0; j < f; j++) {
          z[j] = rng.normal();
          s += sign[j] * z[j];
        }
        s += o.noise * Math.sqrt(f) * rng.normal();
        y[i] = s > 0 ? 1 : 0;
        for (let j = 0; j < f; j++) x[i * f + j] = z[j] * scale[j];
      };
    },
  },
};

/** True if `name` is a synthetic dataset. */
export function isSynthetic(name: string): name is SyntheticName {
  return Object.hasOwn(SYNTHETIC, name);
}

/**
 * Generates a synthetic dataset: the fixed parameters (centres, signs) first, then nTrain training and
 * nTest test samples, all from one seeded stream, so a seed gives the same data everywhere.
 * Defaults: nTrain 1000, nTest 500, seed 0, noise per dataset, normalize 'raw'. Pure: runs in a browser.
 */
export function loadSynthetic(name: SyntheticName, opts: SyntheticOptions = {}): Dataset {
  const spec = SYNTHETIC[name];
  const nTrain = opts.nTrain ?? 1000;
  const nTest = opts.nTest ?? 500;
  const noise = opts.noise ?? spec.defaultNoise;
  const seed = opts.seed ?? 0;
  const k = spec.numClasses(opts);
  const f = spec.features(opts);
  check(Number.isInteger(nTrain) && nTrain > 0 && Number.isInteger(nTest) && nTest >= 0, `${name}: nTrain=${nTrain} must be a positive integer ` +
    `and nTest=${nTest} a non-negative one`);
  check(Number.isFinite(noise) && noise >= 0, `${name}: noise=${noise} must be a finite number >= 0`);
  check(Number.isInteger(k) && k >= 2, `${name}: classes=${k} must be an integer >= 2`);
  check(Number.isInteger(f) && f >= 1, `${name}: features=${f} must be an integer >= 1`);
  const sample = spec.make(new Rng(seed), { ...opts, noise });
  const draw = (n: number): Split => {
    const s: Split = { x: new Float32Array(n * f), y: new Int32Array(n), n };
    for (let i = 0; i < n; i++) sample(s.x, s.y, i);
    return s;
  };
  const train = draw(nTrain);
  const test = draw(nTest);
  const normalization = opts.normalize ?? 'raw';
  const ds: Dataset = {
    name,
    train,
    test,
    classes: Array.from({ length: k }, (_, c) => `class ${c}`),
    inputShape: [f],
    source: `synthetic ${name} (seed ${seed}, noise ${noise}, ${k} classes, ${f} features)`,
    normalization,
  };
  if (normalization === 'unit') scaleToUnit(train, test);
  else if (normalization === 'standardize') ds.stats = standardize(train, test);
  return ds;
}
