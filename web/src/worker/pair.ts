// The pair: two networks that differ only in normalization, trained on the same batches in the same order, and their snapshots.
import { Loader, type Batch } from '../../../src/data/loader.js';
import { crossEntropy } from '../../../src/ops/loss.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import type { WebData } from '../data/index.js';
import type { NetSnapshot, Settings } from '../protocol.js';
import { buildPair, type Net } from './net.js';
import { bnBatchStats, bnUnits, boundary, countCorrect, evalGap, gradNorms, layerPercentiles, layerProbes, testMetrics } from './probes.js';

/** Test samples in the fixed probe batch of the percentile bands. */
export const PROBE_SAMPLES = 200;

/** What the page asked to see of the train/eval gap. */
export interface EvalView {
  evalMode: boolean;
  evalBatch: number;
}

/** One side's running state between snapshots. */
interface Side {
  net: Net;
  diverged: string | null;
  lossSum: number;
  correct: number;
  seen: number;
  steps: number;
  /** The last snapshot's values, kept while nothing new was measured (a frame without steps, a skipped probe). */
  last: NetSnapshot;
  bnBatch: { mean: number[]; std: number[] } | null;
}

/** Why a network could not take a step, in words a user can act on. */
function failure(e: unknown, norm: string, batch: number): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/more than 1 value per channel/.test(msg)) {
    return `${norm} cannot train on a batch of ${batch === 1 ? 'one sample' : 'this size'}: ${msg}. Use a batch of 2 or more (and a ghost ` +
      `batch of 2 or more), or GroupNorm/LayerNorm, which do not use the batch.`;
  }
  return `${norm} stopped: ${msg}`;
}

function emptySnapshot(net: Net): NetSnapshot {
  return { norm: net.norm, trainLoss: NaN, trainAcc: NaN, testLoss: NaN, testAcc: NaN, diverged: null, layers: [], bn: null, boundary: null,
    confusion: null, evalGap: null };
}

/**
 * Builds both networks from one seed (buildPair) and trains them step by step on one Loader's batches, so at every
 * step they see the same examples. A net whose loss becomes NaN/Inf, or that cannot take a step (BN on a batch of
 * one), stops with `diverged` set; the other goes on.
 */
export class Pair {
  readonly sides: [Side, Side];
  readonly loader: Loader;
  /** Training steps taken (by each live net). */
  step = 0;
  /** Batch size actually used (the training split may be smaller than asked). */
  readonly batchSize: number;
  private batches: Generator<Batch, void, undefined>;
  private readonly probe: Tensor;
  private readonly f: number;

  constructor(readonly settings: Settings, readonly data: WebData) {
    const nets = buildPair(settings, data.inputs, data.classes);
    this.sides = [nets[0], nets[1]].map((net) => ({ net, diverged: null, lossSum: 0, correct: 0, seen: 0, steps: 0, last: emptySnapshot(net),
      bnBatch: null })) as [Side, Side];
    this.f = data.inputs;
    this.batchSize = Math.min(settings.batchSize, data.train.n);
    this.loader = new Loader(data.train, data.inputShape, { batchSize: this.batchSize, seed: settings.seed, dropLast: true });
    this.batches = this.loader.batches();
    const m = Math.min(PROBE_SAMPLES, data.test.n);
    this.probe = new Tensor(data.test.x.slice(0, m * this.f), [m, ...data.inputShape]);
  }

  /** True when both nets have stopped. */
  get stopped(): boolean {
    return this.sides.every((s) => s.diverged !== null);
  }

  private nextBatch(): Batch {
    let r = this.batches.next();
    if (r.done) {
      this.batches = this.loader.batches();
      r = this.batches.next();
    }
    return r.value as Batch;
  }

  /**
   * n training steps on the next n batches. On the last one the first BN layer's batch statistics are recorded for
   * the snapshot. Probes never change the run: n steps at once or in pieces give the same weights.
   */
  train(n: number): void {
    for (let k = 0; k < n && !this.stopped; k++) {
      const b = this.nextBatch();
      const x = new Tensor(b.x.subarray(0, b.n * this.f), [b.n, ...this.data.inputShape]);
      this.step++;
      for (const side of this.sides) this.trainSide(side, x, b.y, k === n - 1);
    }
  }

  private trainSide(side: Side, x: Tensor, y: Int32Array, record: boolean): void {
    if (side.diverged !== null) return;
    const { net } = side;
    try {
      if (record) side.bnBatch = bnBatchStats(net, x);
      net.opt.zeroGrad();
      const out = net.model.forward(x);
      const loss = crossEntropy(out, y);
      const v = loss.item();
      if (!Number.isFinite(v)) {
        side.diverged = `diverged: the loss became ${v} at step ${this.step} (learning rate ${this.settings.lr}); this network stopped`;
        return;
      }
      side.correct += countCorrect(out, y);
      loss.backward();
      net.opt.step();
      side.lossSum += v * y.length;
      side.seen += y.length;
      side.steps++;
    } catch (e) {
      side.diverged = failure(e, net.norm, y.length);
    }
  }

  /**
   * Both nets' state. Cheap parts always: training loss and accuracy over the batches since the last snapshot,
   * gradient norms, BN units. `full` adds what costs a pass over data: test metrics, confusion (not 2-D), the
   * percentile bands on the probe batch, the decision boundary (2-D), and the eval gap when `view.evalMode`.
   * Without `full`, the last measured values are repeated.
   */
  snapshot(full: boolean, view: EvalView): [NetSnapshot, NetSnapshot] {
    return this.sides.map((side) => this.snapshotOf(side, full, view)) as [NetSnapshot, NetSnapshot];
  }

  private snapshotOf(side: Side, full: boolean, view: EvalView): NetSnapshot {
    const { net } = side;
    const s: NetSnapshot = { ...side.last, diverged: side.diverged };
    if (side.seen > 0) {
      s.trainLoss = side.lossSum / side.seen;
      s.trainAcc = side.correct / side.seen;
      side.lossSum = side.correct = side.seen = 0;
    }
    s.layers = layerProbes(
      s.layers.map(({ p15, p50, p85 }) => ({ p15, p50, p85 })),
      gradNorms(net),
    );
    s.bn = bnUnits(net, side.bnBatch);
    if (full && side.diverged === null) {
      const t = testMetrics(net.model, this.data.test, this.f, this.data.classes);
      s.testLoss = t.loss;
      s.testAcc = t.acc;
      s.confusion = this.data.range === null ? t.confusion : null;
      if (Number.isFinite(t.loss)) {
        s.layers = layerProbes(layerPercentiles(net, this.probe), gradNorms(net));
        s.boundary = this.data.range === null ? null : boundary(net.model, this.data.range);
      }
      // Before the first step the training loss is the test split's (both untrained), so curves start at step 0.
      if (side.steps === 0 && Number.isNaN(s.trainLoss)) {
        s.trainLoss = t.loss;
        s.trainAcc = t.acc;
      }
      if (view.evalMode) {
        s.evalGap = evalGap(net, this.data.test, this.f, view.evalBatch);
      } else s.evalGap = null;
    }
    if (!view.evalMode) s.evalGap = null;
    side.last = s;
    return s;
  }
}
