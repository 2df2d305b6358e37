// Experiment fig1: Ioffe & Szegedy's Figure 1 — a 3x100 sigmoid MLP with and without BN: test accuracy and sigmoid-input percentiles over training.
import { z } from 'zod';
import { noGrad } from '../../autograd/grad-mode.js';
import type { Dataset } from '../../data/dataset.js';
import type { Module } from '../../nn/module.js';
import { Tensor } from '../../tensor/tensor.js';
import { trialId, type BaseConfig, type Experiment, type TrialContext, type TrialOutput, type TrialSpec } from '../experiment.js';
import { buildMlp, type MlpSpec, type Tap } from '../models.js';
import type { Finding, Series, Trial, Verdict } from '../results.js';
import { compare, verdictOf, type Comparison } from '../compare.js';
import { meanCI, percentile, type MeanCI } from '../stats.js';
import { stepsToReach, trainClassifier } from '../train.js';
import { baseFields, fields, intField } from '../kit/config.js';
import { autoTarget, censoredSteps } from '../kit/targets.js';
import { fmtInt, fmtPct, fmtSteps, noDifference, percent, seedsText } from '../kit/format.js';

const ARMS = ['bn', 'plain'] as const;
type Fig1Arm = (typeof ARMS)[number];

/** fig1's config. */
export interface Fig1Config extends BaseConfig {
  steps: number;
  batchSize: number;
  /** SGD learning rate (no momentum), both arms. */
  lr: number;
  /** Weights ~ N(0, initStd^2): the paper's "small random Gaussian". */
  initStd: number;
  hidden: number[];
  arms: Fig1Arm[];
  evalEvery: number;
  /** Test samples per evaluation (the first n of the test split). */
  evalSamples: number;
  /** Units of the last hidden layer whose sigmoid input is tracked (units 0..probeUnits-1). */
  probeUnits: number;
  /** Size of the fixed probe batch (the first n test samples) the percentiles are taken over. */
  probeSamples: number;
  /** Accuracy for "steps to reach": a fraction, or 'auto': 95% of the best accuracy every seed of the slower arm reached (see autoTarget). */
  target: number | 'auto';
}


const schema = z
  .object({
    ...baseFields,
    steps: fields.steps,
    batchSize: fields.batchSize,
    lr: fields.lr,
    initStd: fields.initStd,
    hidden: fields.hidden,
    arms: z
      .array(z.enum(ARMS))
      .min(1, 'arms needs at least one of bn, plain')
      .refine((a) => new Set(a).size === a.length, 'arms must not repeat'),
    evalEvery: fields.evalEvery,
    evalSamples: fields.evalSamples,
    probeUnits: intField('probeUnits', 1),
    probeSamples: intField('probeSamples', 2),
    target: z.union([z.number().gt(0, 'target must be in (0, 1]').max(1, 'target must be in (0, 1]'), z.literal('auto')]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const last = c.hidden[c.hidden.length - 1];
    if (last !== undefined && c.probeUnits > last) {
      ctx.addIssue({ code: 'custom', path: ['probeUnits'], message: `probeUnits must be at most the last hidden width (${last})` });
    }
  });

const quick: Fig1Config = {
  dataset: 'mnist-10k',
  seeds: 3,
  steps: 3000,
  batchSize: 60,
  lr: 0.5,
  initStd: 0.1,
  hidden: [100, 100, 100],
  arms: ['bn', 'plain'],
  evalEvery: 50,
  evalSamples: 2000,
  probeUnits: 3,
  probeSamples: 500,
  target: 'auto',
};

/** The percentiles of Figure 1(b, c). */
const QS = [15, 50, 85] as const;

/**
 * Percentiles of the tapped sigmoid inputs on the probe batch, in training mode (what the sigmoid sees
 * while training, normalized with the probe batch's own statistics), without touching the model:
 * no gradient, and BN's running statistics restored afterwards so probing never changes the run.
 */
export function probePercentiles(model: Module, tap: Tap, x: Tensor, units: number): number[][] {
  const buffers = model.namedBuffers().map(([, t]) => [t, t.data.slice()] as const);
  tap.enabled = true;
  try {
    noGrad(() => model.forward(x));
    const h = tap.last!;
    const width = h.shape[1];
    const n = h.shape[0];
    const col = new Float32Array(n);
    const out: number[][] = [];
    for (let u = 0; u < units; u++) {
      for (let i = 0; i < n; i++) col[i] = h.data[i * width + u];
      out.push(QS.map((q) => percentile(col, q)));
    }
    return out;
  } finally {
    tap.enabled = false;
    tap.last = null;
    for (const [t, saved] of buffers) t.data.set(saved);
  }
}

function probeBatch(data: Dataset, n: number): Tensor {
  const m = Math.min(n, data.test.n);
  const f = data.inputShape.reduce((a, b) => a * b, 1);
  return new Tensor(data.test.x.slice(0, m * f), [m, ...data.inputShape]);
}

function runTrial(spec: TrialSpec, c: Fig1Config, ctx: TrialContext): TrialOutput {
  const data = ctx.dataset();
  const inputs = data.inputShape.reduce((a, b) => a * b, 1);
  const mlp: MlpSpec = {
    inputs,
    hidden: c.hidden,
    classes: data.classes.length,
    activation: 'sigmoid',
    norm: spec.arm === 'bn' ? 'bn' : 'none',
    init: { kind: 'normal', std: c.initStd },
  };
  const { model, taps } = buildMlp(mlp, spec.seed);
  const tap = taps[taps.length - 1];
  const probe = probeBatch(data, c.probeSamples);
  const pct: Series[][] = Array.from({ length: c.probeUnits }, () => QS.map(() => [] as Series));
  const r = trainClassifier(model, data, {
    steps: c.steps,
    batchSize: c.batchSize,
    lr: c.lr,
    evalEvery: c.evalEvery,
    evalSamples: c.evalSamples,
    seed: spec.seed,
    progress: ctx.progress,
    onEval: (step, m) => {
      const p = probePercentiles(m, tap, probe, c.probeUnits);
      p.forEach((qs, u) => qs.forEach((v, k) => pct[u][k].push([step, v])));
    },
  });
  ctx.keepModel?.(model, { spec: mlp, inputShape: data.inputShape });
  const curves: Record<string, Series> = { testAccuracy: r.curves.testAccuracy, trainLoss: r.curves.trainLoss, testLoss: r.curves.testLoss };
  pct.forEach((qs, u) => qs.forEach((s, k) => (curves[`unit${u}.p${QS[k]}`] = s)));
  const drift = driftOf(curves, c.probeUnits);
  return {
    metrics: {
      finalTestAccuracy: r.finalTestAccuracy,
      bestTestAccuracy: r.diverged ? null : Math.max(...r.curves.testAccuracy.map(([, a]) => a)),
      finalTestLoss: Number.isFinite(r.finalTestLoss) ? r.finalTestLoss : null,
      medianDrift: drift.median,
      spreadDrift: drift.spread,
      steps: r.steps,
    },
    curves,
    diverged: r.diverged,
    divergedAt: r.divergedAt,
  };
}

function range(values: number[]): number {
  return values.length ? Math.max(...values) - Math.min(...values) : NaN;
}

/**
 * How far the sigmoid input's distribution moves over training, averaged over the probed units:
 * median = range (max - min) of the 50th percentile; spread = range of the 15-85 width. Null if
 * there are no points (a trial that diverged at once).
 */
export function driftOf(curves: Record<string, Series>, units: number): { median: number | null; spread: number | null } {
  const med: number[] = [];
  const spr: number[] = [];
  for (let u = 0; u < units; u++) {
    const p15 = curves[`unit${u}.p15`] ?? [];
    const p50 = curves[`unit${u}.p50`] ?? [];
    const p85 = curves[`unit${u}.p85`] ?? [];
    if (p50.length === 0) continue;
    med.push(range(p50.map(([, v]) => v)));
    spr.push(range(p85.map(([, v], i) => v - p15[i][1])));
  }
  const avg = (a: number[]) => (a.length && a.every(Number.isFinite) ? a.reduce((x, y) => x + y, 0) / a.length : null);
  return { median: avg(med), spread: avg(spr) };
}

// ---- findings -------------------------------------------------------------------------------------

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const r4 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);


/** Final accuracies are called equal when they differ by less than this (1 point), by two one-sided tests. */
export const FINAL_MARGIN = 0.01;

function convergenceFinding(trials: readonly Trial[], c: Fig1Config, target: number, autoArm: string | null): Finding {
  const claim = 'BN reaches a given test accuracy in fewer steps';
  const arm = (a: Fig1Arm) => trials.filter((t) => t.arm === a);
  const reach = (ts: Trial[]) => ts.map((t) => (t.diverged ? null : stepsToReach(t.curves.testAccuracy ?? [], target)));
  const bnSteps = reach(arm('bn'));
  const plSteps = reach(arm('plain'));
  const bn = meanCI(bnSteps);
  const pl = meanCI(plSteps);
  const missBn = bnSteps.length - bn.n;
  const missPl = plSteps.length - pl.n;
  const tgt = `${percent(target, 0)}${autoArm ? ` (auto: 95% of the best accuracy every ${autoArm} seed reached)` : ''}`;
  const values: Finding['values'] = {
    target,
    bnSteps: r4(bn.mean),
    bnHalf: r4(bn.half),
    plainSteps: r4(pl.mean),
    plainHalf: r4(pl.half),
    bnMissed: missBn,
    plainMissed: missPl,
    seeds: c.seeds,
  };
  const never = (k: number, n: number, who: string) =>
    (k ? `; ${k} of ${n} ${who} seed${n === 1 ? '' : 's'} never reached it in ${fmtInt(c.steps)} steps` : '');
  let verdict: Verdict;
  let text: string;
  let cmp: Comparison | null = null;
  if (bn.n === 0 && pl.n === 0) {
    verdict = 'inconclusive';
    text = `Neither arm reached ${tgt} test accuracy within ${fmtInt(c.steps)} steps (${seedsText(c.seeds)}).`;
  } else if (pl.n === 0 || bn.n === 0) {
    const bnWins = pl.n === 0;
    verdict = bnWins ? 'supported' : 'contradicted';
    const who = bnWins ? ['With BN', 'without'] : ['Without BN', 'with BN'];
    const ci = bnWins ? bn : pl;
    text = `${who[0]}, test accuracy reached ${tgt} after ${fmtSteps(ci)} steps; ${who[1]}, no seed reached it within ${fmtInt(c.steps)} ` +
      `steps (${seedsText(c.seeds)}).`;
  } else {
    // Step 0 counts as reached when the first evaluation already beats the target: no ratio then.
    const ratio = bn.mean > 0 ? pl.mean / bn.mean : NaN;
    values.ratio = r4(ratio);
    // Censoring: a seed that never reaches the target counts as reaching it at the budget, a lower bound on its time.
    // That understates the arm's true steps, so 'BN faster' is only stated when every BN seed reached it (then the
    // bound can only shrink plain's lead, and the verdict is conservative); 'BN slower' likewise needs no plain misses.
    cmp = compare('steps to target, BN - plain', censoredSteps(arm('bn'), target, c.steps), censoredSteps(arm('plain'), target, c.steps));
    const sep = cmp.outcome === 'lower' ? -1 : cmp.outcome === 'higher' ? 1 : 0;
    verdict = sep === -1 && missBn === 0 ? 'supported' : sep === 1 && missPl === 0 ? 'contradicted' : 'inconclusive';
    const speed = Number.isFinite(ratio) ? `${ratio.toFixed(1)}x, ` : '';
    const reading =
      verdict === 'contradicted' ? ' Here BN was slower, contrary to the claim.'
      : verdict === 'inconclusive' ? ` ${cap(noDifference(c.seeds))}.`
      : '';
    text =
      `With BN, test accuracy reached ${tgt} after ${fmtSteps(bn)} steps vs ${fmtSteps(pl)} without (${speed}${seedsText(c.seeds)})` +
      `${never(missBn, bnSteps.length, 'BN')}${never(missPl, plSteps.length, 'plain')}.` +
      reading;
  }
  return { id: 'convergence', claim, text, verdict, values, comparisons: cmp ? [cmp] : [] };
}

function finalFinding(trials: readonly Trial[], c: Fig1Config): Finding {
  const claim = 'BN reaches a higher test accuracy';
  const acc = (a: Fig1Arm) => meanCI(trials.filter((t) => t.arm === a).map((t) => t.metrics.finalTestAccuracy));
  const bn = acc('bn');
  const pl = acc('plain');
  const div = (a: Fig1Arm) => trials.filter((t) => t.arm === a && t.diverged).length;
  const bySeed = (a: Fig1Arm) => new Map(trials.filter((t) => t.arm === a).map((t) => [t.seed, t.metrics.finalTestAccuracy]));
  const cmp = compare('final test accuracy, BN - plain', bySeed('bn'), bySeed('plain'), { margin: FINAL_MARGIN });
  const verdict: Verdict = cmp.outcome === 'equivalent' ? 'equivalent' : verdictOf(cmp, 1);
  const divText = div('bn') + div('plain') > 0 ? ` Diverged: ${div('bn')} BN, ${div('plain')} plain (scored as chance).` : '';
  const d = Number.isFinite(cmp.lo) ? `; difference ${pts(cmp.diff)} points, 95% CI [${pts(cmp.lo)}, ${pts(cmp.hi)}]` : '';
  const need = cmp.seedsNeeded !== null ? `; about ${cmp.seedsNeeded} seeds per arm would resolve it` : '';
  const cmpText =
    verdict === 'supported' ? 'higher with BN'
    : verdict === 'contradicted' ? 'lower with BN, contrary to the claim'
    : verdict === 'equivalent' ? `equivalent within ${pts(FINAL_MARGIN)} point`
    : `${noDifference(c.seeds)}, nor equivalent within ${pts(FINAL_MARGIN)} point${need}`;
  const text = `After ${fmtInt(c.steps)} steps, test accuracy was ${fmtPct(bn)} with BN vs ${fmtPct(pl)} without${d}: ${cmpText}.${divText}`;
  return {
    id: 'final-accuracy',
    claim,
    text,
    verdict,
    values: { bn: r4(bn.mean), bnHalf: r4(bn.half), plain: r4(pl.mean), plainHalf: r4(pl.half), steps: c.steps, margin: FINAL_MARGIN },
    comparisons: [cmp],
  };
}

const pts = (x: number) => (100 * x).toFixed(1);

function driftFinding(trials: readonly Trial[], c: Fig1Config): Finding {
  const claim = 'With BN the distribution of a sigmoid input stays stable over training (Figure 1 b, c)';
  const d = (a: Fig1Arm, m: string) => meanCI(trials.filter((t) => t.arm === a && !t.diverged).map((t) => t.metrics[m]));
  const bn = d('bn', 'medianDrift');
  const pl = d('plain', 'medianDrift');
  const bnS = d('bn', 'spreadDrift');
  const plS = d('plain', 'spreadDrift');
  const by = (a: Fig1Arm) => new Map(trials.filter((t) => t.arm === a && !t.diverged).map((t) => [t.seed, t.metrics.medianDrift]));
  const test = compare('median drift, BN - plain', by('bn'), by('plain'));
  const verdict: Verdict = bn.n === 0 || pl.n === 0 ? 'inconclusive' : verdictOf(test, -1);
  // Diverged trials have no percentiles: an arm with none left is reported as such, never as NaN.
  const f = (ci: MeanCI) =>
    (ci.n === 0 ? 'n/a (every trial diverged)' : ci.n > 1 ? `${ci.mean.toFixed(2)} ± ${ci.half.toFixed(2)}` : ci.mean.toFixed(2));
  const cmp =
    verdict === 'supported' ? (pl.mean / bn.mean).toFixed(1) + 'x less with BN'
    : verdict === 'contradicted' ? 'more with BN, contrary to the claim'
    : noDifference(c.seeds);
  const text =
    `Over training, the median input of ${c.probeUnits} last-layer sigmoids moved by ${f(bn)} with BN vs ${f(pl)} without ` +
    `(range of the 50th percentile; ${cmp}); ` +
    `the 15-85 percentile width varied by ${f(bnS)} vs ${f(plS)}.`;
  return {
    id: 'percentile-drift',
    claim,
    text,
    verdict,
    values: {
      bnMedianDrift: r4(bn.mean),
      bnHalf: r4(bn.half),
      plainMedianDrift: r4(pl.mean),
      plainHalf: r4(pl.half),
      bnSpreadDrift: r4(bnS.mean),
      plainSpreadDrift: r4(plS.mean),
    },
    comparisons: [test],
  };
}

function findings(trials: Trial[], c: Fig1Config): Finding[] {
  if (!(c.arms.includes('bn') && c.arms.includes('plain'))) {
    return [{
      id: 'arms',
      claim: 'BN vs plain',
      text: `Only the ${c.arms.join(', ')} arm ran: nothing to compare.`,
      verdict: 'inconclusive',
      values: {},
    }];
  }
  const auto = c.target === 'auto' ? autoTarget(trials) : null;
  const target = c.target === 'auto' ? (auto?.target ?? null) : c.target;
  const out: Finding[] = [];
  if (target === null) {
    out.push({
      id: 'convergence',
      claim: 'BN reaches a given test accuracy in fewer steps',
      text: 'Every trial diverged: no accuracy to compare.',
      verdict: 'inconclusive',
      values: {},
    });
  }
  else out.push(convergenceFinding(trials, c, target, auto?.arm ?? null));
  out.push(finalFinding(trials, c), driftFinding(trials, c));
  return out;
}

/** Figure 1 of Ioffe & Szegedy (2015), measured. */
export const fig1: Experiment<Fig1Config> = {
  name: 'fig1',
  title: 'Figure 1: MNIST, 3x100 sigmoid MLP, with and without BN',
  claim:
    'BN makes the network train faster and reach higher test accuracy, and keeps the distribution of each sigmoid input stable over training, ' +
    'where without BN it drifts (internal covariate shift).',
  context:
    'Ioffe & Szegedy do not state the optimizer or learning rate; this uses plain SGD with lr 0.5 and N(0, 0.1^2) weights, which in PyTorch on ' +
    'Fashion-MNIST gives BN 81.5% vs 67.9% after 500 steps and both about 86.8% after 10,000. Santurkar et al. (2018) argue the stable ' +
    'distributions are not why BN helps.',
  schema,
  presets: {
    tiny: { ...quick, seeds: 2, steps: 60, evalEvery: 20, evalSamples: 200, probeSamples: 100, hidden: [32, 32, 32] },
    quick,
    full: { ...quick, seeds: 5, steps: 50_000, evalEvery: 500, evalSamples: 10_000, probeSamples: 1000 },
  },
  trials: (c) => c.arms.flatMap((arm) => Array.from({ length: c.seeds }, (_, seed) => ({ id: trialId(arm, seed), arm, seed, params: {} }))),
  runTrial,
  findings,
};
