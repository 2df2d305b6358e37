// Experiment `regularization`: train/test gap and test accuracy on a small training subset, {no BN, BN} x {no dropout, dropout}.
import { z } from 'zod';
import type { Experiment, TrialSpec } from '../experiment.js';
import { trialId } from '../experiment.js';
import type { Finding, Trial, Verdict } from '../results.js';
import { buildMlp, type MlpSpec } from '../models.js';
import { trainClassifier } from '../train.js';
import type { Comparison } from '../compare.js';
import { paired } from '../kit/paired.js';
import { baseFields, fields, trainFields, inputSize, trainOptionsOf } from '../kit/config.js';
import { metricCI, finitePoints } from '../kit/trials.js';
import { fmtPct, seedsText, round } from '../kit/format.js';

const schema = z
  .object({
    ...baseFields,
    /** Training samples used (small, so the plain net overfits). */
    trainSubset: z.number().int('trainSubset must be an integer').min(2, 'trainSubset must be at least 2'),
    /** Dropout probability of the dropout arms (after each hidden activation). */
    dropout: z.number().gt(0, 'dropout must be in (0, 1)').lt(1, 'dropout must be in (0, 1)'),
    ...trainFields,
    hidden: fields.hidden,
    activation: fields.activation,
  })
  .strict();

/** Config of the `regularization` experiment. */
export type RegularizationConfig = z.infer<typeof schema>;

/** The four arms: normalization x dropout. */
export const REG_ARMS = ['plain', 'plain+dropout', 'bn', 'bn+dropout'] as const;

const of = (trials: readonly Trial[], arm: string, metric: string) => metricCI(trials.filter((t) => t.arm === arm), metric);

/** Arm a minus arm b on a metric, paired by seed (lab/compare.ts): d, the 95% half-width, and the comparison. */
function diff(trials: readonly Trial[], a: string, b: string, metric: string, margin?: number): { d: number; half: number; cmp: Comparison } {
  const cmp = paired(
    trials.filter((t) => t.arm === a),
    trials.filter((t) => t.arm === b),
    metric,
    undefined,
    { label: `${metric}, ${a} - ${b}`, margin },
  ).cmp;
  // One seed has no interval: half-width 0, as meanCI reports it (the comparison itself stays unresolved).
  return { d: cmp.diff, half: Number.isFinite(cmp.hi) ? cmp.hi - cmp.diff : 0, cmp };
}

const pts = (x: number) => (x * 100).toFixed(1);

/** Accuracy difference (3 points) within which two arms count as equivalent when the whole CI stays inside it. */
const MARGIN = 0.03;

function findGap(trials: readonly Trial[], config: RegularizationConfig): Finding {
  const gp = of(trials, 'plain', 'gap');
  const gb = of(trials, 'bn', 'gap');
  const gd = of(trials, 'plain+dropout', 'gap');
  const d = diff(trials, 'bn', 'plain', 'gap');
  let verdict: Verdict;
  if (gp.n === 0 || gb.n === 0) verdict = 'inconclusive';
  else if (d.cmp.outcome === 'lower') verdict = 'supported';
  else if (d.cmp.outcome === 'higher') verdict = 'contradicted';
  else verdict = 'inconclusive';
  const dropoutPart = gd.n > 0 ? `; dropout alone (p = ${config.dropout}) gave ${fmtPct(gd)}` : '';
  const tail =
    verdict === 'supported'
      ? ` BN narrowed the gap by ${pts(-d.d)} ± ${pts(d.half)} points.`
      : verdict === 'contradicted'
        ? ` BN widened the gap by ${pts(d.d)} ± ${pts(d.half)} points: no regularizing effect here.`
        : ' The difference is within the confidence interval.';
  return {
    id: 'bn-reduces-gap',
    claim: 'BN regularizes the model: less overfitting (a smaller train/test gap)',
    text:
      `Trained on ${config.trainSubset} samples, the train-test accuracy gap was ${fmtPct(gb)} with BN vs ${fmtPct(gp)} without${dropoutPart} ` +
      `(${seedsText(Math.min(gb.n, gp.n))}).${tail}`,
    verdict,
    values: {
      gapBn: round(gb.mean),
      gapBnHalf: round(gb.half),
      gapPlain: round(gp.mean),
      gapPlainHalf: round(gp.half),
      gapPlainDropout: round(gd.mean),
      gapBnDropout: round(of(trials, 'bn+dropout', 'gap').mean),
      diff: round(d.d),
      diffHalf: round(d.half),
    },
    comparisons: [d.cmp],
  };
}

function findReplacesDropout(trials: readonly Trial[]): Finding {
  const bn = of(trials, 'bn', 'testAccuracy');
  const bnd = of(trials, 'bn+dropout', 'testAccuracy');
  const pd = of(trials, 'plain+dropout', 'testAccuracy');
  const p = of(trials, 'plain', 'testAccuracy');
  // "Dropout can be removed": BN alone is not worse than dropout alone, and adding dropout to BN does not help,
  // each shown by the CI's far end staying within MARGIN (absence of a significant effect is not enough).
  const vsDropout = diff(trials, 'bn', 'plain+dropout', 'testAccuracy');
  const addDropout = diff(trials, 'bn+dropout', 'bn', 'testAccuracy');
  let verdict: Verdict;
  const bnNotWorse = vsDropout.d - vsDropout.half >= -MARGIN;
  const dropoutNoHelp = addDropout.d + addDropout.half <= MARGIN;
  const bnWorse = vsDropout.cmp.outcome === 'lower';
  const dropoutHelps = addDropout.cmp.outcome === 'higher';
  if (bn.n === 0 || bnd.n === 0 || pd.n === 0) verdict = 'inconclusive';
  else if (bnNotWorse && dropoutNoHelp) verdict = 'supported';
  else if (bnWorse && dropoutHelps) verdict = 'contradicted';
  else if (bnWorse || dropoutHelps) verdict = 'mixed';
  else verdict = 'inconclusive';
  const addText =
    addDropout.cmp.outcome === 'higher' ? `adding dropout to BN raised it by ${pts(addDropout.d)} ± ${pts(addDropout.half)} points`
    : addDropout.cmp.outcome === 'lower' ? `adding dropout to BN lowered it by ${pts(-addDropout.d)} ± ${pts(addDropout.half)} points`
    : 'adding dropout to BN made no significant difference';
  return {
    id: 'bn-replaces-dropout',
    claim: 'With BN, dropout can be removed (the paper removed it from BN-Inception)',
    text:
      `Test accuracy: BN ${fmtPct(bn)}, BN + dropout ${fmtPct(bnd)}, dropout alone ${fmtPct(pd)}, neither ${fmtPct(p)} ` +
      `(${seedsText(bn.n)}); ${addText}.`,
    verdict,
    values: {
      testBn: round(bn.mean),
      testBnDropout: round(bnd.mean),
      testPlainDropout: round(pd.mean),
      testPlain: round(p.mean),
      bnMinusDropout: round(vsDropout.d),
      dropoutOnBn: round(addDropout.d),
      dropoutOnBnHalf: round(addDropout.half),
    },
    // Non-inferiority ("far end within MARGIN") is a one-sided bound at 2.5%: its p-values are not in the family, only the two differences are.
    comparisons: [{ ...vsDropout.cmp, decides: bnWorse }, { ...addDropout.cmp, decides: dropoutHelps }],
  };
}

function findTestAccuracy(trials: readonly Trial[]): Finding {
  const bn = of(trials, 'bn', 'testAccuracy');
  const p = of(trials, 'plain', 'testAccuracy');
  const d = diff(trials, 'bn', 'plain', 'testAccuracy');
  const verdict: Verdict =
    bn.n === 0 || p.n === 0 ? 'inconclusive'
    : d.cmp.outcome === 'higher' ? 'supported'
    : d.cmp.outcome === 'lower' ? 'contradicted'
    : 'inconclusive';
  const tb = of(trials, 'bn', 'trainAccuracy');
  const tp = of(trials, 'plain', 'trainAccuracy');
  return {
    id: 'small-data-test-accuracy',
    claim: 'BN improves test accuracy when the training set is small enough to overfit',
    text:
      `On the small training set, BN reached ${fmtPct(bn)} test accuracy vs ${fmtPct(p)} without (difference ${pts(d.d)} ± ${pts(d.half)} points; ` +
      `train accuracy ${fmtPct(tb)} vs ${fmtPct(tp)}).`,
    verdict,
    values: {
      testBn: round(bn.mean),
      testPlain: round(p.mean),
      diff: round(d.d),
      diffHalf: round(d.half),
      trainBn: round(tb.mean),
      trainPlain: round(tp.mean),
    },
    comparisons: [d.cmp],
  };
}

/** The regularization experiment (Ioffe & Szegedy Sec. 3.4 and 4.2.1). */
export const regularization: Experiment<RegularizationConfig> = {
  name: 'regularization',
  title: 'Regularization: train/test gap on a small training set, {no BN, BN} x {no dropout, dropout}',
  claim:
    'BN regularizes the model: a training example is seen together with the others of its mini-batch, ' +
    'so the network no longer produces deterministic values for it; with BN, dropout can be removed or reduced.',
  context:
    'Later work finds the regularizing effect of BN real but modest, coming from the noise of mini-batch statistics (it fades with large batches); ' +
    'it is usually weaker than dropout or data augmentation. Santurkar et al. attribute BN\'s benefit mainly to a smoother loss ' +
    'landscape, not regularization.',
  schema,
  presets: {
    tiny: {
      dataset: 'mnist-10k', seeds: 2, trainSubset: 100, dropout: 0.5, steps: 30, batchSize: 20,
      lr: 0.1, momentum: 0, evalEvery: 10, evalSamples: 200, hidden: [16], activation: 'relu',
    },
    quick: {
      dataset: 'mnist-10k', seeds: 3, trainSubset: 1000, dropout: 0.5, steps: 600, batchSize: 50,
      lr: 0.1, momentum: 0.9, evalEvery: 100, evalSamples: 1000, hidden: [100, 100], activation: 'relu',
    },
    full: {
      dataset: 'mnist-10k', seeds: 5, trainSubset: 1000, dropout: 0.5, steps: 4000, batchSize: 50, lr: 0.1,
      momentum: 0.9, evalEvery: 200, evalSamples: 2000, hidden: [256, 256, 256], activation: 'relu',
    },
  },
  trials(config: RegularizationConfig): TrialSpec[] {
    const out: TrialSpec[] = [];
    for (let seed = 0; seed < config.seeds; seed++) for (const arm of REG_ARMS) out.push({ id: trialId(arm, seed), arm, seed, params: {} });
    return out;
  },
  runTrial(spec, config, ctx) {
    const data = ctx.dataset();
    const bn = spec.arm.startsWith('bn');
    const drop = spec.arm.endsWith('+dropout');
    const subset = Math.min(config.trainSubset, data.train.n);
    const mlp: MlpSpec = {
      inputs: inputSize(data),
      hidden: config.hidden,
      classes: data.classes.length,
      activation: config.activation,
      norm: bn ? 'bn' : 'none',
      init: { kind: 'default' },
      dropout: drop ? config.dropout : 0,
    };
    const { model } = buildMlp(mlp, spec.seed);
    const r = trainClassifier(model, data, {
      ...trainOptionsOf(config, spec.seed, ctx.progress),
      // Train accuracy over the whole subset (in eval mode, as test accuracy), so the gap compares like with like.
      trainEvalSamples: subset,
      trainSubset: subset,
    });
    ctx.keepModel?.(model, { spec: mlp, inputShape: data.inputShape });
    const test = r.curves.testAccuracy;
    const train = r.curves.trainAccuracy;
    const gapCurve: [number, number][] = train.map(([s, a], i) => [s, a - (test[i]?.[1] ?? NaN)]);
    const trainAcc = r.finalTrainAccuracy ?? NaN;
    return {
      metrics: {
        trainAccuracy: trainAcc,
        testAccuracy: r.finalTestAccuracy,
        // A diverged net scores chance on both splits: a gap of 0 there would read as perfect regularization.
        gap: r.diverged ? null : trainAcc - r.finalTestAccuracy,
        bestTestAccuracy: Math.max(...test.map(([, a]) => a)),
      },
      curves: {
        testAccuracy: finitePoints(test),
        trainAccuracy: finitePoints(train),
        gap: finitePoints(gapCurve),
        trainLoss: finitePoints(r.curves.trainLoss),
      },
      diverged: r.diverged,
      divergedAt: r.divergedAt,
    };
  },
  findings(trials: Trial[], config: RegularizationConfig): Finding[] {
    if (trials.length === 0) return [];
    return [findGap(trials, config), findReplacesDropout(trials), findTestAccuracy(trials)];
  },
};
