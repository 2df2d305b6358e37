// Modules and initializers, re-exported (initializers under the `init` namespace, as torch.nn.init).
export * from './module.js';
export * from './layers.js';
export * from './activation.js';
export * from './sequential.js';
export * as init from './init.js';
export * from './residual.js';
export * from './models.js';
export * from './fused.js';
