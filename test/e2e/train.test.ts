// End to end: small nets learn XOR, two moons and a toy image task from fixed seeds; the same seed gives bit-identical runs.
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/kernels/blas/index.js';
import { availableBackends, kernels, setBackend } from '../../src/kernels/select.js';
import { Module } from '../../src/nn/module.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Linear, Conv2d } from '../../src/nn/layers.js';
import { ReLU, Tanh, Dropout, MaxPool2d, Flatten } from '../../src/nn/activation.js';
import { SGD } from '../../src/optim/sgd.js';
import { Adam } from '../../src/optim/adam.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import { CosineLR } from '../../src/optim/schedule.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng, manualSeed, getRng } from '../../src/tensor/rng.js';

interface Data {
  x: Float32Array;
  y: Int32Array;
  n: number;
  f: number;
}

/** Two interleaving half circles (sklearn's make_moons), centred near the origin, classes alternating. */
function moons(n: number, noise: number, rng: Rng): Data {
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const t = Math.PI * rng.uniform();
    x[2 * i] = (c === 0 ? Math.cos(t) : 1 - Math.cos(t)) - 0.5 + noise * rng.normal();
    x[2 * i + 1] = (c === 0 ? Math.sin(t) : 0.5 - Math.sin(t)) - 0.25 + noise * rng.normal();
    y[i] = c;
  }
  return { x, y, n, f: 2 };
}

/** The four XOR points, in {-1, 1}^2. */
const xor: Data = { x: Float32Array.from([-1, -1, -1, 1, 1, -1, 1, 1]), y: Int32Array.from([0, 1, 1, 0]), n: 4, f: 2 };

/** Rows `idx` of the data as a batch tensor of shape [batch, ...shape]. */
function batch(d: Data, idx: ArrayLike<number>, shape: number[] = [d.f]): [Tensor, Int32Array] {
  const bx = new Float32Array(idx.length * d.f);
  const by = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    bx.set(d.x.subarray(idx[i] * d.f, (idx[i] + 1) * d.f), i * d.f);
    by[i] = d.y[idx[i]];
  }
  return [new Tensor(bx, [idx.length, ...shape]), by];
}

/** Mini-batch training for `steps` steps, batches drawn by shuffling with `rng`; returns the loss of every step. */
function train(model: Module, opt: Optimizer, d: Data, steps: number, bs: number, rng: Rng, shape?: number[], onStep?: () => void): number[] {
  const losses: number[] = [];
  const order = Int32Array.from({ length: d.n }, (_, i) => i);
  let pos = d.n;
  model.train();
  for (let s = 0; s < steps; s++) {
    if (pos + bs > d.n) {
      rng.shuffle(order);
      pos = 0;
    }
    const [x, y] = batch(d, order.subarray(pos, pos + bs), shape);
    pos += bs;
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    onStep?.();
    losses.push(loss.item());
  }
  return losses;
}

function accuracy(model: Module, d: Data, shape?: number[]): number {
  model.eval();
  const [x] = batch(d, Int32Array.from({ length: d.n }, (_, i) => i), shape);
  const out = noGrad(() => model.forward(x));
  const c = out.shape[1];
  let ok = 0;
  for (let i = 0; i < d.n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (out.data[i * c + j] > out.data[i * c + best]) best = j;
    if (best === d.y[i]) ok++;
  }
  return ok / d.n;
}

const initial = kernels().name;
afterAll(() => {
  setBackend(initial);
});

describe.each(availableBackends())('training on backend %s', (backend) => {
  it('an MLP reaches 100% on XOR in 200 full-batch steps', () => {
    setBackend(backend);
    const rng = new Rng(1);
    const model = new Sequential(new Linear(2, 8, { rng }), new Tanh(), new Linear(8, 2, { rng }));
    const opt = new SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
    const losses = train(model, opt, xor, 200, 4, rng);
    expect(accuracy(model, xor)).toBe(1);
    expect(losses[losses.length - 1]).toBeLessThan(0.05);
  });

  it('an MLP reaches >= 97% on held-out two moons in 300 steps of batch 32', () => {
    setBackend(backend);
    const rng = new Rng(2);
    const trainSet = moons(400, 0.1, rng);
    const testSet = moons(400, 0.1, rng);
    const model = new Sequential(new Linear(2, 32, { rng }), new ReLU(), new Linear(32, 32, { rng }), new ReLU(), new Linear(32, 2, { rng }));
    const opt = new Adam(model.parameters(), { lr: 0.02 });
    const sched = new CosineLR(opt, 300);
    train(model, opt, trainSet, 300, 32, rng, undefined, () => sched.step());
    expect(accuracy(model, trainSet)).toBeGreaterThanOrEqual(0.97);
    expect(accuracy(model, testSet)).toBeGreaterThanOrEqual(0.97);
  });

  it('a small CNN separates horizontal from vertical bars (conv, pooling, flatten end to end)', () => {
    setBackend(backend);
    const rng = new Rng(3);
    // 8x8 images: one bright row (class 0) or column (class 1) at a random position, plus noise.
    const n = 64;
    const d: Data = { x: new Float32Array(n * 64), y: new Int32Array(n), n, f: 64 };
    for (let i = 0; i < n; i++) {
      const c = i % 2;
      const k = rng.int(8);
      for (let p = 0; p < 64; p++) d.x[i * 64 + p] = 0.3 * rng.normal() + ((c === 0 ? Math.floor(p / 8) : p % 8) === k ? 1 : 0);
      d.y[i] = c;
    }
    const model = new Sequential(
      new Conv2d(1, 4, 3, { padding: 1, rng }), new ReLU(), new MaxPool2d(2),
      new Conv2d(4, 4, 3, { stride: 2, padding: 1, rng }), new ReLU(), new Flatten(), new Linear(16, 2, { rng }),
    );
    const opt = new Adam(model.parameters(), { lr: 0.02 });
    const losses = train(model, opt, d, 60, 16, rng, [1, 8, 8]);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses[0]);
    expect(accuracy(model, d, [1, 8, 8])).toBeGreaterThanOrEqual(0.95);
  });

  it('the same seed twice gives bit-identical losses and weights (dropout, shuffling and init from seeded Rngs)', () => {
    setBackend(backend);
    const run = (seed: number) => {
      const rng = new Rng(seed);
      const data = moons(128, 0.2, new Rng(seed + 100));
      const model = new Sequential(new Linear(2, 16, { rng }), new ReLU(), new Dropout(0.2, { rng: rng.fork() }), new Linear(16, 2, { rng }));
      const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
      const losses = train(model, opt, data, 40, 16, rng);
      return { losses, weights: model.parameters().map((p) => Array.from(p.data)) };
    };
    const a = run(5), b = run(5), c = run(6);
    // toEqual on plain numbers compares with Object.is: any difference in the last bit fails.
    expect(b.losses).toEqual(a.losses);
    expect(b.weights).toEqual(a.weights);
    expect(c.losses).not.toEqual(a.losses);
  });

  it('manualSeed makes runs that use the global generator repeat, even for modules built before it', () => {
    setBackend(backend);
    // Modules made before manualSeed must draw from the re-seeded global stream (as PyTorch's), not a stale one.
    const model = new Sequential(new Linear(2, 16), new ReLU(), new Dropout(0.3), new Linear(16, 2));
    const start = model.stateDict();
    const data = moons(64, 0.2, new Rng(7));
    const run = () => {
      model.loadStateDict(start);
      manualSeed(42);
      const opt = new SGD(model.parameters(), { lr: 0.1 });
      return train(model, opt, data, 20, 16, getRng());
    };
    const a = run();
    const b = run();
    expect(b).toEqual(a);
  });
});
