// A synchronous training loop keeps the WebAssembly heap flat: every block a step takes is given back within the step.
import { describe, expect, it } from 'vitest';
import { Sequential } from '../../src/nn/sequential.js';
import { BatchNorm1d, BatchNorm2d } from '../../src/nn/norm/batchnorm.js';
import { Conv2d, Linear } from '../../src/nn/layers.js';
import { Flatten, MaxPool2d, ReLU, Sigmoid } from '../../src/nn/activation.js';
import { SGD } from '../../src/optim/sgd.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { randn } from '../../src/tensor/create.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { Rng } from '../../src/tensor/rng.js';
import { heapStats } from '../../src/tensor/heap.js';
import { availableBackends, setBackend } from '../../src/kernels/select.js';
import type { Module } from '../../src/nn/module.js';

/** Heap bytes ever handed out and live after `steps` training steps (no await in between: no finalizer can run). */
function heapAfter(model: Module, inputShape: number[], steps: number[]): { top: number; live: number }[] {
  const rng = new Rng(5);
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const x = randn(inputShape, { rng });
  const y = Int32Array.from({ length: inputShape[0] }, (_, i) => i % 10);
  const out: { top: number; live: number }[] = [];
  for (let s = 1; s <= steps[steps.length - 1]; s++) {
    model.train();
    opt.zeroGrad();
    crossEntropy(model.forward(x), y).backward();
    opt.step();
    // Evaluation in the loop, as the lab does.
    if (s % 10 === 0) {
      model.eval();
      noGrad(() => model.forward(x));
    }
    if (steps.includes(s)) {
      const h = heapStats();
      out.push({ top: h.topBytes, live: h.liveBytes });
    }
  }
  return out;
}

describe.each(availableBackends())('heap during training on backend %s', (backend) => {
  it('an MLP with BatchNorm takes no new heap after its first steps', () => {
    setBackend(backend);
    const rng = new Rng(1);
    const model = new Sequential(
      new Linear(784, 128, { rng }), new BatchNorm1d(128), new ReLU(),
      new Linear(128, 128, { rng }), new BatchNorm1d(128), new Sigmoid(),
      new Linear(128, 10, { rng }),
    );
    const [warm, later] = heapAfter(model, [64, 784], [20, 300]);
    expect(later.top).toBe(warm.top);
    expect(later.live).toBe(warm.live);
  });

  it('a convnet with BatchNorm2d takes no new heap after its first steps', () => {
    setBackend(backend);
    const rng = new Rng(2);
    const model = new Sequential(
      new Conv2d(1, 8, 3, { padding: 1, rng }), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
      new Flatten(), new Linear(8 * 14 * 14, 10, { rng }),
    );
    const [warm, later] = heapAfter(model, [16, 1, 28, 28], [20, 80]);
    expect(later.top).toBe(warm.top);
    expect(later.live).toBe(warm.live);
  });
});
