// Experiment `init`: final accuracy over weight-init scales (N(0, std^2), Xavier, Kaiming) x activations, BN vs plain.
import { z } from 'zod';
import type { Experiment, TrialSpec } from '../experiment.js';
import { trialId } from '../experiment.js';
import type { Finding, Trial, Verdict } from '../results.js';
import { buildMlp, type ActivationName, type InitSpec } from '../models.js';
import { trainClassifier } from '../train.js';
import { compare, type Comparison } from '../compare.js';
import { paired } from '../kit/paired.js';
import { baseFields, fields, trainFields, inputSize, chanceOf, trainOptionsOf } from '../kit/config.js';
import { metricCI, finitePoints } from '../kit/trials.js';
import { fmtPct, fmtNum, seedsText, round } from '../kit/format.js';

const schema = z
  .object({
    ...baseFields,
    /** Standard deviations of the N(0, std^2) init (a log grid, e.g. 1e-3 ... 10). */
    stds: z.array(z.number().positive('stds must be positive').finite('stds must be finite')),
    /** Fan-based schemes also run (with the activation's gain): Xavier (Glorot) normal, Kaiming (He) normal. */
    schemes: z.array(z.enum(['xavier', 'kaiming'])),
    activations: z.array(fields.activation).min(1, 'activations needs at least one of sigmoid, tanh, relu'),
    ...trainFields,
    hidden: fields.hidden,
  })
  .strict()
  .refine((c) => c.stds.length + c.schemes.length > 0, { message: 'stds and schemes are both empty: no init to run', path: ['stds'] });

/** Config of the `init` experiment. */
export type InitConfig = z.infer<typeof schema>;

/** How a trial's weights are drawn. */
export type InitName = 'normal' | 'xavier' | 'kaiming';

const ARMS = ['bn', 'plain'] as const;

/** A short label for an init cell: "N(0, 0.01)", "xavier", "kaiming" (row labels of the heatmap). */
export function initLabel(params: Trial['params']): string {
  return params.init === 'normal' ? `N(0, ${fmtNum(params.std as number)})` : String(params.init);
}

/** The init grid of a config: each std, then each scheme (std null). */
export function initGrid(config: InitConfig): { init: InitName; std: number | null }[] {
  return [...config.stds.map((std) => ({ init: 'normal' as const, std })), ...config.schemes.map((s) => ({ init: s, std: null }))];
}

const cellOf = (trials: readonly Trial[], arm: string, activation: string, label: string) =>
  trials.filter((t) => t.arm === arm && t.params.activation === activation && initLabel(t.params) === label);

/** True when every seed of a cell trained (finite loss, accuracy at least twice chance). */
const trainedCell = (ts: readonly Trial[]) => ts.length > 0 && ts.every((t) => t.metrics.trained === 1);

function labelsOf(trials: readonly Trial[], pred: (t: Trial) => boolean = () => true): string[] {
  return [...new Set(trials.filter(pred).map((t) => initLabel(t.params)))];
}

function activationsOf(trials: readonly Trial[]): string[] {
  return [...new Set(trials.map((t) => String(t.params.activation)))];
}

function findRobustness(trials: readonly Trial[]): Finding {
  const acts = activationsOf(trials);
  const labels = labelsOf(trials);
  const count = (arm: string, act: string) => labels.filter((l) => trainedCell(cellOf(trials, arm, act, l))).length;
  const per = acts.map((a) => ({ a, bn: count('bn', a), plain: count('plain', a) }));
  const bn = per.reduce((s, p) => s + p.bn, 0);
  const plain = per.reduce((s, p) => s + p.plain, 0);
  const cells = labels.length * acts.length;
  let verdict: Verdict;
  if (bn > plain) verdict = 'supported';
  else if (bn < plain) verdict = 'contradicted';
  else verdict = bn === cells ? 'inconclusive' : 'contradicted';
  const tail =
    verdict === 'inconclusive' ? ' Every cell trained in both arms: the grid is not hard enough to tell.'
    : verdict === 'contradicted' ? ' BN did not widen the range of inits that train here.'
    : '';
  return {
    id: 'init-robustness',
    claim: 'BN makes training resilient to the scale of the initial weights',
    text:
      `Over ${labels.length} inits (${labels.join(', ')}) x ${acts.length} activations, every seed trained (accuracy above twice chance) ` +
      `in ${bn} of ${cells} cells with BN vs ${plain} without (${per.map((p) => `${p.a} ${p.bn} vs ${p.plain}`).join(', ')}).${tail}`,
    verdict,
    values: { cells, trainedBn: bn, trainedPlain: plain, ...Object.fromEntries(per.flatMap((p) => [[`${p.a}Bn`, p.bn], [`${p.a}Plain`, p.plain]])) },
  };
}

function findWorstCase(trials: readonly Trial[]): Finding {
  const acts = activationsOf(trials);
  const normalLabels = labelsOf(trials, (t) => t.params.init === 'normal');
  const values: Record<string, number | string | null> = {};
  const parts: string[] = [];
  const comparisons: Comparison[] = [];
  let better = 0;
  let worse = 0;
  for (const a of acts) {
    const range = (arm: string) => {
      const cis = normalLabels.map((l) => ({ l, ci: metricCI(cellOf(trials, arm, a, l), 'finalTestAccuracy') })).filter((c) => c.ci.n > 0);
      if (cis.length === 0) return null;
      const lo = cis.reduce((x, y) => (y.ci.mean < x.ci.mean ? y : x));
      const hi = cis.reduce((x, y) => (y.ci.mean > x.ci.mean ? y : x));
      return { lo, hi };
    };
    const b = range('bn');
    const p = range('plain');
    if (!b || !p) continue;
    values[`${a}WorstBn`] = round(b.lo.ci.mean);
    values[`${a}WorstPlain`] = round(p.lo.ci.mean);
    // The two worst cells compared seed by seed (the same seed draws both nets' batches).
    const cmp = paired(
      cellOf(trials, 'bn', a, b.lo.l),
      cellOf(trials, 'plain', a, p.lo.l),
      'finalTestAccuracy',
      undefined,
      { label: `${a}: worst BN cell (${b.lo.l}) - worst plain cell (${p.lo.l})` },
    ).cmp;
    comparisons.push(cmp);
    if (cmp.outcome === 'higher') better++;
    else if (cmp.outcome === 'lower') worse++;
    parts.push(`${a}: worst ${fmtPct(b.lo.ci)} (${b.lo.l}) with BN vs ${fmtPct(p.lo.ci)} (${p.lo.l}) without, ` +
      `best ${fmtPct(b.hi.ci)} vs ${fmtPct(p.hi.ci)}`);
  }
  const n = parts.length;
  const verdict: Verdict =
    n === 0 ? 'inconclusive'
    : better === n ? 'supported'
    : worse === n ? 'contradicted'
    : better > 0 || worse > 0 ? 'mixed'
    : 'inconclusive';
  return {
    id: 'worst-init',
    claim: 'With BN, a badly scaled init costs less accuracy',
    text:
      n === 0
        ? 'No N(0, std^2) cells to compare.'
        : `Across the std grid, ${parts.join('; ')}. ` +
          `BN's worst cell was significantly better in ${better} and worse in ${worse} of ${n} activations.`,
    verdict,
    values: { ...values, activationsBetter: better, activationsWorse: worse },
    comparisons,
  };
}

function findBnWorse(trials: readonly Trial[], seeds: number): Finding {
  const acts = activationsOf(trials);
  const labels = labelsOf(trials);
  const worse: string[] = [];
  const comparisons: Comparison[] = [];
  let cells = 0;
  for (const a of acts) {
    for (const l of labels) {
      const b = metricCI(cellOf(trials, 'bn', a, l), 'finalTestAccuracy');
      const p = metricCI(cellOf(trials, 'plain', a, l), 'finalTestAccuracy');
      if (b.n === 0 || p.n === 0) continue;
      cells++;
      const cmp = paired(
        cellOf(trials, 'bn', a, l),
        cellOf(trials, 'plain', a, l),
        'finalTestAccuracy',
        undefined,
        { label: `${l} with ${a}, BN - plain` },
      ).cmp;
      // 'Never worse' rests on no cell being worse, which a correction cannot undo; only a worse cell decides.
      comparisons.push({ ...cmp, decides: cmp.outcome === 'lower' });
      if (cmp.outcome === 'lower') worse.push(`${l} with ${a} (${fmtPct(b)} vs ${fmtPct(p)})`);
    }
  }
  const verdict: Verdict = cells === 0 ? 'inconclusive' : worse.length === 0 ? 'supported' : 'mixed';
  return {
    id: 'bn-worse-cells',
    claim: 'BN never makes an init worse',
    text:
      worse.length === 0
        ? `In none of ${cells} init x activation cells was BN significantly worse than the plain net (${seedsText(seeds)}).`
        : `BN was significantly worse than the plain net in ${worse.length} of ${cells} cells: ${worse.join('; ')} (${seedsText(seeds)}). ` +
          `Scale invariance removes the weights' scale from the forward pass, not from training: large weights shrink BN's effective learning ` +
          'rate, and the output layer has no BN.',
    verdict,
    values: { cells, bnWorse: worse.length },
    comparisons,
  };
}

/** BN's mean gain (bn - plain accuracy over every cell of `ts`) for each seed. */
function gainBySeed(ts: readonly Trial[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const seed of new Set(ts.map((t) => t.seed))) {
    const g = (arm: string) => metricCI(ts.filter((t) => t.arm === arm && t.seed === seed), 'finalTestAccuracy').mean;
    const v = g('bn') - g('plain');
    if (Number.isFinite(v)) out.set(seed, v);
  }
  return out;
}

/** BN's gain over the std grid minus its gain with fan-based inits, paired by seed. */
function compareGaps(std: readonly Trial[], grid: readonly Trial[]): Comparison {
  return compare('BN gain, N(0, std^2) grid - Xavier/Kaiming', gainBySeed(grid), gainBySeed(std));
}

function findStandardInits(trials: readonly Trial[]): Finding {
  const std = trials.filter((t) => t.params.init !== 'normal');
  const grid = trials.filter((t) => t.params.init === 'normal');
  const gap = (ts: Trial[]) =>
    metricCI(ts.filter((t) => t.arm === 'bn'), 'finalTestAccuracy').mean - metricCI(ts.filter((t) => t.arm === 'plain'), 'finalTestAccuracy').mean;
  const gStd = gap(std);
  const gGrid = gap(grid);
  const accStd = (arm: string) => metricCI(std.filter((t) => t.arm === arm), 'finalTestAccuracy');
  let verdict: Verdict = 'inconclusive';
  let text = 'Needs both fan-based schemes (xavier/kaiming) and N(0, std^2) cells.';
  // Per seed: BN's mean gain over the std grid vs over the fan-based inits, compared paired by seed.
  const gaps = compareGaps(std, grid);
  if (Number.isFinite(gStd) && Number.isFinite(gGrid)) {
    // The claim is about robustness: BN should matter most where the init is bad, least where it is good.
    verdict = gaps.outcome === 'higher' ? 'supported' : gaps.outcome === 'lower' ? 'contradicted' : 'inconclusive';
    const reading =
      verdict === 'supported' ? "BN's advantage is smaller with a fan-based init: it matters most where the init is off."
      : verdict === 'contradicted' ? 'BN helps more with a fan-based init than over the std grid.'
      : 'The two gains are not distinguishable at this number of seeds.';
    text =
      `With Xavier/Kaiming init, BN averaged ${fmtPct(accStd('bn'))} vs ${fmtPct(accStd('plain'))} without ` +
      `(gap ${(gStd * 100).toFixed(1)} points); over the N(0, std^2) grid the average gap was ${(gGrid * 100).toFixed(1)} points. ${reading}`;
  }
  return {
    id: 'standard-inits',
    claim: "BN's benefit is largest when the init is badly scaled",
    text,
    verdict,
    values: { gapStandard: round(gStd), gapGrid: round(gGrid) },
    comparisons: Number.isFinite(gStd) && Number.isFinite(gGrid) ? [gaps] : [],
  };
}

function initSpec(params: Trial['params']): InitSpec {
  switch (params.init as InitName) {
    case 'normal':
      return { kind: 'normal', std: params.std as number };
    case 'xavier':
      return { kind: 'xavier' };
    case 'kaiming':
      return { kind: 'kaiming' };
    default:
      throw new Error(`init: unknown init '${String(params.init)}'`);
  }
}

/** The weight-init experiment (Ioffe & Szegedy Sec. 3.3: BN(Wu) = BN((aW)u)). */
export const init: Experiment<InitConfig> = {
  name: 'init',
  title: 'Weight initialization: final accuracy over init scale x activation, with and without BN',
  claim:
    'BN makes training resilient to the scale of the parameters: BN(Wu) = BN((aW)u), so the network trains from a wide range of initial weight ' +
    'scales, including with saturating activations.',
  context:
    'Scale invariance holds for the forward pass only: the gradient w.r.t. aW is 1/a times that w.r.t. W, ' +
    'so the effective learning rate of a BN layer falls as 1/a^2 (large inits train slowly, tiny ones take huge steps). ' +
    'The output layer has no BN. Fan-based inits (Xavier, Kaiming) fix the scale without BN.',
  schema,
  presets: {
    tiny: {
      dataset: 'mnist-10k',
      seeds: 2,
      stds: [0.01, 10],
      schemes: ['kaiming'],
      activations: ['sigmoid', 'relu'],
      steps: 20,
      batchSize: 32,
      lr: 0.1,
      momentum: 0,
      evalEvery: 10,
      evalSamples: 200,
      hidden: [16],
    },
    quick: {
      dataset: 'mnist-10k',
      seeds: 3,
      stds: [0.001, 0.01, 0.1, 1, 10],
      schemes: ['xavier', 'kaiming'],
      activations: ['sigmoid', 'tanh', 'relu'],
      steps: 200,
      batchSize: 60,
      lr: 0.1,
      momentum: 0,
      evalEvery: 50,
      evalSamples: 500,
      hidden: [64, 64],
    },
    full: {
      dataset: 'mnist-10k',
      seeds: 5,
      stds: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
      schemes: ['xavier', 'kaiming'],
      activations: ['sigmoid', 'tanh', 'relu'],
      steps: 3000,
      batchSize: 60,
      lr: 0.1,
      momentum: 0,
      evalEvery: 100,
      evalSamples: 2000,
      hidden: [100, 100, 100],
    },
  },
  trials(config: InitConfig): TrialSpec[] {
    const out: TrialSpec[] = [];
    for (let seed = 0; seed < config.seeds; seed++) {
      for (const activation of config.activations) {
        for (const cell of initGrid(config)) {
          for (const arm of ARMS) {
            const params = { init: cell.init, std: cell.std, activation };
            out.push({ id: trialId(arm, seed, params), arm, seed, params });
          }
        }
      }
    }
    return out;
  },
  runTrial(spec, config, ctx) {
    const data = ctx.dataset();
    const { model } = buildMlp(
      {
        inputs: inputSize(data),
        hidden: config.hidden,
        classes: data.classes.length,
        activation: spec.params.activation as ActivationName,
        norm: spec.arm === 'bn' ? 'bn' : 'none',
        init: initSpec(spec.params),
      },
      spec.seed,
    );
    const r = trainClassifier(model, data, {
      ...trainOptionsOf(config, spec.seed, ctx.progress),
      // A std of 10 puts logits in the thousands at step 0: only NaN/Inf counts as divergence here.
      divergeLoss: Infinity,
    });
    const acc = r.curves.testAccuracy;
    const loss0 = r.curves.testLoss[0]?.[1];
    return {
      metrics: {
        finalTestAccuracy: r.finalTestAccuracy,
        bestTestAccuracy: Math.max(...acc.map(([, a]) => a)),
        initialTestLoss: loss0 !== undefined && Number.isFinite(loss0) ? loss0 : null,
        trained: !r.diverged && r.finalTestAccuracy >= 2 * chanceOf(data) ? 1 : 0,
      },
      curves: { testAccuracy: finitePoints(acc), trainLoss: finitePoints(r.curves.trainLoss), testLoss: finitePoints(r.curves.testLoss) },
      diverged: r.diverged,
      divergedAt: r.divergedAt,
    };
  },
  findings(trials: Trial[], config: InitConfig): Finding[] {
    if (trials.length === 0) return [];
    return [findRobustness(trials), findWorstCase(trials), findBnWorse(trials, config.seeds), findStandardInits(trials)];
  },
};
