// Mini-batch loader: seeded per-epoch shuffle, contiguous reused batch buffers, no per-sample objects kept.
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, check } from '../tensor/errors.js';
import { Rng } from '../tensor/rng.js';
import { sampleSize, type Split } from './dataset.js';

/** One mini-batch. `x` holds n samples contiguous (n x prod(sampleShape)), `y` their labels. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  n: number;
  /** Positions of these samples in the split (a view of the epoch's order). */
  indices: Int32Array;
}

/** Loader options. Defaults: shuffle true, seed 0, dropLast false. */
export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default true); false visits samples in stored order. */
  shuffle?: boolean;
  /** Seed of the shuffles; epoch e of seed s always has the same order (default 0). */
  seed?: number;
  /** Drop the last batch when it is smaller than batchSize (default false), as PyTorch's drop_last. */
  dropLast?: boolean;
}

/**
 * Iterates a split in mini-batches. Each call of `batches()` is one epoch; the order of epoch e is a
 * Fisher-Yates shuffle seeded by (seed, e), so it can be reproduced on its own (resuming a run).
 *
 * The batch arrays are reused: a batch is valid until the next one is requested and must be treated
 * as read-only (unshuffled batches are views straight into the split, shuffled ones share one buffer).
 * Copy (`x.slice()`) to keep one.
 */
export class Loader {
  readonly split: Split;
  readonly sampleShape: readonly number[];
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Values per sample. */
  readonly featureCount: number;
  /** Batches per epoch. */
  readonly numBatches: number;
  /** The next epoch `batches()` will run when called without an argument. */
  epoch = 0;
  private readonly order: Int32Array;
  private readonly xBuf: Float32Array;
  private readonly yBuf: Int32Array;

  constructor(split: Split, sampleShape: readonly number[], opts: LoaderOptions) {
    const f = sampleSize(sampleShape);
    const b = opts.batchSize;
    check(Number.isInteger(b) && b > 0, `Loader: batchSize=${b} must be a positive integer`);
    check(f > 0, `Loader: sample shape [${sampleShape.join(', ')}] holds no values`);
    check(split.x.length === split.n * f, `Loader: split has ${split.x.length} values, ${split.n} samples of shape [${sampleShape.join(', ')}] ` +
      `need ${split.n * f}`);
    check(split.y.length === split.n, `Loader: split has ${split.y.length} labels for ${split.n} samples`);
    this.split = split;
    this.sampleShape = [...sampleShape];
    this.batchSize = b;
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    this.dropLast = opts.dropLast ?? false;
    this.featureCount = f;
    this.numBatches = this.dropLast ? Math.floor(split.n / b) : Math.ceil(split.n / b);
    if (this.numBatches === 0 && split.n > 0) {
      throw new ArgumentError(`Loader: batchSize=${b} with dropLast leaves no batch from ${split.n} samples`);
    }
    this.order = new Int32Array(split.n);
    this.xBuf = new Float32Array(this.shuffle ? b * f : 0);
    this.yBuf = new Int32Array(this.shuffle ? b : 0);
  }

  /** The sample order of epoch `epoch` (identity when shuffle is off). A fresh array. */
  epochOrder(epoch: number): Int32Array {
    this.fillOrder(epoch);
    return this.order.slice();
  }

  private fillOrder(epoch: number): void {
    const o = this.order;
    for (let i = 0; i < o.length; i++) o[i] = i;
    if (this.shuffle) new Rng(mixSeed(this.seed, epoch)).shuffle(o);
  }

  /** Yields the batches of one epoch (default: the next one, advancing `epoch`). */
  *batches(epoch: number = this.epoch++): Generator<Batch, void, undefined> {
    this.fillOrder(epoch);
    const { split, order, featureCount: f, batchSize: bs } = this;
    for (let b = 0; b < this.numBatches; b++) {
      const start = b * bs;
      const n = Math.min(bs, split.n - start);
      const indices = order.subarray(start, start + n);
      if (!this.shuffle) {
        // Stored order: the batch is already contiguous in the split, no copy needed.
        yield { x: split.x.subarray(start * f, (start + n) * f), y: split.y.subarray(start, start + n), n, indices };
        continue;
      }
      const xb = this.xBuf;
      const yb = this.yBuf;
      for (let k = 0; k < n; k++) {
        const i = indices[k];
        // set() from a transient subarray is a memcpy; measured faster than an element loop (~4x) and
        // than views precomputed per sample (which would pin N objects), and V8 frees these young.
        xb.set(split.x.subarray(i * f, i * f + f), k * f);
        yb[k] = split.y[i];
      }
      yield n === bs ? { x: xb, y: yb, n, indices } : { x: xb.subarray(0, n * f), y: yb.subarray(0, n), n, indices };
    }
  }

  [Symbol.iterator](): Generator<Batch, void, undefined> {
    return this.batches();
  }

  /** The batch's inputs as a Tensor of shape [n, ...sampleShape], sharing the batch's memory. */
  tensor(batch: Batch): Tensor {
    return new Tensor(batch.x, [batch.n, ...this.sampleShape]);
  }
}

// One 32-bit seed per (seed, epoch) pair; murmur3's finalizer decorrelates neighbouring epochs.
function mixSeed(seed: number, epoch: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch >>> 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
