// Experiment scales: inputs on scales 1..10^4 — raw vs standardized inputs vs BN in the hidden layers vs on the inputs, over an lr grid.
import { z } from 'zod';
import type { Dataset } from '../../data/dataset.js';
import { applyStandardize, featureStats } from '../../data/normalize.js';
import { BatchNorm1d } from '../../nn/norm/index.js';
import { Sequential } from '../../nn/sequential.js';
import { trialId, type BaseConfig, type Experiment, type TrialContext, type TrialOutput, type TrialSpec } from '../experiment.js';
import { buildMlp } from '../models.js';
import type { Finding, Trial, Verdict } from '../results.js';
import { meanCI, type MeanCI } from '../stats.js';
import { stepsToReach, trainClassifier } from '../train.js';
import { noDifference, seedsText } from '../kit/format.js';
import type { Comparison } from '../compare.js';
import { paired } from '../kit/paired.js';
import { baseFields, fields, intField } from '../kit/config.js';

/**
 * raw: features as generated; standardize: per-feature (x - mean) / std from the training split;
 * bn: raw inputs, BN after every hidden Linear; input-bn: raw inputs through a BatchNorm1d (no affine)
 * before the plain MLP, i.e. standardization learned from each batch.
 */
const ARMS = ['raw', 'standardize', 'bn', 'input-bn'] as const;
type ScalesArm = (typeof ARMS)[number];

/** scales' config. */
export interface ScalesConfig extends BaseConfig {
  steps: number;
  batchSize: number;
  /** SGD learning rates; every arm runs at each (arms do not share a best learning rate). */
  lrs: number[];
  arms: ScalesArm[];
  hidden: number[];
  activation: 'relu' | 'tanh' | 'sigmoid';
  evalEvery: number;
  /** Test accuracy for "steps to reach". */
  target: number;
  /** Size of the generated data (the scales set: feature j multiplied by 10^(j mod 5)). */
  nTrain: number;
  nTest: number;
  features: number;
  /** Label noise of the generator (0: separable). */
  noise: number;
}

const schema = z
  .object({
    dataset: z.literal('scales', { errorMap: () => ({ message: "dataset must be 'scales' (this experiment is about the scales synthetic set)" }) }),
    dataDir: baseFields.dataDir,
    seeds: baseFields.seeds,
    steps: fields.steps,
    batchSize: fields.batchSize,
    lrs: z.array(fields.lr).min(1, 'lrs needs at least one learning rate'),
    arms: z
      .array(z.enum(ARMS))
      .min(1, `arms needs at least one of ${ARMS.join(', ')}`)
      .refine((a) => new Set(a).size === a.length, 'arms must not repeat'),
    hidden: fields.hidden,
    activation: fields.activation,
    evalEvery: fields.evalEvery,
    target: z.number().gt(0, 'target must be in (0, 1]').max(1, 'target must be in (0, 1]'),
    nTrain: intField('nTrain', 2),
    nTest: intField('nTest', 1),
    features: intField('features', 1),
    noise: z.number().min(0, 'noise must be >= 0').finite(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.batchSize > c.nTrain) ctx.addIssue({ code: 'custom', path: ['batchSize'], message: `batchSize must be at most nTrain (${c.nTrain})` });
  });

const quick: ScalesConfig = {
  dataset: 'scales',
  seeds: 3,
  steps: 800,
  batchSize: 32,
  lrs: [0.00001, 0.0001, 0.001, 0.01, 0.1, 1],
  arms: ['raw', 'standardize', 'bn', 'input-bn'],
  hidden: [32, 32],
  activation: 'relu',
  evalEvery: 25,
  target: 0.9,
  nTrain: 2000,
  nTest: 1000,
  features: 10,
  noise: 0,
};

// Standardized copies, one per loaded dataset per thread (trials share them read-only).
const standardized = new WeakMap<Dataset, Dataset>();

/** The dataset with features standardized by training-split statistics (a copy; the original is shared). */
function standardizedOf(data: Dataset): Dataset {
  let s = standardized.get(data);
  if (!s) {
    const train = { ...data.train, x: data.train.x.slice() };
    const test = { ...data.test, x: data.test.x.slice() };
    const stats = featureStats(train);
    applyStandardize(train, stats);
    applyStandardize(test, stats);
    s = { ...data, train, test, normalization: 'standardize', stats };
    standardized.set(data, s);
  }
  return s;
}

function runTrial(spec: TrialSpec, c: ScalesConfig, ctx: TrialContext): TrialOutput {
  const arm = spec.arm as ScalesArm;
  const raw = ctx.dataset();
  const data = arm === 'standardize' ? standardizedOf(raw) : raw;
  const inputs = data.inputShape.reduce((a, b) => a * b, 1);
  const built = buildMlp(
    {
      inputs,
      hidden: c.hidden,
      classes: data.classes.length,
      activation: c.activation,
      norm: arm === 'bn' ? 'bn' : 'none',
      init: { kind: 'default' },
    },
    spec.seed,
  );
  // No affine: the input BN is only a standardizer, so the arm differs from 'standardize' in nothing but
  // where the statistics come from (each batch, and running averages at test time).
  const model = arm === 'input-bn' ? new Sequential(new BatchNorm1d(inputs, { affine: false }), built.model) : built.model;
  const lr = spec.params.lr as number;
  const r = trainClassifier(model, data, {
    steps: c.steps,
    batchSize: c.batchSize,
    lr,
    evalEvery: c.evalEvery,
    seed: spec.seed,
    progress: ctx.progress,
  });
  const last = r.curves.trainLoss[r.curves.trainLoss.length - 1];
  return {
    metrics: {
      finalTestAccuracy: r.finalTestAccuracy,
      stepsToTarget: r.diverged ? null : stepsToReach(r.curves.testAccuracy, c.target),
      finalTrainLoss: r.diverged || !last ? null : last[1],
    },
    curves: { trainLoss: r.curves.trainLoss, testAccuracy: r.curves.testAccuracy, testLoss: r.curves.testLoss },
    diverged: r.diverged,
    divergedAt: r.divergedAt,
  };
}

// ---- findings -------------------------------------------------------------------------------------

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const int0 = (x: number) => Math.round(x).toLocaleString('en-US');
const r4 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);
const accText = (ci: MeanCI) => (ci.n > 1 ? `${pct(ci.mean)} ± ${pct(ci.half)}` : pct(ci.mean));
const stepsText = (ci: MeanCI) => (ci.n === 0 ? 'never' : ci.n > 1 ? `${int0(ci.mean)} ± ${int0(ci.half)}` : int0(ci.mean));

const ARM_TEXT: Record<ScalesArm, string> = {
  raw: 'raw inputs',
  standardize: 'standardized inputs',
  bn: 'BN in the hidden layers (raw inputs)',
  'input-bn': 'BN on the inputs',
};

/** One arm at one learning rate, summarized over seeds. */
interface Cell {
  arm: ScalesArm;
  lr: number;
  acc: MeanCI;
  steps: MeanCI;
  /** Seeds that did not reach the target (diverged or too slow). */
  missed: number;
  diverged: number;
  n: number;
  trials: Trial[];
}

function cellOf(trials: readonly Trial[], arm: ScalesArm, lr: number): Cell {
  const ts = trials.filter((t) => t.arm === arm && t.params.lr === lr);
  const steps = ts.map((t) => t.metrics.stepsToTarget);
  const sc = meanCI(steps);
  return {
    arm,
    lr,
    acc: meanCI(ts.map((t) => t.metrics.finalTestAccuracy)),
    steps: sc,
    missed: ts.length - sc.n,
    diverged: ts.filter((t) => t.diverged).length,
    n: ts.length,
    trials: ts,
  };
}

/** The arm's best learning rate: highest mean final accuracy, ties broken by fewer steps to target. */
export function bestCell(trials: readonly Trial[], arm: ScalesArm, lrs: readonly number[]): Cell {
  const cells = lrs.map((lr) => cellOf(trials, arm, lr));
  return cells.reduce((best, c) => {
    const a = Number.isFinite(c.acc.mean) ? c.acc.mean : -1;
    const b = Number.isFinite(best.acc.mean) ? best.acc.mean : -1;
    if (a > b + 1e-9) return c;
    if (Math.abs(a - b) <= 1e-9 && (c.steps.mean || Infinity) < (best.steps.mean || Infinity)) return c;
    return best;
  });
}

function cellText(c: Cell, target: number): string {
  const reach = c.missed === c.n
    ? `never reached ${pct(target)}`
    : `reached ${pct(target)} after ${stepsText(c.steps)} steps${c.missed ? ` (${c.missed} of ${c.n} seeds never did)` : ''}`;
  return `${ARM_TEXT[c.arm]} (best lr ${c.lr}) ${reach}, final accuracy ${accText(c.acc)}`;
}

/**
 * a better than b? Faster to target (paired steps) when both reach it in every seed, else higher final accuracy
 * (paired): a seed that never reaches the target has no step count, so steps are compared only without misses.
 */
function compareCells(a: Cell, b: Cell): { sign: -1 | 0 | 1; cmp: Comparison } {
  const label = (what: string) => `${what}, ${a.arm} (lr ${a.lr}) - ${b.arm} (lr ${b.lr})`;
  if (a.missed === 0 && b.missed === 0) {
    const cmp = paired(a.trials, b.trials, 'stepsToTarget', undefined, { label: label('steps to target') }).cmp;
    if (cmp.outcome === 'lower' || cmp.outcome === 'higher') return { sign: cmp.outcome === 'lower' ? 1 : -1, cmp };
  }
  const cmp = paired(a.trials, b.trials, 'finalTestAccuracy', undefined, { label: label('final accuracy') }).cmp;
  return { sign: cmp.outcome === 'higher' ? 1 : cmp.outcome === 'lower' ? -1 : 0, cmp };
}

function pairFinding(id: string, claim: string, a: Cell, b: Cell, c: ScalesConfig, expectBetter: boolean): Finding {
  const { sign: cmp, cmp: comparison } = compareCells(a, b);
  let verdict: Verdict;
  if (cmp === 0) verdict = 'inconclusive';
  else verdict = (cmp === 1) === expectBetter ? 'supported' : 'contradicted';
  const how = cmp === 1 ? `${ARM_TEXT[a.arm]} did better` : cmp === -1 ? `${ARM_TEXT[b.arm]} did better` : noDifference(c.seeds);
  const against = verdict === 'contradicted' ? ', contrary to the claim' : '';
  const text = `${cap(cellText(a, c.target))}; ${cellText(b, c.target)}: ${how}${against} (${seedsText(c.seeds)}, ${int0(c.steps)} steps).`;
  return {
    id,
    claim,
    text,
    verdict,
    values: {
      [`${a.arm}.lr`]: a.lr, [`${a.arm}.accuracy`]: r4(a.acc.mean), [`${a.arm}.accuracyHalf`]: r4(a.acc.half),
      [`${a.arm}.steps`]: r4(a.steps.mean), [`${a.arm}.missed`]: a.missed,
      [`${b.arm}.lr`]: b.lr, [`${b.arm}.accuracy`]: r4(b.acc.mean), [`${b.arm}.accuracyHalf`]: r4(b.acc.half),
      [`${b.arm}.steps`]: r4(b.steps.mean), [`${b.arm}.missed`]: b.missed,
      target: c.target,
    },
    comparisons: [comparison],
  };
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function robustnessFinding(trials: readonly Trial[], c: ScalesConfig): Finding {
  const parts: string[] = [];
  const values: Finding['values'] = {};
  for (const arm of c.arms) {
    const cells = c.lrs.map((lr) => cellOf(trials, arm, lr));
    const div = cells.filter((x) => x.diverged > 0).map((x) => x.lr);
    const ok = cells.filter((x) => x.missed === 0).map((x) => x.lr);
    values[`${arm}.divergedLrs`] = div.length;
    values[`${arm}.reachedLrs`] = ok.length;
    const diverged = div.length ? ` and diverged at ${div.join(', ')}` : '';
    parts.push(`${ARM_TEXT[arm]} reached ${pct(c.target)} in every seed at ${ok.length} of ${c.lrs.length} learning rates${diverged}`);
  }
  const has = (a: ScalesArm) => c.arms.includes(a);
  let verdict: Verdict = 'inconclusive';
  if (has('bn') && has('raw')) {
    const d = (Number(values['bn.reachedLrs']) || 0) - (Number(values['raw.reachedLrs']) || 0);
    verdict = d > 0 ? 'supported' : d < 0 ? 'contradicted' : 'inconclusive';
  }
  return {
    id: 'lr-range',
    claim: 'BN widens the range of learning rates that work on badly scaled inputs',
    text: `${cap(parts.join('; '))} (lrs ${c.lrs.join(', ')}).`,
    verdict,
    values,
  };
}

function findings(trials: Trial[], c: ScalesConfig): Finding[] {
  const has = (a: ScalesArm) => c.arms.includes(a);
  const best = (a: ScalesArm) => bestCell(trials, a, c.lrs);
  const out: Finding[] = [];
  if (has('standardize') && has('raw')) {
    const claim = 'Standardizing the inputs speeds up training (LeCun et al. 1998)';
    out.push(pairFinding('standardize-vs-raw', claim, best('standardize'), best('raw'), c, true));
  }
  if (has('bn') && has('raw')) {
    const claim = 'BN in the hidden layers makes training work on inputs of very different scales';
    out.push(pairFinding('bn-vs-raw', claim, best('bn'), best('raw'), c, true));
  }
  if (has('bn') && has('standardize')) {
    const claim = 'BN in the hidden layers makes standardizing the inputs unnecessary';
    out.push(pairFinding('bn-vs-standardize', claim, best('bn'), best('standardize'), c, true));
  }
  if (has('input-bn') && has('standardize')) {
    const claim = 'BN on the inputs does the work of standardization';
    out.push(pairFinding('input-bn-vs-standardize', claim, best('input-bn'), best('standardize'), c, true));
  }
  out.push(robustnessFinding(trials, c));
  return out;
}

/** Inputs on very different scales: does BN stand in for input normalization? */
export const scales: Experiment<ScalesConfig> = {
  name: 'scales',
  title: 'Inputs on scales 1 to 10^4: raw vs standardized vs BN',
  claim:
    'Training converges faster when the inputs are normalized (LeCun et al. 1998, cited by Ioffe & Szegedy), and BN applies that normalization ' +
    'inside the network, so a BN network should cope with input features on very different scales.',
  context:
    'BN normalizes each hidden unit, not each input feature: the first layer still sees features scaled by up to 10^4, so small-scale features ' +
    'get tiny gradients. BN on the inputs themselves is a learned standardization.',
  schema,
  presets: {
    tiny: { ...quick, seeds: 2, steps: 40, lrs: [0.01, 1], evalEvery: 20, nTrain: 200, nTest: 100, hidden: [8] },
    quick,
    full: { ...quick, seeds: 5, steps: 5000, lrs: [0.000001, 0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10], evalEvery: 100, nTrain: 10_000, nTest: 5000 },
  },
  datasetOptions: (c) => ({ nTrain: c.nTrain, nTest: c.nTest, features: c.features, noise: c.noise, normalize: 'raw' }),
  trials: (c) =>
    c.arms.flatMap((arm) =>
      c.lrs.flatMap((lr) => Array.from({ length: c.seeds }, (_, seed) => ({ id: trialId(arm, seed, { lr }), arm, seed, params: { lr } }))),
    ),
  runTrial,
  findings,
};
