// bnlab's public API: tensors, autograd, ops, modules, initializers, optimizers, kernels, data and weights io.
export { Tensor, numel } from './tensor/tensor.js';
export { tensor, zeros, ones, full, arange, randn, rand } from './tensor/create.js';
export { Rng, manualSeed, getRng } from './tensor/rng.js';
export { BnlabError, ShapeError, ArgumentError, NonFiniteError } from './tensor/errors.js';
export { noGrad, isGradEnabled } from './autograd/grad-mode.js';
export * from './ops/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export type { Kernels, BackendName } from './kernels/kernels.js';
export { kernels, setBackend, backendInfo, availableBackends } from './kernels/select.js';
export * from './data/index.js';
export * from './ops/norm/index.js';
export * from './nn/norm/index.js';
export * from './io/index.js';
