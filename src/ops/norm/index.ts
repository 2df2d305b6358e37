// The normalization ops, re-exported: batchNorm, batchRenorm, layerNorm, groupNorm.
export { batchNorm, batchRenorm } from './batchnorm.js';
export type { BatchNormOptions, RenormLimits } from './batchnorm.js';
export { layerNorm, groupNorm } from './layernorm.js';
