// The differentiable ops, re-exported.
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './matmul.js';
export * from './activation.js';
export * from './loss.js';
export * from './conv.js';
export * from './pool.js';
export * from './dropout.js';
export * from './residual.js';
