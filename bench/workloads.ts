// The bench workloads (W1-W6, GEMM, memory copy) in bnlab; bench/reference/workloads.py holds the same in PyTorch.
import { BatchNorm1d, BatchNorm2d, fuseBatchNormAct } from '../src/nn/norm/index.js';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Sigmoid, resnet, type Module } from '../src/nn/index.js';
import { crossEntropy } from '../src/ops/index.js';
import { SGD } from '../src/optim/index.js';
import { noGrad } from '../src/autograd/grad-mode.js';
import { rand, randn } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/rng.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { kernels } from '../src/kernels/select.js';

/** One benchmarked workload: `setup` builds models and data, and returns a function doing one iteration. */
export interface Workload {
  id: string;
  title: string;
  /** Target for bnlab time / PyTorch time at 1 thread (issue 5; W1, W4 and W5 tightened by issue 11), when there is one. */
  target?: number;
  /** Id of the same workload in bench/reference/workloads.py (null: no PyTorch counterpart). */
  reference: string | null;
  setup(): () => void;
  /** Work per iteration, for a rate column: GFLOP/s from flops, GB/s from bytes. */
  flops?: number;
  bytes?: number;
}

/** Linear -> BatchNorm1d -> activation per hidden layer, then a Linear head; PyTorch default init. */
function mlp(widths: number[], act: () => Module, rng: Rng): Sequential {
  const layers: Module[] = [];
  for (let i = 0; i + 2 < widths.length; i++) {
    layers.push(new Linear(widths[i], widths[i + 1], { rng }), new BatchNorm1d(widths[i + 1]), act());
  }
  layers.push(new Linear(widths[widths.length - 2], widths[widths.length - 1], { rng }));
  return fuseBatchNormAct(new Sequential(...layers), { inplace: true });
}

function labels(n: number, rng: Rng): Int32Array {
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor(rng.uniform() * 10);
  return y;
}

/** One SGD step on a fixed batch, in the order PyTorch users write it. */
function trainStep(model: Module, x: Tensor, y: Int32Array, lr: number): () => void {
  const opt = new SGD(model.parameters(), { lr });
  model.train();
  return () => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
  };
}

const W4_SHAPE = [64, 64, 28, 28];
const W4_NUMEL = W4_SHAPE.reduce((a, b) => a * b, 1);

/** The workloads of issue 5, same shapes, learning rates and batch sizes as the PyTorch reference. */
export const workloads: Workload[] = [
  {
    id: 'W1',
    title: "paper's net 784-100x3-10 sigmoid+BN, b60, SGD step",
    target: 0.5,
    reference: 'W1',
    setup() {
      const rng = new Rng(1);
      const m = mlp([784, 100, 100, 100, 10], () => new Sigmoid(), rng);
      return trainStep(m, rand([60, 784], { rng }), labels(60, rng), 0.5);
    },
  },
  {
    id: 'W2',
    title: 'MLP 784-256x3-10 ReLU+BN, b128, SGD step',
    target: 1.0,
    reference: 'W2',
    setup() {
      const rng = new Rng(2);
      const m = mlp([784, 256, 256, 256, 10], () => new ReLU(), rng);
      return trainStep(m, rand([128, 784], { rng }), labels(128, rng), 0.1);
    },
  },
  {
    id: 'W3',
    title: 'CNN conv32-BN-pool-conv64-BN-pool-FC, b64, SGD step',
    target: 1.0,
    reference: 'W3',
    setup() {
      const rng = new Rng(3);
      const m = fuseBatchNormAct(new Sequential(
        new Conv2d(1, 32, 3, { padding: 1, rng }), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
        new Conv2d(32, 64, 3, { padding: 1, rng }), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Linear(3136, 10, { rng }),
      ), { inplace: true });
      return trainStep(m, rand([64, 1, 28, 28], { rng }), labels(64, rng), 0.05);
    },
  },
  {
    id: 'W4',
    title: 'BatchNorm2d fwd+bwd (64,64,28,28)',
    target: 0.25,
    reference: 'W4',
    // Compulsory traffic: read x, write y, read dy, write dx (float32); the GB/s column compares it with memcpy.
    bytes: 4 * 4 * W4_NUMEL,
    setup() {
      const rng = new Rng(4);
      const layer = new BatchNorm2d(64);
      layer.train();
      const x = randn(W4_SHAPE, { rng, requiresGrad: true });
      const dy = randn(W4_SHAPE, { rng }).data;
      return () => {
        x.zeroGrad();
        layer.zeroGrad();
        layer.forward(x).backward(dy);
      };
    },
  },
  {
    id: 'W5',
    title: 'W2 net in eval mode, forward only, b1024',
    target: 0.9,
    reference: 'W5',
    setup() {
      const rng = new Rng(5);
      const m = mlp([784, 256, 256, 256, 10], () => new ReLU(), rng).eval();
      const x = rand([1024, 784], { rng });
      return () => void noGrad(() => m.forward(x));
    },
  },
  {
    // Issue 13: the residual experiment's net (basic blocks, stride-2 stages with conv1x1 + BN shortcuts, global
    // average pooling); no target yet.
    id: 'W6',
    title: 'ResNet-8 (16/32/64, BN) 28x28, b64, SGD step',
    reference: 'W6',
    setup() {
      const rng = new Rng(7);
      const m = resnet({ depth: 8, norm: 'bn' }, 7);
      return trainStep(m, rand([64, 1, 28, 28], { rng }), labels(64, rng), 0.05);
    },
  },
  {
    id: 'GEMM',
    title: 'sgemm 256x784x256 (active backend)',
    reference: 'GEMM',
    flops: 2 * 256 * 784 * 256,
    setup: () => gemmStep(),
  },
];

/** One C = A B of 256x784 by 784x256 on the active backend (or the given one). */
export function gemmStep(k = kernels()): () => void {
  const rng = new Rng(6);
  const a = randn([256, 784], { rng }).data;
  const b = randn([784, 256], { rng }).data;
  const c = new Float32Array(256 * 256);
  return () => k.gemm(false, false, 256, 256, 784, 1, a, 784, b, 256, 0, c, 256);
}

/** Copies a W4-sized buffer (12.8 MB): the memory-bandwidth yardstick for W4. Bytes moved = read + write. */
export const memcpy: Workload = {
  id: 'MEMCPY',
  title: `memory copy ${(W4_NUMEL * 4 / 1e6).toFixed(1)} MB`,
  reference: null,
  bytes: 2 * 4 * W4_NUMEL,
  setup() {
    const src = new Float32Array(W4_NUMEL).fill(1);
    const dst = new Float32Array(W4_NUMEL);
    return () => dst.set(src);
  },
};
