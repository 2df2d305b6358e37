// Experiment `residual`: a small ResNet with BN, no normalization, SkipInit, and zero last BN gammas, over learning rates and batch sizes.
import { z } from 'zod';
import type { Dataset } from '../../data/dataset.js';
import { resnet, resnetProblems, RESNET_NORMS, type ResNet, type ResNetNorm, type ResNetSpec } from '../../nn/models.js';
import { crossEntropy } from '../../ops/loss.js';
import { Tensor } from '../../tensor/tensor.js';
import { trialId, type BaseConfig, type Experiment, type TrialContext, type TrialOutput, type TrialSpec } from '../experiment.js';
import type { Finding, Series, Trial, Verdict } from '../results.js';
import { compare, verdictOf, type Comparison } from '../compare.js';
import { meanCI } from '../stats.js';
import { baseFields, fields, intField } from '../kit/config.js';
import { fmtInt, fmtNum, fmtPct, percent, round, seedsText } from '../kit/format.js';
import { l2norm } from '../kit/trials.js';
import { addBuildIssues, expectImages, imageDataset, imageTrial, IMAGE_SIZE } from '../kit/image-trial.js';
import { atLr, bestMeanLr, lrsOf, maxLrEverySeedTrained, maxTrainedLogLr, metric, scoresBySeed } from '../kit/lr-grid.js';
import { diffText, informational, seedsClause, seedsHint } from '../kit/compare-text.js';

/** Display names of the arms. */
export const RESIDUAL_ARM_NAMES: Record<ResNetNorm, string> = {
  bn: 'BN',
  none: 'no norm',
  skipinit: 'SkipInit',
  'bn-zero-gamma': 'BN, zero last gamma',
};


/** residual's config. */
export interface ResidualConfig extends BaseConfig {
  /** bn, none, skipinit (no norm, each branch scaled by a learnable alpha = 0 at init), bn-zero-gamma (each block's last BN gamma = 0). */
  arms: ResNetNorm[];
  /** 6n + 2: 8, 14, 20, ... */
  depth: number;
  /** Channels of the three stages. */
  widths: number[];
  /** Average-pool the 28x28 images by this factor first. */
  inputPool: number;
  lrs: number[];
  /** Mini-batch sizes; every arm runs at each (SkipInit is said to match BN at moderate ones, not at large ones). */
  batchSizes: number[];
  steps: number;
  momentum: number;
  evalEvery: number;
  evalSamples: number;
}

/** The net of one arm. */
export function residualSpec(c: ResidualConfig, norm: ResNetNorm, inputShape: readonly number[] = [1, IMAGE_SIZE, IMAGE_SIZE]): ResNetSpec {
  return { depth: c.depth, norm, widths: c.widths, inputPool: c.inputPool, inChannels: inputShape[0], imageSize: inputShape[1] };
}

const schema = z
  .object({
    ...baseFields,
    dataset: imageDataset,
    arms: z
      .array(z.enum(RESNET_NORMS as [ResNetNorm, ...ResNetNorm[]]))
      .min(1, `arms needs at least one of ${RESNET_NORMS.join(', ')}`)
      .refine((a) => new Set(a).size === a.length, 'arms must not repeat'),
    depth: intField('depth', 1),
    widths: z.array(fields.width).length(3, 'widths needs 3 entries, one per stage'),
    inputPool: intField('inputPool', 1),
    lrs: z.array(fields.lr).min(1, 'lrs needs at least one learning rate'),
    batchSizes: z.array(fields.batchSize).min(1, 'batchSizes needs at least one batch size'),
    steps: fields.steps,
    momentum: fields.momentum,
    evalEvery: fields.evalEvery,
    evalSamples: fields.evalSamples,
  })
  .strict()
  // The nets must build on 28x28 images (depth 6n + 2, an image the stride-2 stages can reduce) before any trial runs.
  .superRefine((c, ctx) => {
    const builds = c.arms.map((arm) => ({ label: arm, problems: resnetProblems(residualSpec(c, arm)) }));
    addBuildIssues(ctx, builds, 'arm', 'ResNet', { imageSize: 'inputPool' });
  });

/**
 * Gradient norm of each block's parameters at initialization, on the first `n` training images in training mode:
 * sqrt(sum of squared gradients over the block, its shortcut and alpha included). The model's buffers (BN running
 * statistics) are restored and its gradients cleared, so the probe never changes the run.
 */
export function initGradNorms(model: ResNet, data: Dataset, n: number): number[] {
  const m = Math.min(n, data.train.n);
  const f = data.inputShape.reduce((a, b) => a * b, 1);
  const x = new Tensor(data.train.x.slice(0, m * f), [m, ...data.inputShape]);
  const saved = model.namedBuffers().map(([, t]) => [t, t.data.slice()] as const);
  model.train();
  model.zeroGrad();
  crossEntropy(model.forward(x), data.train.y.subarray(0, m)).backward();
  const norms = model.blocks.map((b) => Math.hypot(...b.parameters().map((p) => l2norm(p.grad))));
  model.zeroGrad();
  for (const [t, d] of saved) t.data.set(d);
  return norms;
}

function runTrial(spec: TrialSpec, c: ResidualConfig, ctx: TrialContext): TrialOutput {
  const data = ctx.dataset();
  expectImages(data, 'residual');
  const arch = residualSpec(c, spec.arm as ResNetNorm, data.inputShape);
  const model = resnet(arch, spec.seed);
  const batchSize = spec.params.batchSize as number;
  const grads = initGradNorms(model, data, batchSize);
  const out = imageTrial(model, data, { ...c, batchSize, lr: spec.params.lr as number, seed: spec.seed, target: null }, ctx);
  ctx.keepModel?.(model, { kind: 'resnet', spec: arch, inputShape: data.inputShape });
  const gradCurve: Series = grads.map((g, i) => [i + 1, g]);
  const positive = grads.filter((g) => g > 0);
  return {
    ...out,
    metrics: {
      ...out.metrics,
      initGradFirst: grads[0],
      initGradLast: grads[grads.length - 1],
      // log10 max/min over blocks: how unevenly the gradient reaches the blocks at init (0 = even).
      initGradSpread: positive.length === grads.length && grads.length > 0 ? Math.log10(Math.max(...grads) / Math.min(...grads)) : null,
    },
    curves: { ...out.curves, initGradNorm: gradCurve.filter(([, g]) => Number.isFinite(g)) },
  };
}

// ---- findings -------------------------------------------------------------------------------------

const name = (arm: string) => RESIDUAL_ARM_NAMES[arm as ResNetNorm] ?? arm;
const spreadText = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const accuracy = metric('finalTestAccuracy');
const of = (trials: readonly Trial[], arm: string, bs?: number) =>
  trials.filter((t) => t.arm === arm && (bs === undefined || t.params.batchSize === bs));

/** Final accuracies closer than this (1 point) are called equivalent, by two one-sided tests. */
export const ACC_MARGIN = 0.01;

/** Per (seed, batch size) values keyed seed * 1000 + batch-size index, so arms pair on both. */
function perSeedAndBatch(trials: readonly Trial[], arm: string, c: ResidualConfig, f: (ts: Trial[]) => Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  c.batchSizes.forEach((bs, i) => {
    for (const [seed, v] of f(of(trials, arm, bs))) out.set(seed * 1000 + i, v);
  });
  return out;
}

function trainsFinding(trials: readonly Trial[], c: ResidualConfig): Finding {
  const claim =
    'Without normalization a deep ResNet trains only at small learning rates; ' +
    'BN, and SkipInit without any normalization, train at higher ones (De & Smith 2020)';
  const lrs = lrsOf(trials);
  const maxLr = (arm: string) => perSeedAndBatch(trials, arm, c, maxTrainedLogLr);
  const against = (a: string, b: string) =>
    compare(`log10 highest trainable lr, ${name(a)} - ${name(b)} (per seed and batch size)`, maxLr(a), maxLr(b));
  const lists = c.arms.map((arm) => {
    const per = c.batchSizes.map((bs) => {
      const ok = lrs.filter((lr) => {
        const at = atLr(of(trials, arm, bs), lr);
        return at.length > 0 && at.every((t) => t.metrics.trained === 1);
      });
      return `${c.batchSizes.length > 1 ? `batch ${bs}: ` : ''}${ok.length ? ok.map(fmtNum).join(', ') : 'none'}`;
    });
    return `${name(arm)} ${per.join('; ')}`;
  });
  const values: Finding['values'] = { depth: c.depth };
  for (const arm of c.arms) for (const bs of c.batchSizes) values[`${arm}.b${bs}.maxLr`] = maxLrEverySeedTrained(of(trials, arm, bs));
  const text0 = `ResNet-${c.depth}, lr at which every seed trained (grid ${lrs.map(fmtNum).join(', ')}): ${lists.join('. ')}.`;
  if (!c.arms.includes('none') || !(c.arms.includes('bn') || c.arms.includes('skipinit'))) {
    const text = `${text0} The claim compares no normalization with BN or SkipInit; the run had ${c.arms.join(', ')}.`;
    return { id: 'trains-at-depth', claim, text, verdict: 'inconclusive', values };
  }
  const heads = (['bn', 'skipinit'] as const).filter((a) => c.arms.includes(a)).map((a) => ({ arm: a, cmp: against(a, 'none') }));
  const others = c.arms.filter((a) => a === 'bn-zero-gamma').map((a) => ({ arm: a, cmp: informational(against(a, 'none')) }));
  const v = heads.map((h) => verdictOf(h.cmp, 1));
  const top = lrs[lrs.length - 1];
  const noneAtTop = c.batchSizes.every((bs) => maxLrEverySeedTrained(of(trials, 'none', bs)) === top);
  // As the lr experiment counts: all for -> supported; none for and some against -> contradicted; both -> mixed.
  const pro = v.filter((x) => x === 'supported').length;
  const con = v.filter((x) => x === 'contradicted').length;
  let verdict: Verdict = pro === v.length ? 'supported' : pro === 0 ? (con > 0 ? 'contradicted' : 'inconclusive') : 'mixed';
  if (noneAtTop && verdict !== 'contradicted') verdict = 'inconclusive';
  const tail = noneAtTop
    ? ` Without normalization every seed trained up to the top of the grid at depth ${c.depth}, so the grid does not reach its limit.`
    : '';
  const cmps = [...heads, ...others];
  return {
    id: 'trains-at-depth',
    claim,
    text: `${text0} Highest trainable lr minus no norm's: ${cmps.map((h) => `${name(h.arm)} ${diffText(h.cmp, 'decades')}`).join('; ')}.${tail}`,
    verdict,
    values,
    comparisons: cmps.map((h) => h.cmp),
  };
}

function gradFinding(trials: readonly Trial[], c: ResidualConfig): Finding {
  const claim = 'At initialization, without normalization the gradient norm varies far more across the blocks than with BN';
  // One measure per (arm, seed, batch size): every lr trial of it starts from the same weights and batch.
  const firstLr = lrsOf(trials)[0];
  const at = (arm: string) => trials.filter((t) => t.arm === arm && t.params.lr === firstLr);
  const spread = (arm: string) => perSeedAndBatch(at(arm), arm, c, (ts) => scoresBySeed(ts, metric('initGradSpread')));
  const parts = c.arms.map((arm) => {
    const first = meanCI(at(arm).map((t) => t.metrics.initGradFirst));
    const last = meanCI(at(arm).map((t) => t.metrics.initGradLast));
    const s = meanCI(at(arm).map((t) => t.metrics.initGradSpread));
    return { arm, first, last, s };
  });
  const values: Finding['values'] = {};
  for (const p of parts) {
    values[`${p.arm}.first`] = round(p.first.mean, 6);
    values[`${p.arm}.last`] = round(p.last.mean, 6);
    values[`${p.arm}.spread`] = round(p.s.mean, 3);
  }
  const text0 = `Gradient norm of block 1 and block ${(c.depth - 2) / 2} at initialization (${seedsText(c.seeds)}): ${parts
    .map((p) => `${name(p.arm)} ${fmtNum(p.first.mean)} and ${fmtNum(p.last.mean)} (spread ${spreadText(p.s.mean)} decades)`)
    .join(', ')}.`;
  if (!c.arms.includes('none') || !c.arms.includes('bn')) {
    return { id: 'init-gradients', claim, text: `${text0} The claim compares no normalization with BN.`, verdict: 'inconclusive', values };
  }
  const cmp = compare('log10 max/min block gradient norm at init, no norm - BN', spread('none'), spread('bn'));
  const verdict = verdictOf(cmp, 1);
  const skip = c.arms.includes('skipinit')
    ? ' With SkipInit (alpha = 0) and with zero last gammas, the branch weights get no gradient at the first step: ' +
      'only alpha, the last gamma and the shortcut do.'
    : '';
  const tail =
    verdict === 'contradicted' ? ' Here the BN net spread its gradients more unevenly, contrary to the claim.'
    : verdict === 'inconclusive' ? ` No clear difference${seedsHint(cmp)}.`
    : '';
  return {
    id: 'init-gradients',
    claim,
    text: `${text0} Spread (log10 of the largest over the smallest block norm), no norm minus BN: ${diffText(cmp, 'decades')}.${tail}${skip}`,
    verdict,
    values,
    comparisons: [cmp],
  };
}

const lrText = (lr: number | null) => (lr === null ? 'none' : fmtNum(lr));

function statusText(status: 'matches' | 'behind' | 'unclear', cmp: Comparison): string {
  if (status === 'matches') return cmp.outcome === 'higher' ? 'SkipInit ahead' : `within ${percent(ACC_MARGIN, 0)}`;
  return status === 'behind' ? 'SkipInit behind' : `unresolved${seedsClause(cmp)}`;
}

function skipInitFinding(trials: readonly Trial[], c: ResidualConfig): Finding {
  const claim =
    'SkipInit without normalization matches BN at moderate batch sizes; at large ones BN trains at larger learning rates (De & Smith 2020)';
  if (!c.arms.includes('bn') || !c.arms.includes('skipinit')) {
    const text = `This finding compares SkipInit with BN; the run had ${c.arms.join(', ')}.`;
    return { id: 'skipinit-vs-bn', claim, text, verdict: 'inconclusive', values: {} };
  }
  const rows = c.batchSizes.map((bs) => {
    const side = (arm: string) => {
      const lr = bestMeanLr(of(trials, arm, bs), accuracy, 'max');
      const ts = lr === null ? [] : atLr(of(trials, arm, bs), lr);
      return { lr, ts, acc: meanCI(ts.map(accuracy)), maxLr: maxLrEverySeedTrained(of(trials, arm, bs)) };
    };
    const skip = side('skipinit');
    const bn = side('bn');
    const label = `best final accuracy at batch ${bs}, SkipInit - BN`;
    const cmp: Comparison = compare(label, scoresBySeed(skip.ts, accuracy), scoresBySeed(bn.ts, accuracy), { margin: ACC_MARGIN });
    const status: 'matches' | 'behind' | 'unclear' =
      cmp.outcome === 'equivalent' || cmp.outcome === 'higher' ? 'matches' : cmp.outcome === 'lower' ? 'behind' : 'unclear';
    return { bs, skip, bn, cmp, status };
  });
  const matches = rows.filter((r) => r.status === 'matches');
  const behind = rows.filter((r) => r.status === 'behind');
  const verdict: Verdict =
    matches.length === rows.length ? 'supported'
    : matches.length === 0 && behind.length > 0 ? 'contradicted'
    : behind.length > 0 ? 'mixed'
    : 'inconclusive';
  const values: Finding['values'] = { margin: ACC_MARGIN };
  for (const r of rows) {
    values[`b${r.bs}.skipinit`] = round(r.skip.acc.mean);
    values[`b${r.bs}.bn`] = round(r.bn.acc.mean);
    values[`b${r.bs}.skipinitLr`] = r.skip.lr;
    values[`b${r.bs}.bnLr`] = r.bn.lr;
    values[`b${r.bs}.status`] = r.status;
  }
  const per = rows.map(
    (r) =>
      `batch ${r.bs}: SkipInit ${fmtPct(r.skip.acc)} (lr ${fmtNum(r.skip.lr ?? NaN)}) vs BN ${fmtPct(r.bn.acc)} (lr ${fmtNum(r.bn.lr ?? NaN)}), ` +
      `${diffText(r.cmp, 'points')}: ${statusText(r.status, r.cmp)}; ` +
      `highest lr every seed trained: SkipInit ${lrText(r.skip.maxLr)}, BN ${lrText(r.bn.maxLr)}`,
  );
  const where = behind.length > 0 && matches.length > 0 ? ` SkipInit does not match BN at batch ${behind.map((r) => r.bs).join(', ')}.` : '';
  return {
    id: 'skipinit-vs-bn',
    claim,
    text: `Each arm at its best learning rate after ${fmtInt(c.steps)} steps (${seedsText(c.seeds)}): ${per.join('. ')}.${where}`,
    verdict,
    values,
    comparisons: rows.map((r) => r.cmp),
  };
}

function findings(trials: Trial[], c: ResidualConfig): Finding[] {
  return [trainsFinding(trials, c), gradFinding(trials, c), skipInitFinding(trials, c)];
}

const quick: ResidualConfig = {
  dataset: 'mnist-10k',
  seeds: 3,
  arms: ['bn', 'none', 'skipinit', 'bn-zero-gamma'],
  depth: 8,
  widths: [8, 8, 16],
  inputPool: 2,
  lrs: [0.1, 0.3],
  batchSizes: [32],
  steps: 150,
  momentum: 0.9,
  evalEvery: 25,
  evalSamples: 500,
};

/** Normalization in residual networks, and what replaces it (De & Smith 2020; Zhang et al. 2019; Goyal et al. 2017). */
export const residual: Experiment<ResidualConfig> = {
  name: 'residual',
  title: 'Residual networks: BN, no normalization, SkipInit and zero-initialised last gammas in a small ResNet',
  claim:
    'In residual networks BN is what lets deep nets train at high learning rates; a network without normalization needs small ones, ' +
    'unless each residual branch starts at zero (SkipInit), which then matches BN.',
  context:
    'De & Smith 2020 (arXiv 2002.10444): BN biases each residual block towards the identity by downscaling its branch; SkipInit (a learnable ' +
    'scalar on each branch, initialised to 0) trains deep ResNets without normalization at moderate batch sizes, but BN still allows larger ' +
    'learning rates at large batch sizes. Fixup (Zhang et al. 2019, arXiv 1901.09321) trains 100+-layer ResNets without normalization by ' +
    'rescaled init and a zero-initialised last layer per branch. Bjorck et al. 2018 saw the same in ResNets: BN\'s gain is the higher learning ' +
    'rate it permits. Quick runs use ResNet-8 (8, 8, 16 channels) on 14x14 images for 150 steps at one batch size; the full preset ' +
    'runs ResNet-20 (8, 16, 32 channels, 14x14) on Fashion-MNIST for 1,000 steps at batch 32 and 128.',
  schema,
  presets: {
    tiny: { ...quick, widths: [4, 4, 8], lrs: [0.05, 0.5], batchSizes: [8], steps: 12, evalEvery: 6, evalSamples: 100 },
    quick,
    full: {
      ...quick, dataset: 'fashion-mnist', seeds: 5, depth: 20, widths: [8, 16, 32], inputPool: 2, lrs: [0.03, 0.1, 0.3, 1], batchSizes: [32, 128],
      steps: 1000, evalEvery: 100, evalSamples: 5000,
    },
  },
  trials(c) {
    const out: TrialSpec[] = [];
    for (let seed = 0; seed < c.seeds; seed++) {
      for (const batchSize of c.batchSizes) {
        for (const lr of c.lrs) {
          for (const arm of c.arms) out.push({ id: trialId(arm, seed, { lr, batchSize }), arm, seed, params: { lr, batchSize } });
        }
      }
    }
    return out;
  },
  runTrial,
  findings,
};
