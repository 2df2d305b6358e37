// Experiment `batchsize`: BN vs Batch Renorm vs Ghost BN vs GroupNorm/LayerNorm from batch 2 to 256, at equal examples seen.
import { z } from 'zod';
import type { Experiment, TrialContext, TrialOutput, TrialSpec } from '../experiment.js';
import { trialId } from '../experiment.js';
import type { Finding, Series, Trial, Verdict } from '../results.js';
import { buildMlp, type NormKind } from '../models.js';
import { trainClassifier } from '../train.js';
import { BatchRenorm1d, renormRamp } from '../../nn/norm/renorm.js';
import { ArgumentError } from '../../tensor/errors.js';
import { meanCI, type MeanCI } from '../stats.js';
import { baseFields, fields, inputSize } from '../kit/config.js';
import { againstZero, bySeed, paired, pairedValues, pct, points, seeds, select, sgn } from '../kit/paired.js';
import { divergedFinding } from '../kit/diverged.js';

/** The normalizations compared. */
export const BATCHSIZE_ARMS = ['bn', 'renorm', 'ghost', 'group', 'layer'] as const;
export type BatchsizeArm = (typeof BATCHSIZE_ARMS)[number];

const unique = <T>(a: T[]) => new Set(a).size === a.length;

const schema = z
  .object({
    ...baseFields,
    arms: z.array(z.enum(BATCHSIZE_ARMS)).min(1, 'arms needs at least one of bn, renorm, ghost, group, layer').refine(unique, 'arms must not repeat'),
    batchSizes: z.array(fields.batchSize).min(1, 'batchSizes needs at least one batch size').refine(unique, 'batchSizes must not repeat'),
    /** Training examples every trial sees (equal epochs for every batch size): steps = floor(examples / batchSize). */
    examples: z.number().int('examples must be an integer').min(2, 'examples must be at least 2'),
    /** Learning rate at refBatch; other batch sizes scale it by lrScaling. */
    lr: fields.lr,
    /** The "normal" batch size: the lr reference, and the batch the small-batch findings compare against. */
    refBatch: fields.batchSize,
    /** lr(B) = lr * (B / refBatch) ('linear', Goyal et al.), * sqrt(B / refBatch) ('sqrt', Hoffer et al.), or lr ('none'). */
    lrScaling: z.enum(['linear', 'sqrt', 'none']),
    hidden: fields.hidden,
    activation: fields.activation,
    initStd: fields.initStd,
    /** BN running-average momentum (bn, renorm, ghost). */
    momentum: z.number().gt(0, 'momentum must be in (0, 1]').max(1, 'momentum must be in (0, 1]'),
    /** Ghost BN's virtual batch size; ghost trials run only for batch sizes above it (at or below it Ghost BN is BN). */
    virtualBatchSize: z.number().int('virtualBatchSize must be an integer').min(2, 'virtualBatchSize must be at least 2'),
    /** GroupNorm groups (must divide every hidden width). */
    groups: z.number().int('groups must be an integer').min(1, 'groups must be at least 1'),
    /** Batch Renorm: plain BN until warmup (fraction of the steps), then rMax 1 -> rMax and dMax 0 -> dMax linearly until rampEnd. */
    renorm: z
      .object({
        rMax: z.number().min(1, 'renorm.rMax must be >= 1').finite(),
        dMax: z.number().min(0, 'renorm.dMax must be >= 0').finite(),
        warmup: z.number().min(0, 'renorm.warmup must be in [0, 1]').max(1, 'renorm.warmup must be in [0, 1]'),
        rampEnd: z.number().min(0, 'renorm.rampEnd must be in [0, 1]').max(1, 'renorm.rampEnd must be in [0, 1]'),
      })
      .strict()
      .refine((r) => r.rampEnd >= r.warmup, 'renorm.rampEnd must not come before renorm.warmup'),
    /** Evaluations along training (plus the start). */
    evalPoints: z.number().int('evalPoints must be an integer').min(1, 'evalPoints must be at least 1'),
    evalSamples: fields.evalSamples,
  })
  .strict()
  .superRefine((c, ctx) => {
    const bad = c.hidden.filter((h) => h % c.groups !== 0);
    if (c.arms.includes('group') && bad.length) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['groups'],
        message: `groups (${c.groups}) must divide every hidden width (not ${bad.join(', ')})`,
      });
    }
    // A last virtual batch of one sample has no batch statistics (BN rejects it).
    const lone = c.batchSizes.filter((b) => b > c.virtualBatchSize && b % c.virtualBatchSize === 1);
    if (c.arms.includes('ghost') && lone.length) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['batchSizes'],
        message: `batch size ${lone.join(', ')} leaves a virtual batch of one sample with virtualBatchSize ${c.virtualBatchSize}`,
      });
    }
  });

/** Config of the `batchsize` experiment. */
export type BatchsizeConfig = z.infer<typeof schema>;

const common = {
  arms: [...BATCHSIZE_ARMS],
  lrScaling: 'sqrt' as const,
  activation: 'sigmoid' as const,
  initStd: 0.1,
  momentum: 0.1,
  virtualBatchSize: 16,
  groups: 4,
  renorm: { rMax: 3, dMax: 5, warmup: 0.1, rampEnd: 0.5 },
};

const presets: { tiny: BatchsizeConfig; quick: BatchsizeConfig; full: BatchsizeConfig } = {
  tiny: {
    dataset: 'mnist-10k', seeds: 2, ...common, batchSizes: [2, 32], examples: 64,
    lr: 0.5, refBatch: 32, hidden: [16], evalPoints: 2, evalSamples: 200,
  },
  quick: {
    dataset: 'mnist-10k', seeds: 3, ...common, batchSizes: [2, 8, 32, 128], examples: 8192,
    lr: 0.5, refBatch: 32, hidden: [100, 100], evalPoints: 4, evalSamples: 1000,
  },
  full: {
    dataset: 'mnist-10k', seeds: 5, ...common, batchSizes: [2, 4, 8, 16, 32, 64, 128, 256],
    examples: 40000, lr: 0.5, refBatch: 32, hidden: [100, 100, 100], evalPoints: 10, evalSamples: 2000,
  },
};

/** Learning rate of a batch size under the config's scaling rule. */
export function lrFor(config: BatchsizeConfig, batchSize: number): number {
  const k = batchSize / config.refBatch;
  return config.lrScaling === 'linear' ? config.lr * k : config.lrScaling === 'sqrt' ? config.lr * Math.sqrt(k) : config.lr;
}

/** Steps of a trial: every batch size sees the same number of examples (at least one step). */
export function stepsFor(config: BatchsizeConfig, batchSize: number): number {
  return Math.max(1, Math.floor(config.examples / batchSize));
}

function trials(config: BatchsizeConfig): TrialSpec[] {
  const out: TrialSpec[] = [];
  for (const batchSize of config.batchSizes)
    for (const arm of config.arms) {
      // At or below the virtual batch size Ghost BN computes exactly BN: no trial, nothing new to learn.
      if (arm === 'ghost' && batchSize <= config.virtualBatchSize) continue;
      for (let seed = 0; seed < config.seeds; seed++) out.push({ id: trialId(arm, seed, { batchSize }), arm, seed, params: { batchSize } });
    }
  return out;
}

function runTrial(spec: TrialSpec, config: BatchsizeConfig, ctx: TrialContext): TrialOutput {
  const data = ctx.dataset();
  const batchSize = spec.params.batchSize;
  if (typeof batchSize !== 'number') throw new ArgumentError(`batchsize: trial param batchSize must be a number, got ${String(batchSize)}`);
  const arm = spec.arm as BatchsizeArm;
  const steps = stepsFor(config, batchSize);
  const lr = lrFor(config, batchSize);
  const net = buildMlp(
    {
      inputs: inputSize(data),
      hidden: config.hidden,
      classes: data.classes.length,
      activation: config.activation,
      norm: arm satisfies NormKind,
      init: { kind: 'normal', std: config.initStd },
      momentum: config.momentum,
      virtualBatchSize: config.virtualBatchSize,
      groups: config.groups,
    },
    spec.seed,
  );
  // Batch Renorm's schedule in this trial's own steps (the limits are read at each training forward).
  const w = Math.round(config.renorm.warmup * steps);
  const end = Math.max(w, Math.round(config.renorm.rampEnd * steps));
  for (const m of net.norms) {
    if (m instanceof BatchRenorm1d) {
      m.rMax = renormRamp(1, config.renorm.rMax, w, end);
      m.dMax = renormRamp(0, config.renorm.dMax, w, end);
    }
  }
  const r = trainClassifier(net.model, data, {
    steps,
    batchSize,
    lr,
    evalEvery: Math.max(1, Math.floor(steps / config.evalPoints)),
    evalSamples: config.evalSamples,
    seed: spec.seed,
    progress: (d, t) => ctx.progress(d, t),
  });
  // x is examples seen, so curves of different batch sizes share an axis.
  const byExamples = (s: Series): Series => s.filter(([, v]) => Number.isFinite(v)).map(([st, v]) => [st * batchSize, v]);
  const lastLoss = r.curves.trainLoss[r.curves.trainLoss.length - 1];
  return {
    metrics: {
      finalTestAccuracy: r.finalTestAccuracy,
      finalTestLoss: Number.isFinite(r.finalTestLoss) ? r.finalTestLoss : null,
      finalTrainLoss: r.diverged || !lastLoss ? null : lastLoss[1],
      steps: r.steps,
      lr,
    },
    curves: { testAccuracy: byExamples(r.curves.testAccuracy), trainLoss: byExamples(r.curves.trainLoss) },
    diverged: r.diverged,
    divergedAt: r.divergedAt,
  };
}

/** The batch size a small-batch finding compares against: refBatch when run, else the largest. */
function normalBatch(config: BatchsizeConfig): number {
  return config.batchSizes.includes(config.refBatch) ? config.refBatch : Math.max(...config.batchSizes);
}

const at = (trials: readonly Trial[], arm: string, b: number) => select(trials, arm, { batchSize: b });
const accOf = (trials: readonly Trial[], arm: string, b: number): MeanCI => meanCI(at(trials, arm, b).map((t) => t.metrics.finalTestAccuracy));
const inconclusive = (id: string, claim: string, why: string): Finding => ({ id, claim, text: why, verdict: 'inconclusive', values: {} });

/** The batch-independent arm the BN comparisons use: GroupNorm when run, else LayerNorm. */
function independentArm(config: BatchsizeConfig): 'group' | 'layer' | null {
  return config.arms.includes('group') ? 'group' : config.arms.includes('layer') ? 'layer' : null;
}

const armName: Record<BatchsizeArm, string> = { bn: 'BN', renorm: 'Batch Renorm', ghost: 'Ghost BN', group: 'GroupNorm', layer: 'LayerNorm' };

function findSmallBatchPenalty(trials: readonly Trial[], config: BatchsizeConfig): Finding {
  const claim = "BN's accuracy falls at small batches, because its statistics come from the batch (Ioffe 2017; Wu & He 2018)";
  const small = Math.min(...config.batchSizes);
  const ref = normalBatch(config);
  const other = independentArm(config);
  if (!config.arms.includes('bn') || other === null || small === ref) {
    return inconclusive('small-batch-penalty', claim, 'Not measured: needs the bn arm, group or layer, and at least two batch sizes.');
  }
  // Difference in differences per seed: BN's drop from the normal to the smallest batch minus the batch-independent
  // norm's drop. More steps at small batches (equal examples) help both, so only BN's extra drop is BN's doing.
  const cells = [
    at(trials, 'bn', ref),
    at(trials, 'bn', small),
    at(trials, other, ref),
    at(trials, other, small),
  ].map((ts) => bySeed(ts, 'finalTestAccuracy'));
  const did = new Map<number, number>();
  for (const [s, a] of cells[0]) {
    const b = cells[1].get(s);
    const c = cells[2].get(s);
    const d = cells[3].get(s);
    if (b !== undefined && c !== undefined && d !== undefined) did.set(s, a - b - (c - d));
  }
  const ci = meanCI([...did.values()]);
  const cmp = againstZero(`BN's extra accuracy drop at batch ${small} vs ${armName[other]}`, did);
  const verdict: Verdict = cmp.outcome === 'higher' ? 'supported' : cmp.outcome === 'lower' ? 'contradicted' : 'inconclusive';
  const bnRef = accOf(trials, 'bn', ref);
  const bnSmall = accOf(trials, 'bn', small);
  const oRef = accOf(trials, other, ref);
  const oSmall = accOf(trials, other, small);
  const tail: Record<Verdict, string> = {
    supported: ' BN loses more at the small batch than the batch-independent norm does.',
    contradicted: ' BN loses less than the batch-independent norm, against the claim.',
    equivalent: '',
    inconclusive: ' The extra loss is within the 95% CI.',
    mixed: '',
  };
  return {
    id: 'small-batch-penalty',
    claim,
    text:
      `At equal examples seen (${config.examples.toLocaleString('en-US')}), BN scored ${pct(bnSmall)} at batch ${small} vs ${pct(bnRef)} at batch ` +
      `${ref}; ${armName[other]} ${pct(oSmall)} vs ${pct(oRef)}. BN's extra drop: ${points(ci)} (${seeds(ci.n)}).${tail[verdict]}`,
    verdict,
    values: {
      small,
      ref,
      other,
      'bn.small': bnSmall.mean,
      'bn.ref': bnRef.mean,
      [`${other}.small`]: oSmall.mean,
      [`${other}.ref`]: oRef.mean,
      extraDrop: Number.isFinite(ci.mean) ? ci.mean : null,
      extraDropHalf: Number.isFinite(ci.half) ? ci.half : null,
      seeds: ci.n,
    },
    comparisons: [cmp],
  };
}

function findGroupNorm(trials: readonly Trial[], config: BatchsizeConfig): Finding {
  const claim = 'GroupNorm/LayerNorm beat BN at very small batches and are comparable at normal batch sizes (Wu & He 2018)';
  const small = Math.min(...config.batchSizes);
  const ref = normalBatch(config);
  const other = independentArm(config);
  if (!config.arms.includes('bn') || other === null) return inconclusive('group-vs-bn', claim, 'Not measured: needs the bn arm and group or layer.');
  const ps = paired(
    at(trials, other, small),
    at(trials, 'bn', small),
    'finalTestAccuracy',
    undefined,
    { label: `accuracy at batch ${small}, ${armName[other]} - BN` },
  );
  const pr = paired(
    at(trials, other, ref),
    at(trials, 'bn', ref),
    'finalTestAccuracy',
    undefined,
    { label: `accuracy at batch ${ref}, ${armName[other]} - BN` },
  );
  const a = sgn(ps); // +1: the batch-independent norm wins at the small batch
  const b = sgn(pr); // 0: comparable at the normal batch (or BN ahead: -1)
  let verdict: Verdict;
  if (a > 0 && b <= 0) verdict = 'supported';
  else if (a < 0) verdict = 'contradicted';
  else if (a === 0 && b === 0) verdict = 'inconclusive';
  else verdict = 'mixed';
  const layer = other === 'group' && config.arms.includes('layer')
    ? ` (LayerNorm ${pct(accOf(trials, 'layer', small))} at batch ${small}, ${pct(accOf(trials, 'layer', ref))} at ${ref})`
    : '';
  return {
    id: 'group-vs-bn',
    claim,
    text: `${armName[other]} minus BN: ${points(ps.diff)} at batch ${small}, ${points(pr.diff)} at batch ${ref} (${seeds(ps.diff.n)})${layer}.`,
    verdict,
    values: { small, ref, other, ...pairedValues('small', ps, [other, 'bn']), ...pairedValues('ref', pr, [other, 'bn']) },
    // The verdict rests on the small batch; "comparable" at the normal batch is the absence of a difference, which a correction cannot undo.
    comparisons: [ps.cmp, { ...pr.cmp, decides: false }],
  };
}

function findRenorm(trials: readonly Trial[], config: BatchsizeConfig): Finding {
  const claim = 'Batch Renorm recovers accuracy BN loses at small batches (Ioffe 2017)';
  const small = Math.min(...config.batchSizes);
  if (!config.arms.includes('bn') || !config.arms.includes('renorm')) {
    return inconclusive('renorm-small-batch', claim, 'Not measured: needs the bn and renorm arms.');
  }
  const p = paired(
    at(trials, 'renorm', small),
    at(trials, 'bn', small),
    'finalTestAccuracy',
    undefined,
    { label: `accuracy at batch ${small}, Batch Renorm - BN` },
  );
  const s = sgn(p);
  const verdict: Verdict = s > 0 ? 'supported' : s < 0 ? 'contradicted' : 'inconclusive';
  const r = config.renorm;
  return {
    id: 'renorm-small-batch',
    claim,
    text:
      `At batch ${small}, Batch Renorm (rMax 1 -> ${r.rMax}, dMax 0 -> ${r.dMax} between ${Math.round(r.warmup * 100)}% and ` +
      `${Math.round(r.rampEnd * 100)}% of training) scored ${pct(p.a)} vs BN ${pct(p.b)} (${points(p.diff)}, ${seeds(p.diff.n)}).`,
    verdict,
    values: { small, ...pairedValues('accuracy', p, ['renorm', 'bn']) },
    comparisons: [p.cmp],
  };
}

function findGhost(trials: readonly Trial[], config: BatchsizeConfig): Finding {
  const claim = 'Ghost BN (statistics over small virtual batches) generalizes better than full-batch BN at large batches (Hoffer et al. 2017)';
  const large = Math.max(...config.batchSizes);
  if (!config.arms.includes('bn') || !config.arms.includes('ghost')) {
    return inconclusive('ghost-large-batch', claim, 'Not measured: needs the bn and ghost arms.');
  }
  if (large <= config.virtualBatchSize) {
    return inconclusive('ghost-large-batch', claim, 'Not measured: Ghost BN differs from BN only for batches above its virtual batch size ' +
      `${config.virtualBatchSize}, and the largest batch is ${large}.`);
  }
  const p = paired(
    at(trials, 'ghost', large),
    at(trials, 'bn', large),
    'finalTestAccuracy',
    undefined,
    { label: `accuracy at batch ${large}, Ghost BN - BN` },
  );
  const s = sgn(p);
  const verdict: Verdict = s > 0 ? 'supported' : s < 0 ? 'contradicted' : 'inconclusive';
  return {
    id: 'ghost-large-batch',
    claim,
    text:
      `At batch ${large}, Ghost BN with virtual batches of ${config.virtualBatchSize} scored ${pct(p.a)} vs BN ${pct(p.b)} ` +
      `(${points(p.diff)}, ${seeds(p.diff.n)}); Ghost BN runs only for batches above ${config.virtualBatchSize}.`,
    verdict,
    values: { large, virtualBatchSize: config.virtualBatchSize, ...pairedValues('accuracy', p, ['ghost', 'bn']) },
    comparisons: [p.cmp],
  };
}

function findings(trials: Trial[], config: BatchsizeConfig): Finding[] {
  const out = [findSmallBatchPenalty(trials, config), findGroupNorm(trials, config), findRenorm(trials, config), findGhost(trials, config)];
  const div = divergedFinding(trials, {
    claim: 'Every run trains at its scaled learning rate',
    which: (d) => [...new Set(d.map((t) => `${t.arm} at batch ${String(t.params.batchSize)}`))].join(', '),
    consequence: 'they count as chance accuracy above',
  });
  if (div) out.push(div);
  return out;
}

/** Experiment `batchsize`: how BN and its alternatives fare from batch 2 to 256. */
export const batchsize: Experiment<BatchsizeConfig> = {
  name: 'batchsize',
  title: 'Batch size: BN vs Batch Renorm, Ghost BN, GroupNorm and LayerNorm',
  claim:
    'BN normalizes with mini-batch statistics, which estimate the population statistics well for mini-batches of reasonable size ' +
    '(Ioffe & Szegedy 2015, Sec. 3).',
  context:
    "Small batches make BN's statistics noisy: Wu & He (2018) report ResNet-50 ImageNet error 34.7% with BN vs 24.1% with GroupNorm at 2 images " +
    "per GPU, and comparable results at normal batch sizes; Batch Renorm (Ioffe 2017) corrects the batch statistics towards the running ones and " +
    "helps small and non-i.i.d. batches; Ghost BN (Hoffer et al. 2017) takes statistics over virtual sub-batches of a large batch. " +
    "Here every batch size sees the same number of training examples (equal epochs, so small batches take more steps), " +
    "with the learning rate scaled from refBatch by the lrScaling rule; Ghost BN runs only for batches larger than its virtual batch size " +
    "(at or below it, it is BN); Batch Renorm starts as BN and relaxes rMax/dMax linearly within each trial's own steps; " +
    "accuracy is measured in inference mode.",
  schema,
  presets,
  trials,
  runTrial,
  findings,
};
