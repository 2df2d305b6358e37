// Test helper: a model's SGD steps (train forward + backward + eval forward) take no new heap blocks after the first two.
import { expect } from 'vitest';
import { noGrad } from '../../src/autograd/grad-mode.js';
import type { Module } from '../../src/nn/module.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { heapStats } from '../../src/tensor/heap.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/** Two warm-up steps, then five more: live heap blocks must not grow and nothing may overflow to the JS heap. */
export function expectSteadyHeap(m: Module, x: Tensor, labels: number[]): void {
  const opt = new SGD(m.parameters(), { lr: 0.05 });
  const step = () => {
    opt.zeroGrad();
    crossEntropy(m.train().forward(x), labels).backward();
    opt.step();
    noGrad(() => m.eval().forward(x));
  };
  step();
  step();
  const before = heapStats();
  for (let i = 0; i < 5; i++) step();
  const after = heapStats();
  if (!before.available) return;
  expect(after.liveBlocks).toBeLessThanOrEqual(before.liveBlocks);
  expect(after.overflows).toBe(before.overflows);
}
