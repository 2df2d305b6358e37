// The lab's training loop: SGD/Adam steps on a dataset, periodic evaluation, divergence detection, hooks for probes.
import type { Module } from '../nn/module.js';
import { SGD } from '../optim/sgd.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { crossEntropy } from '../ops/loss.js';
import { noGrad } from '../autograd/grad-mode.js';
import { Tensor } from '../tensor/tensor.js';
import { NonFiniteError } from '../tensor/errors.js';
import { Loader } from '../data/loader.js';
import type { Dataset, Split } from '../data/dataset.js';
import type { Series } from './results.js';

export interface TrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  optimizer?: 'sgd' | 'adam';
  momentum?: number;
  weightDecay?: number;
  /** Evaluate on the test split every this many steps (and at step 0 and the end). */
  evalEvery: number;
  /** Test samples used per evaluation (default all). */
  evalSamples?: number;
  /** Also measure training accuracy on this many training samples at each evaluation (default 0 = no). */
  trainEvalSamples?: number;
  seed: number;
  /** Loss above this counts as diverged (default 1e3; cross-entropy starts near ln(classes)). */
  divergeLoss?: number;
  /** Training subset size (default all). */
  trainSubset?: number;
  /**
   * Called after each step's backward, before the update (gradients are fresh). Gets the step's batch so
   * probes can re-run it (e.g. the gradient after earlier layers move, on the same batch).
   */
  afterBackward?: (step: number, model: Module, x: Tensor, y: Int32Array) => void;
  /** Called at each evaluation point (after evaluation), in train mode again. */
  onEval?: (step: number, model: Module) => void;
  /** Progress callback. */
  progress?: (done: number, total: number) => void;
  /** Learning rate as a function of step (overrides lr per step). */
  lrAt?: (step: number) => number;
}

export interface TrainResult {
  curves: { trainLoss: Series; testAccuracy: Series; testLoss: Series; trainAccuracy: Series };
  diverged: boolean;
  divergedAt: number | null;
  finalTestAccuracy: number;
  finalTrainAccuracy: number | null;
  finalTestLoss: number;
  /** Steps actually taken. */
  steps: number;
}

/**
 * Accuracy and mean cross-entropy of `model` on the first `limit` samples of a split, in eval mode,
 * in chunks of `chunk`. Restores the model's mode afterwards.
 */
export function evaluate(
  model: Module,
  split: Split,
  sampleShape: readonly number[],
  opts: { limit?: number; chunk?: number; mode?: 'eval' | 'train' } = {},
): { accuracy: number; loss: number } {
  const n = Math.min(split.n, opts.limit ?? split.n);
  const chunk = opts.chunk ?? 1000;
  const f = sampleShape.reduce((a, b) => a * b, 1);
  const wasTraining = model.training;
  model.train(opts.mode === 'train');
  let correct = 0;
  let lossSum = 0;
  noGrad(() => {
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const x = new Tensor(split.x.subarray(s * f, (s + m) * f), [m, ...sampleShape]);
      const out = model.forward(x);
      const y = split.y.subarray(s, s + m);
      lossSum += crossEntropy(out, y).item() * m;
      const c = out.shape[1];
      for (let i = 0; i < m; i++) {
        let best = 0;
        for (let j = 1; j < c; j++) if (out.data[i * c + j] > out.data[i * c + best]) best = j;
        if (best === y[i]) correct++;
      }
    }
  });
  model.train(wasTraining);
  return { accuracy: n > 0 ? correct / n : NaN, loss: n > 0 ? lossSum / n : NaN };
}

/** Builds the optimizer named in the options. */
export function makeOptimizer(model: Module, opts: TrainOptions): Optimizer {
  if ((opts.optimizer ?? 'sgd') === 'adam') return new Adam(model.parameters(), { lr: opts.lr, weightDecay: opts.weightDecay ?? 0 });
  return new SGD(model.parameters(), { lr: opts.lr, momentum: opts.momentum ?? 0, weightDecay: opts.weightDecay ?? 0 });
}

/**
 * One training step: forward, cross-entropy, backward, update. Throws NonFiniteError when the loss
 * is NaN/Inf (never silently propagates it); returns the loss.
 */
export function trainStep(model: Module, opt: Optimizer, x: Tensor, y: Int32Array, step = 0, afterBackward?: TrainOptions['afterBackward']): number {
  opt.zeroGrad();
  const loss = crossEntropy(model.forward(x), y);
  const v = loss.item();
  if (!Number.isFinite(v)) throw new NonFiniteError(`loss became ${v} at step ${step} (learning rate ${opt.lr}); training stopped`);
  loss.backward();
  afterBackward?.(step, model, x, y);
  opt.step();
  return v;
}

/**
 * Trains a classifier for `steps` SGD steps over shuffled epochs of the training split.
 * Divergence (NaN/Inf loss, or loss above divergeLoss) ends the trial and is reported, not thrown.
 */
export function trainClassifier(model: Module, data: Dataset, opts: TrainOptions): TrainResult {
  const train = opts.trainSubset && opts.trainSubset < data.train.n ? firstN(data.train, opts.trainSubset, data.inputShape) : data.train;
  const loader = new Loader(train, data.inputShape, { batchSize: Math.min(opts.batchSize, train.n), seed: opts.seed, dropLast: true });
  const opt = makeOptimizer(model, opts);
  const curves: TrainResult['curves'] = { trainLoss: [], testAccuracy: [], testLoss: [], trainAccuracy: [] };
  const divergeLoss = opts.divergeLoss ?? 1e3;
  let diverged = false;
  let divergedAt: number | null = null;
  let lossAcc = 0;
  let lossCount = 0;
  const evalAt = (step: number) => {
    const r = evaluate(model, data.test, data.inputShape, { limit: opts.evalSamples });
    curves.testAccuracy.push([step, r.accuracy]);
    curves.testLoss.push([step, r.loss]);
    if (opts.trainEvalSamples) curves.trainAccuracy.push([step, evaluate(model, train, data.inputShape, { limit: opts.trainEvalSamples }).accuracy]);
    opts.onEval?.(step, model);
  };
  model.train();
  evalAt(0);
  let step = 0;
  outer: while (step < opts.steps) {
    for (const b of loader.batches()) {
      if (step >= opts.steps) break outer;
      if (opts.lrAt) opt.lr = opts.lrAt(step);
      const x = new Tensor(b.x.subarray(0, b.n * loader.featureCount), [b.n, ...data.inputShape]);
      let v: number;
      try {
        v = trainStep(model, opt, x, b.y.subarray(0, b.n), step + 1, opts.afterBackward);
      } catch (e) {
        if (!(e instanceof NonFiniteError)) throw e;
        v = NaN;
      }
      step++;
      if (!Number.isFinite(v) || v > divergeLoss) {
        diverged = true;
        divergedAt = step;
        curves.trainLoss.push([step, Number.isFinite(v) ? v : divergeLoss]);
        break outer;
      }
      lossAcc += v;
      lossCount++;
      if (step % opts.evalEvery === 0 || step === opts.steps) {
        curves.trainLoss.push([step, lossAcc / lossCount]);
        lossAcc = 0;
        lossCount = 0;
        evalAt(step);
      }
      opts.progress?.(step, opts.steps);
    }
  }
  const lastAcc = curves.testAccuracy[curves.testAccuracy.length - 1];
  const lastLoss = curves.testLoss[curves.testLoss.length - 1];
  const lastTrain = curves.trainAccuracy[curves.trainAccuracy.length - 1];
  return {
    curves,
    diverged,
    divergedAt,
    finalTestAccuracy: diverged ? chance(data) : lastAcc[1],
    finalTrainAccuracy: diverged ? chance(data) : (lastTrain?.[1] ?? null),
    finalTestLoss: diverged ? NaN : lastLoss[1],
    steps: step,
  };
}

/** Accuracy of guessing: 1 / classes (what a diverged network scores). */
function chance(data: Dataset): number {
  return 1 / data.classes.length;
}

/** The first n samples of a split (views, no copy). */
export function firstN(split: Split, n: number, sampleShape: readonly number[]): Split {
  const f = sampleShape.reduce((a, b) => a * b, 1);
  return { x: split.x.subarray(0, n * f), y: split.y.subarray(0, n), n };
}

/** First step at which a curve reaches `target` (null if never). */
export function stepsToReach(curve: Series, target: number): number | null {
  for (const [s, v] of curve) if (v >= target) return s;
  return null;
}
