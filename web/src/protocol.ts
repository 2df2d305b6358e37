// Messages between the page and the training worker, and the settings both sides share.

/** What differs between the two networks: their normalization, and only that. */
export type NormChoice = 'none' | 'bn-before' | 'bn-after' | 'renorm' | 'ghost' | 'group' | 'layer' | 'noisy-bn';

export type DatasetName = 'circle' | 'xor' | 'gaussians' | 'spiral' | 'moons' | 'scales' | 'digits';
export type OptimizerName = 'sgd' | 'momentum' | 'adam';
export type ActivationName = 'relu' | 'tanh' | 'sigmoid';
export type InitName = 'normal' | 'xavier' | 'kaiming';

/** Every setting of a run; all of it (with the seed) lives in the URL hash, so a link reproduces the run. */
export interface Settings {
  preset: string;
  seed: number;
  dataset: DatasetName;
  /** Label/point noise of the 2-D sets, 0..0.5. */
  noise: number;
  /** Share of examples used for training, 0.1..0.9 (the rest is the test split). */
  trainShare: number;
  left: NormChoice;
  right: NormChoice;
  lr: number;
  batchSize: number;
  optimizer: OptimizerName;
  activation: ActivationName;
  /** Hidden layers, 1..10. */
  depth: number;
  /** Units per hidden layer, 1..256. */
  width: number;
  init: InitName;
  /** Standard deviation of init 'normal', 1e-3..10. */
  initStd: number;
  /** BN momentum, PyTorch convention (weight of the new batch), 0..1. */
  bnMomentum: number;
  bnEps: number;
  /** Dropout after each hidden activation, 0..0.9. */
  dropout: number;
  /** Ghost BN virtual batch size; GroupNorm groups. */
  ghostBatch: number;
  groups: number;
  stepsPerFrame: number;
}

/** Page -> worker. */
export type ToWorker =
  /** backend: 'wasm' (the default, WebAssembly SIMD) or 'ts' (plain loops), e.g. from ?backend=ts in the page URL. */
  | { type: 'reset'; settings: Settings; backend?: 'wasm' | 'ts' }
  | { type: 'play' }
  | { type: 'pause' }
  | { type: 'step'; steps: number }
  | { type: 'evalView'; evalMode: boolean; evalBatch: number };

/** Pre-activation distribution of one hidden layer at one step: 15th, 50th and 85th percentiles. */
export interface LayerProbe {
  name: string;
  p15: number;
  p50: number;
  p85: number;
  /** L2 norm of the gradient of this layer's weight at the last step. */
  gradNorm: number;
}

/** Per-unit statistics of one BN layer (the first few units): batch statistics next to running ones. */
export interface BnUnits {
  layer: string;
  batchMean: number[];
  batchStd: number[];
  runningMean: number[];
  runningStd: number[];
}

/** The state of one network after a step. */
export interface NetSnapshot {
  norm: NormChoice;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  /** Set when the loss became NaN/Inf: training of this net stops and the page says so. */
  diverged: string | null;
  layers: LayerProbe[];
  bn: BnUnits | null;
  /** 2-D data: the predicted probability of class 1 on a size x size grid over the data's range, row-major. */
  boundary: { size: number; x0: number; x1: number; y0: number; y1: number; p: Float32Array } | null;
  /** Digits: confusion[true][predicted] on the test split. */
  confusion: number[][] | null;
  /** Test accuracy in eval mode (running statistics) vs train mode with batches of evalBatch. */
  evalGap: { evalAcc: number; trainModeAcc: number; evalBatch: number } | null;
}

/** Worker -> page. */
export type FromWorker =
  | {
      type: 'ready';
      backend: string;
      /** The dataset as plotted: 2-D points (x, y, label, isTest) or null for digits. */
      points: { x: Float32Array; y: Float32Array; label: Uint8Array; test: Uint8Array } | null;
      inputs: number;
      classes: number;
    }
  | { type: 'snapshot'; step: number; stepsPerSec: number; playing: boolean; nets: [NetSnapshot, NetSnapshot] }
  | { type: 'error'; message: string };
