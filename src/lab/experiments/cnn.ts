// Experiment `cnn`: a small VGG-style convnet with no norm, BN, GroupNorm or LayerNorm over a learning-rate grid: speed, accuracy, usable rates.
import { z } from 'zod';
import { vgg, vggProblems, VGG_NORMS, type VggNorm, type VggSpec } from '../../nn/models.js';
import { trialId, type BaseConfig, type Experiment, type TrialContext, type TrialOutput, type TrialSpec } from '../experiment.js';
import type { Finding, Trial, Verdict } from '../results.js';
import { compare, verdictOf, type Comparison } from '../compare.js';
import { meanCI } from '../stats.js';
import { baseFields, fields, intField } from '../kit/config.js';
import { fmtInt, fmtNum, fmtPct, fmtSteps, percent, round, seedsText } from '../kit/format.js';
import { addBuildIssues, expectImages, imageDataset, imageTrial, IMAGE_SIZE } from '../kit/image-trial.js';
import { atLr, bestLogLrBySeed, bestMeanLr, lrsOf, maxLrEverySeedTrained, maxTrainedLogLr, metric, scoresBySeed } from '../kit/lr-grid.js';
import type { Scorer } from '../kit/lr-grid.js';
import { diffText, informational, seedsClause, seedsHint } from '../kit/compare-text.js';

/** Display names of the arms. */
export const CNN_ARM_NAMES: Record<VggNorm, string> = { none: 'no norm', bn: 'BN', group: 'GroupNorm', layer: 'LayerNorm' };


/** cnn's config. */
export interface CnnConfig extends BaseConfig {
  /** Normalizations compared: none, bn (BatchNorm2d), group (GroupNorm), layer (GroupNorm with one group: LN over C, H, W). */
  arms: VggNorm[];
  /** SGD learning rates; every arm runs at each. */
  lrs: number[];
  /** Channels of each stage (conv3x3 -> norm -> ReLU, then a 2x2 max pool). */
  widths: number[];
  convsPerStage: number;
  /** GroupNorm groups (arm group); every width must be a multiple. */
  groups: number;
  /** Average-pool the 28x28 images by this factor first (2: 14x14, a quarter of the work). */
  inputPool: number;
  steps: number;
  batchSize: number;
  momentum: number;
  evalEvery: number;
  evalSamples: number;
  /** Test accuracy whose first crossing is "steps to target". */
  targetAccuracy: number;
}

/** The net of one arm. */
export function cnnSpec(c: CnnConfig, norm: VggNorm, inputShape: readonly number[] = [1, IMAGE_SIZE, IMAGE_SIZE]): VggSpec {
  const image = { inputPool: c.inputPool, inChannels: inputShape[0], imageSize: inputShape[1] };
  return { norm, widths: c.widths, convsPerStage: c.convsPerStage, groups: c.groups, ...image };
}

const schema = z
  .object({
    ...baseFields,
    dataset: imageDataset,
    arms: z
      .array(z.enum(VGG_NORMS as [VggNorm, ...VggNorm[]]))
      .min(1, `arms needs at least one of ${VGG_NORMS.join(', ')}`)
      .refine((a) => new Set(a).size === a.length, 'arms must not repeat'),
    lrs: z.array(fields.lr).min(1, 'lrs needs at least one learning rate'),
    widths: z.array(fields.width).min(1, 'widths needs at least one stage'),
    convsPerStage: intField('convsPerStage', 1),
    groups: intField('groups', 1),
    inputPool: intField('inputPool', 1),
    steps: fields.steps,
    batchSize: fields.batchSize,
    momentum: fields.momentum,
    evalEvery: fields.evalEvery,
    evalSamples: fields.evalSamples,
    targetAccuracy: z.number().gt(0, 'targetAccuracy must be in (0, 1]').max(1, 'targetAccuracy must be in (0, 1]'),
  })
  .strict()
  // Every arm's net must build on 28x28 images, checked here so that no trial starts on a config that cannot run.
  .superRefine((c, ctx) => {
    const builds = c.arms.map((arm) => ({ label: arm, problems: vggProblems(cnnSpec(c, arm)) }));
    addBuildIssues(ctx, builds, 'arm', 'net', { imageSize: 'widths' });
  });

function runTrial(spec: TrialSpec, c: CnnConfig, ctx: TrialContext): TrialOutput {
  const data = ctx.dataset();
  expectImages(data, 'cnn');
  const arch = cnnSpec(c, spec.arm as VggNorm, data.inputShape);
  const model = vgg(arch, spec.seed);
  const out = imageTrial(model, data, { ...c, lr: spec.params.lr as number, seed: spec.seed, target: c.targetAccuracy }, ctx);
  ctx.keepModel?.(model, { kind: 'vgg', spec: arch, inputShape: data.inputShape });
  return out;
}

// ---- findings -------------------------------------------------------------------------------------

const of = (trials: readonly Trial[], arm: string) => trials.filter((t) => t.arm === arm);
const name = (arm: string) => CNN_ARM_NAMES[arm as VggNorm] ?? arm;
/** Steps to the target with a miss (never reached, diverged) counted at the budget: a lower bound on its true time. */
const censored = (steps: number): Scorer => (t) => (t.diverged ? steps : (metric('stepsToTarget')(t) ?? steps));
const accuracy = metric('finalTestAccuracy');

/** Final accuracies closer than this (1 point) are called equivalent, by two one-sided tests. */
export const ACC_MARGIN = 0.01;

const needBoth = (id: string, claim: string, arms: string[]): Finding => ({
  id, claim, text: `This finding compares BN with no normalization; the run had arms ${arms.join(', ')}.`, verdict: 'inconclusive', values: {},
});

/** Each arm at the lr where it reached the target soonest on average; BN against each other arm there, paired by seed. */
function stepsFinding(trials: readonly Trial[], c: CnnConfig): Finding {
  const claim = 'With BN a convnet reaches the target accuracy in fewer steps than without normalization';
  if (!c.arms.includes('bn') || !c.arms.includes('none')) return needBoth('steps-to-target', claim, c.arms);
  const score = censored(c.steps);
  const at = (arm: string) => {
    const lr = bestMeanLr(of(trials, arm), score, 'min');
    const ts = lr === null ? [] : atLr(of(trials, arm), lr);
    const missed = ts.filter((t) => t.diverged || t.metrics.stepsToTarget === null).length;
    return { arm, lr, ts, steps: meanCI(ts.map(metric('stepsToTarget'))), missed };
  };
  const bn = at('bn');
  const rows = c.arms.map(at);
  const cmps = rows.filter((r) => r.arm !== 'bn').map((r) => {
    const label = `steps to ${percent(c.targetAccuracy, 0)}, BN (lr ${fmtNum(bn.lr ?? NaN)}) - ${name(r.arm)} (lr ${fmtNum(r.lr ?? NaN)})`;
    const cmp = compare(label, scoresBySeed(bn.ts, score), scoresBySeed(r.ts, score));
    return { r, cmp: r.arm === 'none' ? cmp : informational(cmp) };
  });
  const head = cmps.find((x) => x.r.arm === 'none')!;
  const none = head.r;
  // Censoring understates a missing arm's time, so 'faster' needs every BN seed to reach it, 'slower' every plain seed.
  let verdict: Verdict = verdictOf(head.cmp, -1);
  if ((verdict === 'supported' && bn.missed > 0) || (verdict === 'contradicted' && none.missed > 0)) verdict = 'inconclusive';
  const part = (r: (typeof rows)[number]) =>
    `${name(r.arm)} ${r.steps.n > 0 ? `${fmtSteps(r.steps)} steps` : 'never'} at lr ${fmtNum(r.lr ?? NaN)}` +
    (r.missed > 0 ? ` (${r.missed} of ${r.ts.length} seeds never reached it)` : '');
  const vs = cmps.map((x) => `vs ${name(x.r.arm)} ${diffText(x.cmp, 'steps')}`).join('; ');
  const tail =
    verdict === 'supported' ? ''
    : verdict === 'contradicted' ? ' Here BN was slower, contrary to the claim.'
    : ` No clear difference between BN and no normalization${seedsHint(head.cmp)}.`;
  const values: Finding['values'] = { target: c.targetAccuracy, steps: c.steps };
  for (const r of rows) {
    values[`${r.arm}.lr`] = r.lr;
    values[`${r.arm}.steps`] = round(r.steps.mean, 1);
    values[`${r.arm}.missed`] = r.missed;
  }
  return {
    id: 'steps-to-target',
    claim,
    text:
      `Steps to ${percent(c.targetAccuracy, 0)} test accuracy, each arm at its fastest learning rate (${seedsText(c.seeds)}, misses counted at ` +
      `the ${fmtInt(c.steps)}-step budget): ${rows.map(part).join(', ')}. BN minus the others: ${vs}.${tail}`,
    verdict,
    values,
    comparisons: cmps.map((x) => x.cmp),
  };
}

/** Each arm at its best lr (mean final accuracy); BN against no norm (decides) and against GN and LN (equivalence, informational). */
function accuracyFinding(trials: readonly Trial[], c: CnnConfig): Finding {
  const claim =
    'With BN a convnet reaches a higher final accuracy than without normalization; ' +
    'GroupNorm and LayerNorm come close at this batch size (Wu & He 2018)';
  if (!c.arms.includes('bn') || !c.arms.includes('none')) return needBoth('best-accuracy', claim, c.arms);
  const rows = c.arms.map((arm) => {
    const lr = bestMeanLr(of(trials, arm), accuracy, 'max');
    const ts = lr === null ? [] : atLr(of(trials, arm), lr);
    return { arm, lr, ts, acc: meanCI(ts.map(accuracy)) };
  });
  const bn = rows.find((r) => r.arm === 'bn')!;
  const cmps = rows.filter((r) => r.arm !== 'bn').map((r) => {
    const label = `best final accuracy, BN - ${name(r.arm)}`;
    const cmp = compare(label, scoresBySeed(bn.ts, accuracy), scoresBySeed(r.ts, accuracy), { margin: ACC_MARGIN });
    return { r, cmp: r.arm === 'none' ? cmp : informational(cmp) };
  });
  const head = cmps.find((x) => x.r.arm === 'none')!;
  const verdict: Verdict = verdictOf(head.cmp, 1);
  const word = (cmp: Comparison) =>
    cmp.outcome === 'equivalent' ? `within ${percent(ACC_MARGIN, 0)}`
    : cmp.outcome === 'higher' ? 'BN higher'
    : cmp.outcome === 'lower' ? 'BN lower'
    : 'unresolved';
  const tail =
    verdict === 'contradicted' ? ' Without normalization the net ended higher, contrary to the claim.'
    : verdict === 'equivalent' ? ` BN and no normalization end within ${percent(ACC_MARGIN, 0)} of each other at their best learning rates.`
    : verdict === 'inconclusive' ? ` BN vs no normalization is unresolved${seedsHint(head.cmp)}.` : '';
  const values: Finding['values'] = { margin: ACC_MARGIN };
  for (const r of rows) {
    values[`${r.arm}.lr`] = r.lr;
    values[`${r.arm}.acc`] = round(r.acc.mean);
    values[`${r.arm}.half`] = round(r.acc.half);
  }
  return {
    id: 'best-accuracy',
    claim,
    text:
      `Best final test accuracy after ${fmtInt(c.steps)} steps, each arm at its best learning rate: ` +
      `${rows.map((r) => `${name(r.arm)} ${fmtPct(r.acc)} (lr ${fmtNum(r.lr ?? NaN)})`).join(', ')}. ` +
      `BN minus the others: ${cmps.map((x) => `${name(x.r.arm)} ${diffText(x.cmp, 'points')} (${word(x.cmp)}${seedsClause(x.cmp)})`).join('; ')}.` +
      tail,
    verdict,
    values,
    comparisons: cmps.map((x) => x.cmp),
  };
}

/** The highest lr each seed trains at (log10), BN against no norm paired by seed; GN and LN reported beside. */
function maxLrFinding(trials: readonly Trial[], c: CnnConfig): Finding {
  const claim = 'BN lets a convnet train at higher learning rates than without normalization';
  if (!c.arms.includes('bn') || !c.arms.includes('none')) return needBoth('max-learning-rate', claim, c.arms);
  const lrs = lrsOf(trials);
  const every = (arm: string) => maxLrEverySeedTrained(of(trials, arm));
  const cmps = c.arms.filter((a) => a !== 'bn').map((arm) => {
    const cmp = compare(`log10 highest trainable lr, BN - ${name(arm)}`, maxTrainedLogLr(of(trials, 'bn')), maxTrainedLogLr(of(trials, arm)));
    return { arm, cmp: arm === 'none' ? cmp : informational(cmp) };
  });
  const head = cmps.find((x) => x.arm === 'none')!;
  let verdict: Verdict = verdictOf(head.cmp, 1);
  const top = lrs[lrs.length - 1];
  // Both at the top of the grid: the grid did not reach either limit, which says nothing either way.
  if (every('bn') === top && every('none') === top) verdict = 'inconclusive';
  const lim = (x: number | null) => (x === null ? 'at no learning rate of the grid' : `up to lr ${fmtNum(x)}`);
  const div = (arm: string) => of(trials, arm).filter((t) => t.diverged).length;
  const values: Finding['values'] = {};
  for (const arm of c.arms) {
    values[`${arm}.maxLr`] = every(arm);
    values[`${arm}.diverged`] = div(arm);
  }
  const atTop = verdict === 'inconclusive' && every('bn') === top && every('none') === top;
  const tail = atTop ? ' Both trained at the top of the grid, so the grid does not reach the limit.' : '';
  return {
    id: 'max-learning-rate',
    claim,
    text:
      `Every seed trained ${c.arms.map((a) => `${name(a)} ${lim(every(a))}`).join(', ')} (grid ${lrs.map(fmtNum).join(', ')}; ` +
      `diverged trials: ${c.arms.map((a) => `${name(a)} ${div(a)}`).join(', ')}). ` +
      `Highest trainable lr, BN minus no norm: ${diffText(head.cmp, 'decades')}.${tail}`,
    verdict,
    values,
    comparisons: cmps.map((x) => x.cmp),
  };
}

/** How far apart the arms' best learning rates are (decades); per-seed best lr of BN against no norm. */
function bestLrFinding(trials: readonly Trial[], c: CnnConfig): Finding {
  const claim = "BN's best learning rate is higher than that of the same net without normalization (Bjorck et al. 2018)";
  if (!c.arms.includes('bn') || !c.arms.includes('none')) return needBoth('best-lr-distance', claim, c.arms);
  const best = Object.fromEntries(c.arms.map((a) => [a, bestMeanLr(of(trials, a), accuracy, 'max')]));
  const perSeed = (arm: string) => bestLogLrBySeed(of(trials, arm), accuracy, 'max');
  const cmp = compare('log10 best lr (per seed), BN - no norm', perSeed('bn'), perSeed('none'));
  const verdict = verdictOf(cmp, 1);
  const bnLr = best.bn;
  const dist = (a: string) => {
    if (best[a] === null || bnLr === null) return 'n/a';
    const d = Math.log10(best[a]! / bnLr);
    return `${d >= 0 ? '+' : ''}${d.toFixed(2)}`;
  };
  const values: Finding['values'] = {};
  for (const a of c.arms) {
    values[`${a}.bestLr`] = best[a];
    values[`${a}.decadesFromBn`] = best[a] === null || bnLr === null ? null : round(Math.log10(best[a]! / bnLr), 3);
  }
  const tail =
    verdict === 'supported' ? ''
    : verdict === 'contradicted' ? ' The net without normalization preferred the higher rate, contrary to the claim.'
    : ` The per-seed best learning rates do not separate${seedsHint(cmp)}.`;
  return {
    id: 'best-lr-distance',
    claim,
    text:
      `Best learning rate by mean final accuracy: ${c.arms.map((a) => `${name(a)} ${best[a] === null ? 'n/a' : fmtNum(best[a]!)}`).join(', ')}; ` +
      `decades from BN's: ${c.arms.filter((a) => a !== 'bn').map((a) => `${name(a)} ${dist(a)}`).join(', ')}. ` +
      `Per seed, BN's best lr minus no norm's: ${diffText(cmp, 'decades')}.${tail}`,
    verdict,
    values,
    comparisons: [cmp],
  };
}

function findings(trials: Trial[], c: CnnConfig): Finding[] {
  return [stepsFinding(trials, c), accuracyFinding(trials, c), maxLrFinding(trials, c), bestLrFinding(trials, c)];
}

const quick: CnnConfig = {
  dataset: 'mnist-10k',
  seeds: 3,
  arms: ['none', 'bn', 'group', 'layer'],
  lrs: [0.1, 0.3, 1],
  widths: [8, 16],
  convsPerStage: 1,
  groups: 4,
  inputPool: 2,
  steps: 150,
  batchSize: 60,
  momentum: 0,
  evalEvery: 25,
  evalSamples: 500,
  targetAccuracy: 0.9,
};

/** Normalization in a small convnet (Ioffe & Szegedy's ImageNet claim, at the scale of one CPU). */
export const cnn: Experiment<CnnConfig> = {
  name: 'cnn',
  title: 'Convnets: no norm, BN, GroupNorm and LayerNorm in a small VGG-style net over a learning-rate grid',
  claim: 'In convolutional networks BN speeds up training, reaches a higher accuracy and allows higher learning rates than no normalization.',
  context:
    'Santurkar et al. 2018 (VGG on CIFAR-10) find the gain is not from reduced internal covariate shift but from a smoother loss ' +
    'landscape, which also permits the higher learning rates; Bjorck et al. 2018 find that most of the gain comes from those higher ' +
    'rates, and that at a small learning rate BN and no-BN nets are close. Wu & He 2018: GroupNorm matches BN at normal batch sizes ' +
    'and beats it at tiny ones; LayerNorm trails both in convnets. ' +
    'Quick runs use 14x14 images (an input average pool) and a net of 8 and 16 channels.',
  schema,
  presets: {
    tiny: { ...quick, seeds: 2, lrs: [0.02, 0.5], widths: [4, 8], groups: 2, steps: 20, batchSize: 16, evalEvery: 10,
      evalSamples: 200, targetAccuracy: 0.3 },
    quick,
    full: {
      ...quick, dataset: 'fashion-mnist', seeds: 5, lrs: [0.03, 0.1, 0.3, 0.6, 1], widths: [16, 32, 64], groups: 8, inputPool: 1,
      steps: 1500, batchSize: 64, evalEvery: 100, evalSamples: 5000, targetAccuracy: 0.85,
    },
  },
  trials(c) {
    const out: TrialSpec[] = [];
    // Seeds outermost: an interrupted run still holds whole grids for the first seeds.
    for (let seed = 0; seed < c.seeds; seed++) {
      for (const lr of c.lrs) for (const arm of c.arms) out.push({ id: trialId(arm, seed, { lr }), arm, seed, params: { lr } });
    }
    return out;
  },
  runTrial,
  findings,
};
