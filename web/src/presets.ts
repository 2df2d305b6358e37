// The presets of the browser lab: one per claim made for BN, each with the claim it tests and what later work says.
import type { Settings } from './protocol.js';
import { DEFAULTS } from './settings.js';

export interface Preset {
  id: string;
  title: string;
  /** One line: what the preset tests. */
  claim: string;
  /** One line: what later work says about it. */
  later: string;
  /** Overrides of DEFAULTS. */
  settings: Partial<Settings>;
}

/** The paper's MNIST net (Sec. 4.1): 784-100-100-100-10 sigmoid, N(0, 0.1^2) weights, batch 60; SGD lr 0.5 as the lab's fig1. */
const paperNet: Partial<Settings> = {
  dataset: 'digits',
  depth: 3,
  width: 100,
  activation: 'sigmoid',
  init: 'normal',
  initStd: 0.1,
  batchSize: 60,
  optimizer: 'sgd',
  lr: 0.5,
  stepsPerFrame: 4,
};

export const PRESETS: Preset[] = [
  {
    id: 'default',
    title: '2-D: a small net with and without BN',
    claim: 'Two equal 4 x 8 ReLU nets on the circle, BN before each activation on the right: at this small scale BN buys nothing, and with ' +
      'batches of 10 its training loss stays higher and noisier (each step normalizes by 10 samples\' statistics).',
    later: 'Bjorck et al. 2018: BN\'s gain comes mainly from the larger learning rates it tolerates; try the high learning rate preset, or ' +
      'raise the rate here.',
    settings: {},
  },
  {
    id: 'fig1',
    title: 'Figure 1: the paper\'s MNIST net',
    claim: 'Ioffe & Szegedy\'s Figure 1: with BN the 3 x 100 sigmoid net learns faster and its sigmoid inputs (15/50/85th percentiles) stay stable.',
    later: 'Santurkar et al. 2018: stable input distributions are not why BN helps, it smooths the loss landscape; the lab finds both nets ' +
      'level after ~3,000 steps.',
    settings: { ...paperNet, left: 'none', right: 'bn-before' },
  },
  {
    id: 'high-lr',
    title: 'High learning rate',
    claim: 'BN tolerates much higher learning rates: at lr 1, ten times what this plain ReLU net trains at, it stalls while the BN net trains.',
    later: 'Bjorck et al. 2018: this is most of BN\'s benefit; the ImageNet speed-up came from the x5 and x30 rates BN allowed.',
    settings: { dataset: 'circle', activation: 'relu', optimizer: 'sgd', lr: 1, init: 'kaiming', left: 'none', right: 'bn-before' },
  },
  {
    id: 'bad-init',
    title: 'Bad initialization',
    claim: 'BN makes training insensitive to the weight scale: with N(0, 0.001^2) weights the plain tanh net is stuck, the BN net trains.',
    later: 'BN is scale-invariant, BN(aWu) = BN(Wu); careful inits (Kaiming, Fixup) or SkipInit (De & Smith 2020) train deep nets without it.',
    settings: { dataset: 'circle', activation: 'tanh', init: 'normal', initStd: 0.001, optimizer: 'momentum', lr: 0.03, left: 'none',
      right: 'bn-before' },
  },
  {
    id: 'deep-sigmoid',
    title: 'Deep sigmoid net',
    claim: 'BN keeps a 10-layer sigmoid net trainable: without it the first layers\' gradients vanish (see the gradient norms) and the net stalls.',
    later: 'Yang et al. 2019: at initialization BN itself makes gradients explode with depth in plain nets; De & Smith 2020: in ResNets BN ' +
      'works by favouring identity blocks.',
    settings: { dataset: 'moons', activation: 'sigmoid', depth: 10, width: 16, init: 'xavier', optimizer: 'momentum', lr: 0.1, left: 'none',
      right: 'bn-before' },
  },
  {
    id: 'batch-2',
    title: 'Batch of 2',
    claim: 'With batches of 2, BN\'s batch statistics are noise and its running averages disagree with them (switch to eval view); GroupNorm ' +
      'does not use the batch.',
    later: 'Wu & He 2018: at 2 images per GPU GroupNorm had 24.1% error vs BN 34.7%; Batch Renorm (Ioffe 2017) recovers part of it: try renorm ' +
      'on the left.',
    settings: { ...paperNet, depth: 2, batchSize: 2, lr: 0.05, groups: 4, stepsPerFrame: 20, left: 'bn-before', right: 'group' },
  },
  {
    id: 'scales',
    title: 'Features on different scales',
    claim: 'Features on ranges 1 ... 10^4: at lr 0.1 the plain net diverges within a few steps, while BN, normalizing each layer\'s input, ' +
      'keeps training stable.',
    later: 'BN does not rescale the inputs themselves: the small features still barely count; standardizing the inputs (LeCun et al. 1998) ' +
      'fixes that, BN the layers above.',
    settings: { dataset: 'scales', activation: 'relu', depth: 2, width: 16, init: 'kaiming', optimizer: 'sgd', lr: 0.1, batchSize: 32, noise: 0,
      left: 'none', right: 'bn-before' },
  },
  {
    id: 'noisy-bn',
    title: 'Noisy BN (Santurkar et al.)',
    claim: 'Santurkar et al.: random shifts and scales after BN, resampled every step, make layer inputs unstable (wide percentile bands) yet ' +
      'the net trains as well as BN.',
    later: 'Santurkar et al. 2018: BN helps by smoothing the loss landscape, not by reducing internal covariate shift; measured as gradient ' +
      'change, BN does not reduce it.',
    settings: { ...paperNet, left: 'bn-before', right: 'noisy-bn' },
  },
];

/** A preset's full settings: DEFAULTS, then the preset's overrides, with `preset` set to its id. Throws on an unknown id. */
export function presetSettings(id: string): Settings {
  const p = PRESETS.find((x) => x.id === id);
  if (p === undefined) throw new Error(`unknown preset '${id}' (expected one of ${PRESETS.map((x) => x.id).join(', ')})`);
  return { ...DEFAULTS, ...p.settings, preset: id };
}
