// Experiment `lr`: final accuracy, steps to a target and divergence over a learning-rate grid, BN vs plain.
import { z } from 'zod';
import type { Experiment, TrialSpec } from '../experiment.js';
import { trialId } from '../experiment.js';
import type { Finding, Trial, Verdict } from '../results.js';
import { buildMlp, type MlpSpec } from '../models.js';
import { trainClassifier, stepsToReach } from '../train.js';
import type { MeanCI } from '../stats.js';
import { paired } from '../kit/paired.js';
import { baseFields, fields, inputSize, chanceOf, trainOptionsOf } from '../kit/config.js';
import { metricCI, finitePoints, l2norm } from '../kit/trials.js';
import { fmtPct, fmtSteps, fmtNum, fmtInt, seedsText, round } from '../kit/format.js';

const schema = z
  .object({
    ...baseFields,
    /** The log grid of learning rates. */
    lrs: z.array(fields.lr).min(1, 'lrs needs at least one learning rate'),
    /** The paper's base learning rate; the grid also holds baseLr * each multiplier. */
    baseLr: fields.lr,
    /** The paper's multipliers (BN-x5, BN-x30 in Sec. 4.2). */
    multipliers: z.array(z.number().positive('multipliers must be positive')).min(1),
    steps: fields.steps,
    batchSize: fields.batchSize,
    evalEvery: fields.evalEvery,
    evalSamples: fields.evalSamples,
    hidden: fields.hidden,
    activation: fields.activation,
    /** SGD momentum (0 = plain SGD as in the paper's MNIST run). */
    momentum: fields.momentum,
    /** Test accuracy whose first crossing is counted as "steps to target". */
    targetAccuracy: z.number().gt(0, 'targetAccuracy must be in (0, 1]').max(1, 'targetAccuracy must be in (0, 1]'),
  })
  .strict();

/** Config of the `lr` experiment. */
export type LrConfig = z.infer<typeof schema>;

const ARMS = ['bn', 'plain'] as const;

/** Learning rates of a config: the log grid and baseLr * multipliers, deduplicated and sorted. */
export function lrGrid(config: LrConfig): number[] {
  // 3 significant digits: 0.1 * 30 = 3.0000000000000004 must meet a grid's 3.
  const all = [...config.lrs, ...config.multipliers.map((m) => config.baseLr * m)].map((x) => Number(x.toPrecision(6)));
  return [...new Set(all)].sort((a, b) => a - b);
}

const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
const at = (trials: readonly Trial[], arm: string, lr: number) => trials.filter((t) => t.arm === arm && same(t.params.lr as number, lr));

/** Accuracy summary of an arm at one lr: final accuracy (diverged seeds count as chance), divergence count. */
function cell(trials: readonly Trial[], arm: string, lr: number) {
  const ts = at(trials, arm, lr);
  return {
    n: ts.length,
    acc: metricCI(ts, 'finalTestAccuracy'),
    steps: metricCI(ts, 'stepsToTarget'),
    reached: ts.filter((t) => t.metrics.stepsToTarget !== null).length,
    diverged: ts.filter((t) => t.diverged).length,
    trained: ts.length > 0 && ts.every((t) => t.metrics.trained === 1),
  };
}

/** The lr with the highest mean final accuracy for an arm (null when the arm has no trials). */
function bestLr(trials: readonly Trial[], arm: string, lrs: number[]): number | null {
  let best: number | null = null;
  let bestAcc = -Infinity;
  for (const lr of lrs) {
    const m = cell(trials, arm, lr).acc.mean;
    if (Number.isFinite(m) && m > bestAcc) {
      bestAcc = m;
      best = lr;
    }
  }
  return best;
}

/** Difference of two independent means with an approximate 95% half-width sqrt(h1^2 + h2^2). */
function diff(a: MeanCI, b: MeanCI): { d: number; half: number } {
  return { d: a.mean - b.mean, half: Math.sqrt(a.half * a.half + b.half * b.half) };
}

const pts = (x: number) => `${(x * 100).toFixed(1)}`;

function lrsOf(trials: readonly Trial[]): number[] {
  const s = [...new Set(trials.map((t) => t.params.lr as number))];
  return s.sort((a, b) => a - b);
}

function findMaxTrainable(trials: readonly Trial[], lrs: number[]): Finding {
  const maxOf = (arm: string) => {
    let m: number | null = null;
    for (const lr of lrs) if (cell(trials, arm, lr).trained) m = lr;
    return m;
  };
  const bn = maxOf('bn');
  const plain = maxOf('plain');
  const top = lrs[lrs.length - 1];
  const divBn = trials.filter((t) => t.arm === 'bn' && t.diverged).length;
  const divPlain = trials.filter((t) => t.arm === 'plain' && t.diverged).length;
  const nBn = trials.filter((t) => t.arm === 'bn').length;
  const nPlain = trials.filter((t) => t.arm === 'plain').length;
  let verdict: Verdict;
  if (bn === null && plain === null) verdict = 'inconclusive';
  else if (bn !== null && (plain === null || bn > plain)) verdict = 'supported';
  else if (bn === plain) verdict = bn === top ? 'inconclusive' : 'contradicted';
  else verdict = 'contradicted';
  const lim = (x: number | null) => (x === null ? 'at no learning rate of the grid' : `at learning rates up to ${fmtNum(x)}`);
  const tail =
    verdict === 'inconclusive' && bn !== null && bn === plain
      ? ' Both arms trained at the top of the grid, so the grid does not reach the limit.'
      : verdict === 'contradicted'
        ? ' This contradicts the claim on this network.'
        : '';
  return {
    id: 'max-learning-rate',
    claim: 'BN allows much higher learning rates without divergence',
    text:
      `With BN every seed trained ${lim(bn)}, without BN ${lim(plain)}; ${divBn} of ${nBn} BN trials and ${divPlain} of ${nPlain} plain trials ` +
      `diverged over the grid ${lrs.map(fmtNum).join(', ')}.${tail}`,
    verdict,
    values: { maxLrBn: bn, maxLrPlain: plain, divergedBn: divBn, divergedPlain: divPlain, trialsBn: nBn, trialsPlain: nPlain },
  };
}

function findBestLr(trials: readonly Trial[], lrs: number[], seeds: number): Finding {
  const lb = bestLr(trials, 'bn', lrs);
  const lp = bestLr(trials, 'plain', lrs);
  if (lb === null || lp === null) {
    return {
      id: 'gain-from-larger-lr',
      claim: "BN's benefit comes mainly from the larger learning rates it allows (Bjorck et al. 2018)",
      text: 'Not enough trials to compare the arms.',
      verdict: 'inconclusive',
      values: {},
    };
  }
  const bnBest = cell(trials, 'bn', lb).acc;
  const plainBest = cell(trials, 'plain', lp).acc;
  const bnAtPlain = cell(trials, 'bn', lp).acc;
  const total = diff(bnBest, plainBest);
  const sameLr = diff(bnAtPlain, plainBest);
  const fromLr = total.d - sameLr.d;
  // Best against best: paired by seed (each seed's best-lr runs share the init draw and batch order).
  const cmp = paired(
    at(trials, 'bn', lb),
    at(trials, 'plain', lp),
    'finalTestAccuracy',
    undefined,
    { label: `accuracy, best BN (lr ${fmtNum(lb)}) - best plain (lr ${fmtNum(lp)})` },
  ).cmp;
  let verdict: Verdict;
  let tail: string;
  if (cmp.outcome !== 'higher') {
    verdict = cmp.outcome === 'lower' ? 'contradicted' : 'inconclusive';
    tail = cmp.outcome === 'lower'
      ? ' BN did not improve on the best plain net.'
      : ' The difference between the best runs is within the confidence interval.';
  } else if (fromLr >= sameLr.d) {
    verdict = 'supported';
    tail = ` Most of the gain (${pts(fromLr)} of ${pts(total.d)} points) comes from the larger learning rate, as Bjorck et al. report.`;
  } else {
    verdict = 'mixed';
    tail =
      ` Most of the gain (${pts(sameLr.d)} of ${pts(total.d)} points) is there at the same learning rate, which is not what Bjorck et al. report.`;
  }
  return {
    id: 'gain-from-larger-lr',
    claim: "BN's benefit comes mainly from the larger learning rates it allows (Bjorck et al. 2018)",
    text:
      `Best BN run (lr ${fmtNum(lb)}) reached ${fmtPct(bnBest)} vs best plain run (lr ${fmtNum(lp)}) ${fmtPct(plainBest)} (${seedsText(seeds)}); ` +
      `at the plain net's best lr, BN reached ${fmtPct(bnAtPlain)}.${tail}`,
    verdict,
    values: {
      bestLrBn: lb,
      bestLrPlain: lp,
      bestAccBn: round(bnBest.mean),
      bestAccBnHalf: round(bnBest.half),
      bestAccPlain: round(plainBest.mean),
      bestAccPlainHalf: round(plainBest.half),
      bnAtPlainBestLr: round(bnAtPlain.mean),
      gainTotal: round(total.d),
      gainSameLr: round(sameLr.d),
      gainFromLr: round(fromLr),
    },
    comparisons: [cmp],
  };
}

function findSmallLr(trials: readonly Trial[], lrs: number[], margin: number, steps: number): Finding {
  const lr = lrs[0];
  const bn = cell(trials, 'bn', lr);
  const plain = cell(trials, 'plain', lr);
  const d = diff(bn.acc, plain.acc);
  const uBn = metricCI(at(trials, 'bn', lr), 'relUpdate');
  const uPlain = metricCI(at(trials, 'plain', lr), 'relUpdate');
  const upd =
    uBn.n > 0 && uPlain.n > 0
      ? ` The first layer moved ${fmtNum(uBn.mean)} of its norm per step with BN vs ${fmtNum(uPlain.mean)} without (lr·|g|/|W|: ` +
        `BN's effective learning rate grows as its weights shrink).`
      : '';
  // Close: the 95% CI of the difference lies within +-margin (TOST). Apart: it lies beyond the margin on one side.
  const cmp = paired(
    at(trials, 'bn', lr),
    at(trials, 'plain', lr),
    'finalTestAccuracy',
    undefined,
    { label: `accuracy at lr ${fmtNum(lr)}, BN - plain`, margin },
  ).cmp;
  const close = cmp.outcome === 'equivalent';
  const apart = cmp.lo > margin || cmp.hi < -margin;
  const verdict: Verdict =
    bn.n === 0 || plain.n === 0 ? 'inconclusive'
    : close ? 'supported'
    : apart ? (d.d > 0 ? 'contradicted' : 'mixed')
    : 'inconclusive';
  const tail = close
    ? ` The arms are within ${pts(margin)} points, as Bjorck et al. report.`
    : !apart
      ? ' The confidence interval is too wide to call them close or apart.'
      : d.d > 0
        ? ' BN is clearly ahead even at this small learning rate, against Bjorck et al.'
        : ' The plain net is ahead at this small learning rate.';
  return {
    id: 'small-lr-close',
    claim: 'At small learning rates BN and no-BN are close (Bjorck et al. 2018)',
    text:
      `At the smallest learning rate (${fmtNum(lr)}), after ${fmtInt(steps)} steps BN reached ${fmtPct(bn.acc)} vs ${fmtPct(plain.acc)} without ` +
      `(difference ${pts(d.d)} ± ${pts(Number.isFinite(cmp.hi) ? cmp.hi - cmp.diff : d.half)} points, ` +
      `${seedsText(Math.min(bn.n, plain.n))}).${tail}${upd}`,
    verdict,
    values: {
      lr,
      accBn: round(bn.acc.mean),
      accPlain: round(plain.acc.mean),
      diff: round(d.d),
      diffHalf: round(Number.isFinite(cmp.hi) ? cmp.hi - cmp.diff : d.half),
      margin,
      relUpdateBn: round(uBn.mean, 6),
      relUpdatePlain: round(uPlain.mean, 6),
    },
    comparisons: [cmp],
  };
}

function findMultipliers(trials: readonly Trial[], config: LrConfig): Finding {
  const ms = [...config.multipliers].sort((a, b) => a - b);
  const target = `${(config.targetAccuracy * 100).toFixed(0)}%`;
  const parts: string[] = [];
  const values: Record<string, number | string | null> = { baseLr: config.baseLr, target: config.targetAccuracy };
  for (const arm of ARMS) {
    const ps: string[] = [];
    for (const m of ms) {
      const lr = Number((config.baseLr * m).toPrecision(6));
      const c = cell(trials, arm, lr);
      values[`${arm}x${m}Steps`] = round(c.steps.mean, 1);
      values[`${arm}x${m}Acc`] = round(c.acc.mean);
      values[`${arm}x${m}Diverged`] = c.diverged;
      const reach = c.reached === 0
        ? `never reached ${target}`
        : `reached ${target} after ${fmtSteps(c.steps)} steps${c.reached < c.n ? ` (${c.reached} of ${c.n} seeds)` : ''}`;
      ps.push(`x${fmtNum(m)}: ${c.diverged > 0 ? `diverged in ${c.diverged} of ${c.n} seeds, ` : ''}${reach}, final ${fmtPct(c.acc)}`);
    }
    parts.push(`${arm === 'bn' ? 'With BN' : 'Without BN'}, ${ps.join('; ')}`);
  }
  // The paper's pattern: BN at a raised multiplier reaches the target sooner than BN at x1 and does not diverge.
  // Faster/slower by a paired comparison of step counts with x1 (eval points are evalEvery apart); a raised rate that
  // diverged or missed the target in some seed is censored there, and counts as worse when x1 reached it in every seed.
  const lo = ms[0];
  const loTrials = at(trials, 'bn', Number((config.baseLr * lo).toPrecision(6)));
  const bnLo = cell(trials, 'bn', Number((config.baseLr * lo).toPrecision(6)));
  const loAll = bnLo.n > 0 && bnLo.reached === bnLo.n;
  const raised = ms.slice(1).map((m) => {
    const lr = Number((config.baseLr * m).toPrecision(6));
    const c = cell(trials, 'bn', lr);
    const all = c.n > 0 && c.reached === c.n && c.diverged === 0;
    const label = `steps to ${(config.targetAccuracy * 100).toFixed(0)}% with BN, x${fmtNum(m)} - x${fmtNum(lo)}`;
    const cmp = all && loAll ? paired(at(trials, 'bn', lr), loTrials, 'stepsToTarget', undefined, { label }).cmp : null;
    const status = !all ? (loAll ? 'worse' : 'tie') : !loAll || cmp?.outcome === 'lower' ? 'faster' : cmp?.outcome === 'higher' ? 'worse' : 'tie';
    return { m, c, status, cmp };
  });
  const faster = raised.filter((r) => r.status === 'faster');
  const worse = raised.filter((r) => r.status === 'worse');
  let verdict: Verdict;
  if (raised.length === 0 || bnLo.n === 0) verdict = 'inconclusive';
  else if (faster.length === raised.length) verdict = 'supported';
  else if (faster.length === 0 && worse.length > 0) verdict = 'contradicted';
  else if (faster.length === 0) verdict = 'inconclusive';
  else verdict = 'mixed';
  values.raisedFaster = faster.length;
  values.raisedWorse = worse.length;
  if (faster.length > 0 && bnLo.reached === bnLo.n && bnLo.n > 0) {
    const best = faster.reduce((x, y) => (y.c.steps.mean < x.c.steps.mean ? y : x));
    values.speedup = round(bnLo.steps.mean / best.c.steps.mean, 2);
  }
  const speedup = values.speedup !== undefined ? ` BN's fastest raised rate needed ${values.speedup}x fewer steps than x${fmtNum(lo)}.` : '';
  return {
    id: 'multipliers',
    claim: 'With BN, 5x and 30x the learning rate train faster (the paper\'s BN-x5 and BN-x30)',
    text:
      `Base lr ${fmtNum(config.baseLr)}, ${seedsText(config.seeds)}. ${parts.join('. ')}.${speedup} With BN, ${faster.length} of ${raised.length} ` +
      `raised rates reached ${target} significantly sooner than x${fmtNum(lo)} and ${worse.length} later or not at all.`,
    verdict,
    values,
    comparisons: raised.flatMap((r) => (r.cmp ? [r.cmp] : [])),
  };
}

/** The learning-rate experiment (Ioffe & Szegedy Sec. 3.3 and 4.2; Bjorck et al. 2018). */
export const lr: Experiment<LrConfig> = {
  name: 'lr',
  title: 'Learning rate: accuracy, speed and divergence over a learning-rate grid, with and without BN',
  claim:
    'BN allows much higher learning rates without divergence; with BN, 5x and 30x the learning rate reach the target accuracy in far fewer steps.',
  context:
    'Bjorck et al. 2018 find that the benefit of BN comes mainly from the larger learning rates it allows: ' +
    'at small learning rates BN and no-BN networks are close, and BN networks trained at a small rate lose most of their advantage.',
  schema,
  presets: {
    tiny: {
      dataset: 'mnist-10k',
      seeds: 2,
      lrs: [0.05, 1],
      baseLr: 0.05,
      multipliers: [1, 5],
      steps: 30,
      batchSize: 32,
      evalEvery: 10,
      evalSamples: 200,
      hidden: [16],
      activation: 'relu',
      momentum: 0,
      targetAccuracy: 0.5,
    },
    quick: {
      dataset: 'mnist-10k',
      seeds: 3,
      lrs: [0.01, 0.1, 1, 10],
      baseLr: 0.1,
      multipliers: [1, 5, 30],
      steps: 500,
      batchSize: 60,
      evalEvery: 25,
      evalSamples: 1000,
      hidden: [64, 64, 64],
      activation: 'relu',
      momentum: 0,
      targetAccuracy: 0.9,
    },
    full: {
      dataset: 'mnist-10k',
      seeds: 5,
      lrs: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30],
      baseLr: 0.1,
      multipliers: [1, 5, 30],
      steps: 5000,
      batchSize: 60,
      evalEvery: 100,
      evalSamples: 2000,
      hidden: [100, 100, 100],
      activation: 'relu',
      momentum: 0,
      targetAccuracy: 0.95,
    },
  },
  trials(config: LrConfig): TrialSpec[] {
    const out: TrialSpec[] = [];
    // Seeds outermost: an interrupted run still holds whole grids for the first seeds.
    for (let seed = 0; seed < config.seeds; seed++) {
      for (const lr of lrGrid(config)) for (const arm of ARMS) out.push({ id: trialId(arm, seed, { lr }), arm, seed, params: { lr } });
    }
    return out;
  },
  runTrial(spec, config, ctx) {
    const data = ctx.dataset();
    const lr = spec.params.lr as number;
    const relUpdate: [number, number][] = [];
    const mlp: MlpSpec = {
      inputs: inputSize(data),
      hidden: config.hidden,
      classes: data.classes.length,
      activation: config.activation,
      norm: spec.arm === 'bn' ? 'bn' : 'none',
      init: { kind: 'default' },
    };
    const { model, linears } = buildMlp(mlp, spec.seed);
    const r = trainClassifier(model, data, {
      ...trainOptionsOf({ ...config, lr }, spec.seed, ctx.progress),
      // The first layer's relative step lr * |g| / |W|: BN's effective learning rate depends on the weights' scale.
      afterBackward: (step) => {
        if (step !== 1 && step % config.evalEvery !== 0) return;
        const w = linears[0].weight;
        const u = (lr * l2norm(w.grad)) / l2norm(w.data);
        if (Number.isFinite(u)) relUpdate.push([step, u]);
      },
    });
    ctx.keepModel?.(model, { spec: mlp, inputShape: data.inputShape });
    const acc = r.curves.testAccuracy;
    const lastLoss = r.curves.trainLoss[r.curves.trainLoss.length - 1];
    return {
      metrics: {
        finalTestAccuracy: r.finalTestAccuracy,
        bestTestAccuracy: Math.max(...acc.map(([, a]) => a)),
        // A run that crossed the target and then blew up did not succeed: no step count for it.
        stepsToTarget: r.diverged ? null : stepsToReach(acc, config.targetAccuracy),
        finalTrainLoss: r.diverged || lastLoss === undefined ? null : lastLoss[1],
        trained: !r.diverged && r.finalTestAccuracy >= 2 * chanceOf(data) ? 1 : 0,
        relUpdate: relUpdate.length > 0 ? relUpdate.reduce((s, [, u]) => s + u, 0) / relUpdate.length : null,
      },
      curves: { testAccuracy: finitePoints(acc), trainLoss: finitePoints(r.curves.trainLoss), testLoss: finitePoints(r.curves.testLoss), relUpdate },
      diverged: r.diverged,
      divergedAt: r.divergedAt,
    };
  },
  findings(trials: Trial[], config: LrConfig): Finding[] {
    const lrs = lrsOf(trials);
    if (lrs.length === 0) return [];
    return [
      findMaxTrainable(trials, lrs),
      findBestLr(trials, lrs, config.seeds),
      findSmallLr(trials, lrs, 0.02, config.steps),
      findMultipliers(trials, config),
    ];
  },
};
