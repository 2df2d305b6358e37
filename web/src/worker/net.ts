// One network of the pair: the lab's MLP built from the page's settings, with its optimizer, sharing the other's initial weights.
import { buildMlp, type BuiltMlp, type InitSpec, type MlpSpec, type NormKind } from '../../../src/lab/models.js';
import { BatchNormBase } from '../../../src/nn/norm/batchnorm.js';
import { SGD } from '../../../src/optim/sgd.js';
import { Adam } from '../../../src/optim/adam.js';
import type { Optimizer } from '../../../src/optim/optimizer.js';
import type { NormChoice, Settings } from '../protocol.js';

/** The lab's norm kind and placement for each choice of the page. */
const NORM_OF: Record<NormChoice, { kind: NormKind; position: 'before' | 'after' }> = {
  none: { kind: 'none', position: 'before' },
  'bn-before': { kind: 'bn', position: 'before' },
  'bn-after': { kind: 'bn', position: 'after' },
  renorm: { kind: 'renorm', position: 'before' },
  ghost: { kind: 'ghost', position: 'before' },
  group: { kind: 'group', position: 'before' },
  layer: { kind: 'layer', position: 'before' },
  'noisy-bn': { kind: 'noisy-bn', position: 'before' },
};

/** Momentum of the 'momentum' optimizer (SGD with heavy ball, PyTorch's rule). */
export const SGD_MOMENTUM = 0.9;

/** A built network and where its first BatchNorm sits (for the per-unit statistics), or null without one. */
export interface Net extends BuiltMlp {
  norm: NormChoice;
  opt: Optimizer;
  firstBn: { index: number; module: BatchNormBase } | null;
}

/** The largest divisor of `width` that is at most `groups`: GroupNorm needs groups that divide the channels. */
export function groupsFor(width: number, groups: number): number {
  for (let g = Math.min(groups, width); g > 1; g--) if (width % g === 0) return g;
  return 1;
}

function initOf(s: Settings): InitSpec {
  return s.init === 'normal' ? { kind: 'normal', std: s.initStd } : { kind: s.init };
}

/** The lab's MlpSpec for one side. */
export function specOf(s: Settings, norm: NormChoice, inputs: number, classes: number): MlpSpec {
  const { kind, position } = NORM_OF[norm];
  return {
    inputs,
    hidden: Array.from({ length: s.depth }, () => s.width),
    classes,
    activation: s.activation,
    norm: kind,
    position,
    init: initOf(s),
    dropout: s.dropout,
    dropoutSeed: s.seed * 7919 + 101,
    momentum: s.bnMomentum,
    eps: s.bnEps,
    virtualBatchSize: s.ghostBatch,
    groups: groupsFor(s.width, s.groups),
  };
}

/** SGD, SGD with momentum 0.9, or Adam (betas 0.9, 0.999), at the settings' learning rate. */
export function makeOptimizer(s: Settings, net: BuiltMlp): Optimizer {
  const params = net.model.parameters();
  switch (s.optimizer) {
    case 'sgd':
      return new SGD(params, { lr: s.lr });
    case 'momentum':
      return new SGD(params, { lr: s.lr, momentum: SGD_MOMENTUM });
    case 'adam':
      return new Adam(params, { lr: s.lr });
    default: {
      const never: never = s.optimizer;
      throw new Error(`unknown optimizer '${String(never)}'`);
    }
  }
}

/**
 * Builds the two networks of a run. Both get the weights of one reference draw (the plain net's), so they start
 * equal wherever normalization does not change the parameters: buildMlp's stream alone would drift apart because
 * a normalized Linear has no bias to draw. Normalization parameters start at PyTorch's gamma 1, beta 0.
 */
export function buildPair(s: Settings, inputs: number, classes: number): [Net, Net] {
  const ref = buildMlp(specOf(s, 'none', inputs, classes), s.seed);
  const one = (norm: NormChoice): Net => {
    const built = buildMlp(specOf(s, norm, inputs, classes), s.seed);
    built.linears.forEach((l, i) => {
      l.weight.data.set(ref.linears[i].weight.data);
      if (l.bias !== null) l.bias.data.set(ref.linears[i].bias!.data);
    });
    const index = built.model.layers.findIndex((m) => m instanceof BatchNormBase);
    const firstBn = index < 0 ? null : { index, module: built.model.layers[index] as BatchNormBase };
    return { ...built, norm, opt: makeOptimizer(s, built), firstBn };
  };
  return [one(s.left), one(s.right)];
}
