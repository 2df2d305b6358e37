// What the page shows of a network, measured without changing its run: test metrics, percentiles, BN units, boundary, eval gap.
import type { Split } from '../../../src/data/dataset.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { DistributionNoise } from '../../../src/lab/models.js';
import { Dropout } from '../../../src/nn/activation.js';
import type { Module } from '../../../src/nn/module.js';
import { crossEntropy } from '../../../src/ops/loss.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import type { BnUnits, LayerProbe, NetSnapshot } from '../protocol.js';
import type { Net } from './net.js';

/** Units of the first BN layer whose statistics are reported. */
export const BN_UNITS = 8;
/** Side of the decision-boundary grid. */
export const GRID = 48;

/**
 * Runs fn with the model in training mode as a probe: no gradient, dropout and the noisy-BN ablation off (they
 * would draw random numbers and so change the run), and BN's running statistics put back afterwards. BN layers
 * thus normalize with the probe batch's own statistics, as they do while training.
 */
export function asProbe<T>(model: Module, fn: () => T): T {
  const saved = model.namedBuffers().map(([, t]) => [t, t.data.slice()] as const);
  const quiet = model.namedModules().map(([, m]) => m).filter((m) => m instanceof Dropout || m instanceof DistributionNoise);
  const wasTraining = model.training;
  model.train(true);
  for (const m of quiet) m.training = false;
  try {
    return noGrad(fn);
  } finally {
    for (const [t, data] of saved) t.data.set(data);
    model.train(wasTraining);
  }
}

/** Argmax of row i of a (n, c) logit matrix. */
function argmax(d: Float32Array, i: number, c: number): number {
  let best = 0;
  for (let j = 1; j < c; j++) if (d[i * c + j] > d[i * c + best]) best = j;
  return best;
}

/** Correct predictions in a batch of logits. */
export function countCorrect(out: Tensor, y: Int32Array): number {
  const c = out.shape[1];
  let k = 0;
  for (let i = 0; i < y.length; i++) if (argmax(out.data, i, c) === y[i]) k++;
  return k;
}

function rows(split: Split, f: number, from: number, to: number): Tensor {
  return new Tensor(split.x.slice(from * f, to * f), [to - from, f]);
}

/** Test loss, accuracy and confusion[true][predicted] in eval mode (running statistics), in chunks of 500. */
export function testMetrics(model: Module, split: Split, f: number, classes: number): { loss: number; acc: number; confusion: number[][] } {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = 0;
  let correct = 0;
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let s = 0; s < split.n; s += 500) {
        const e = Math.min(split.n, s + 500);
        const out = model.forward(rows(split, f, s, e));
        const y = split.y.subarray(s, e);
        lossSum += crossEntropy(out, y).item() * (e - s);
        for (let i = 0; i < e - s; i++) {
          const p = argmax(out.data, i, classes);
          confusion[y[i]][p]++;
          if (p === y[i]) correct++;
        }
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { loss: lossSum / split.n, acc: correct / split.n, confusion };
}

/** q-th percentile (0..100) of sorted values, interpolated linearly (numpy's default). */
function quantile(sorted: Float32Array, q: number): number {
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** L2 norm of a gradient, accumulated in float64; 0 before the first step. */
function l2(g: Float32Array | null): number {
  if (g === null) return 0;
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/** Gradient norm of each hidden layer's weight at the last step (cheap: read every snapshot). */
export function gradNorms(net: Net): number[] {
  return net.linears.slice(0, -1).map((l) => l.weight.grad).map(l2);
}

/**
 * 15th, 50th and 85th percentile of each hidden layer's pre-activations (the activation's input, after a norm placed
 * before it) over all units and the probe batch, in training mode (see asProbe): Figure 1(b, c), for every layer.
 */
export function layerPercentiles(net: Net, probe: Tensor): { p15: number; p50: number; p85: number }[] {
  for (const t of net.taps) t.enabled = true;
  try {
    asProbe(net.model, () => net.model.forward(probe));
    return net.taps.map((t) => {
      const v = Float32Array.from(t.last!.data).sort();
      return { p15: quantile(v, 15), p50: quantile(v, 50), p85: quantile(v, 85) };
    });
  } finally {
    for (const t of net.taps) {
      t.enabled = false;
      t.last = null;
    }
  }
}

/** LayerProbes from cached percentiles and fresh gradient norms. */
export function layerProbes(pcts: { p15: number; p50: number; p85: number }[], grads: number[]): LayerProbe[] {
  return grads.map((gradNorm, i) => ({ name: `layer ${i + 1}`, ...(pcts[i] ?? { p15: NaN, p50: NaN, p85: NaN }), gradNorm }));
}

/**
 * Per-unit mean and std (biased, as BN normalizes with) of the first BN layer's input on a training batch: the
 * statistics that layer uses in this step. Run before the step, so they match the weights the step sees. Ghost BN
 * normalizes each virtual batch apart; its first virtual batch is reported.
 */
export function bnBatchStats(net: Net, x: Tensor): { mean: number[]; std: number[] } | null {
  if (net.firstBn === null) return null;
  const { index, module: bn } = net.firstBn;
  const h = asProbe(net.model, () => {
    let t = x;
    for (let i = 0; i < index; i++) t = net.model.layers[i].forward(t);
    return t;
  });
  const width = h.shape[1];
  const n = Math.min(h.shape[0], bn.virtualBatchSize ?? Infinity);
  const units = Math.min(BN_UNITS, width);
  const mean: number[] = [];
  const std: number[] = [];
  for (let u = 0; u < units; u++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += h.data[i * width + u];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (h.data[i * width + u] - m) ** 2;
    mean.push(m);
    std.push(Math.sqrt(v / n));
  }
  return { mean, std };
}

/** BnUnits: the batch statistics recorded at the last step next to the running ones now (std = sqrt(running_var)). */
export function bnUnits(net: Net, batch: { mean: number[]; std: number[] } | null): BnUnits | null {
  if (net.firstBn === null || batch === null) return null;
  const { index, module: bn } = net.firstBn;
  const units = batch.mean.length;
  const rm = bn.runningMean?.data;
  const rv = bn.runningVar?.data;
  return {
    layer: `${bn.constructor.name} of layer 1 (module ${index})`,
    batchMean: batch.mean,
    batchStd: batch.std,
    runningMean: Array.from({ length: units }, (_, u) => (rm ? rm[u] : NaN)),
    runningStd: Array.from({ length: units }, (_, u) => (rv ? Math.sqrt(rv[u]) : NaN)),
  };
}

/** P(class 1) in eval mode on a GRID x GRID lattice over the range, row-major from (x0, y0). */
export function boundary(model: Module, r: { x0: number; x1: number; y0: number; y1: number }): NonNullable<NetSnapshot['boundary']> {
  const g = GRID;
  const pts = new Float32Array(g * g * 2);
  for (let j = 0; j < g; j++) {
    for (let i = 0; i < g; i++) {
      pts[2 * (j * g + i)] = r.x0 + ((i + 0.5) / g) * (r.x1 - r.x0);
      pts[2 * (j * g + i) + 1] = r.y0 + ((j + 0.5) / g) * (r.y1 - r.y0);
    }
  }
  const wasTraining = model.training;
  model.eval();
  const p = new Float32Array(g * g);
  try {
    const out = noGrad(() => model.forward(new Tensor(pts, [g * g, 2])));
    // softmax over two logits: p1 = 1 / (1 + exp(l0 - l1))
    for (let k = 0; k < g * g; k++) p[k] = 1 / (1 + Math.exp(out.data[2 * k] - out.data[2 * k + 1]));
  } finally {
    model.train(wasTraining);
  }
  return { size: g, ...r, p };
}

/**
 * Test accuracy in eval mode (running statistics) and in training mode with batches of `evalBatch` (each batch
 * normalized by its own statistics, as a model left in train() would at inference), both over the first 500 test
 * samples in whole batches: what the train/eval switch compares. BN refuses a batch of one, so evalBatch >= 2.
 */
export function evalGap(net: Net, split: Split, f: number, evalBatch: number): { evalAcc: number; trainModeAcc: number; evalBatch: number } {
  const b = Math.max(2, Math.floor(evalBatch));
  const n = Math.floor(Math.min(split.n, 500) / b) * b;
  if (n === 0) return { evalAcc: NaN, trainModeAcc: NaN, evalBatch: b };
  const y = split.y.subarray(0, n);
  const model = net.model;
  model.eval();
  let evalCorrect = 0;
  try {
    evalCorrect = countCorrect(noGrad(() => model.forward(rows(split, f, 0, n))), y);
  } finally {
    model.train();
  }
  let correct = 0;
  asProbe(model, () => {
    for (let s = 0; s < n; s += b) correct += countCorrect(model.forward(rows(split, f, s, s + b)), split.y.subarray(s, s + b));
  });
  return { evalAcc: evalCorrect / n, trainModeAcc: correct / n, evalBatch: b };
}
