// Public API of bnlab's data layer: datasets, the IDX reader, the loader and normalization.
export { DataError } from './errors.js';
export type { Dataset, Split, Normalization, FeatureStats } from './dataset.js';
export { classCounts, sampleSize, subset, stratifiedSplitIndices, pixelsToFloat } from './dataset.js';
export { parseIdx, parseIdxHeader, parseIdxImages, parseIdxLabels, encodeIdxUint8 } from './idx.js';
export type { IdxArray, IdxHeader, IdxImages, IdxType } from './idx.js';
export { readIdxFile, readIdxFileHeader, readMaybeGzip, readIdxPair, findIdxFiles, requireIdxFiles, IDX_FILE_NAMES } from './idx-file.js';
export type { IdxFiles, IdxSplitRaw } from './idx-file.js';
export { Loader } from './loader.js';
export type { Batch, LoaderOptions } from './loader.js';
export { featureStats, applyStandardize, standardize, scaleToUnit } from './normalize.js';
export { SYNTHETIC, loadSynthetic, isSynthetic } from './synthetic.js';
export type { SyntheticName, SyntheticOptions } from './synthetic.js';
export { loadMnist10kRaw } from './mnist10k.js';
export type { Mnist10kRaw } from './mnist10k.js';
export { loadDataset, listDatasets, locateIdx, isDatasetName, DATASET_NAMES, FASHION_CLASSES, DIGIT_CLASSES, MNIST10K_SPLIT } from './registry.js';
export type { DatasetName, DatasetInfo, LoadOptions } from './registry.js';
