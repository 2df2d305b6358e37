// The normalization modules, re-exported: BatchNorm1d/2d, BatchRenorm1d/2d, LayerNorm, GroupNorm, foldBatchNorm, fuseBatchNormAct.
export { BatchNormBase, BatchNorm1d, BatchNorm2d, freezeBatchNorm } from './batchnorm.js';
export type { BatchNormModuleOptions, KerasBatchNormOptions } from './batchnorm.js';
export { BatchRenorm1d, BatchRenorm2d, renormRamp } from './renorm.js';
export type { BatchRenormOptions, RenormLimit } from './renorm.js';
export { LayerNorm, GroupNorm } from './layernorm.js';
export { foldBatchNorm, deepCopyModule } from './fold.js';
export { fuseBatchNormAct } from './fuse.js';
export type { FuseOptions } from './fuse.js';
