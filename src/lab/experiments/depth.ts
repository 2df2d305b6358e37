// Experiment `depth`: deep plain MLPs with and without BN — per-layer gradient norms and activation statistics, and which depths train.
import { z } from 'zod';
import type { Experiment, TrialSpec } from '../experiment.js';
import { trialId } from '../experiment.js';
import type { Finding, Series, Trial, Verdict } from '../results.js';
import { buildMlp, type ActivationName, type BuiltMlp, type InitSpec } from '../models.js';
import { trainClassifier } from '../train.js';
import { crossEntropy } from '../../ops/loss.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Dataset } from '../../data/dataset.js';
import { baseFields, fields, trainFields, inputSize, chanceOf, trainOptionsOf } from '../kit/config.js';
import { metricCI, finitePoints, stdOf, l2norm } from '../kit/trials.js';
import { fmtPct, seedsText, round } from '../kit/format.js';
import type { Comparison } from '../compare.js';
import { paired } from '../kit/paired.js';

const schema = z
  .object({
    ...baseFields,
    /** Numbers of hidden layers (each Linear -> [BN] -> activation); the output Linear comes on top. */
    depths: z.array(
      z.number().int('depths must be integers').min(2, 'depths must be at least 2 (the gradient ratio compares the first and last hidden layer)'),
    ).min(1),
    activations: z.array(fields.activation).min(1, 'activations needs at least one of sigmoid, tanh, relu'),
    /** Hidden width of every layer. */
    width: fields.width,
    /** 'auto': Kaiming for ReLU, Xavier with the activation's gain for sigmoid/tanh (a good init for the plain net). */
    init: z.enum(['auto', 'xavier', 'kaiming']),
    ...trainFields,
    /** Training samples in the fixed batch used for the gradient and activation probes. */
    probeBatch: z.number().int().min(2, 'probeBatch must be at least 2 (BN needs more than one value per channel)'),
  })
  .strict();

/** Config of the `depth` experiment. */
export type DepthConfig = z.infer<typeof schema>;

const ARMS = ['bn', 'plain'] as const;

/** What a probe sees: per-layer weight-gradient norms (all Linears, output last) and hidden activation statistics. */
export interface DepthProbe {
  /** ||dL/dW_l||_F for l = 1..depth+1 (NaN when the loss was not finite). */
  gradNorm: number[];
  /** Standard deviation of each hidden layer's pre-activation (after BN when present). */
  preActStd: number[];
  /** Standard deviation of each hidden layer's output (after the activation). */
  actStd: number[];
  loss: number;
}

function act(name: ActivationName, v: number): number {
  switch (name) {
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'tanh':
      return Math.tanh(v);
    case 'relu':
      return v > 0 ? v : 0;
    default: {
      const never: never = name;
      throw new Error(`unknown activation ${String(never)}`);
    }
  }
}

/**
 * One forward/backward on a fixed batch in training mode (BN uses batch statistics, as during training),
 * reading weight-gradient norms and activation statistics. Leaves the model as it found it: gradients
 * cleared and BN running statistics restored, so probing does not change the trial.
 */
export function probeMlp(built: BuiltMlp, x: Tensor, y: Int32Array, activation: ActivationName): DepthProbe {
  const { model, linears, taps } = built;
  const saved = model.buffers().map((b) => b.data.slice());
  const wasTraining = model.training;
  model.train();
  model.zeroGrad();
  for (const t of taps) t.enabled = true;
  let loss = NaN;
  try {
    const l = crossEntropy(model.forward(x), y);
    loss = l.item();
    if (Number.isFinite(loss)) l.backward();
  } finally {
    for (const t of taps) t.enabled = false;
  }
  const gradNorm = linears.map((l) => (Number.isFinite(loss) ? l2norm(l.weight.grad) : NaN));
  const preActStd: number[] = [];
  const actStd: number[] = [];
  for (const t of taps) {
    const d = t.last?.data ?? new Float32Array(0);
    preActStd.push(stdOf(d));
    const a = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) a[i] = act(activation, d[i]);
    actStd.push(stdOf(a));
    t.last = null;
  }
  model.zeroGrad();
  model.buffers().forEach((b, i) => b.data.set(saved[i]));
  model.train(wasTraining);
  return { gradNorm, preActStd, actStd, loss };
}

/** The first `n` training samples as a batch (the same for every trial, so probes compare). */
function probeBatchOf(data: Dataset, n: number): { x: Tensor; y: Int32Array } {
  const m = Math.min(n, data.train.n);
  const f = inputSize(data);
  return { x: new Tensor(data.train.x.slice(0, m * f), [m, ...data.inputShape]), y: data.train.y.slice(0, m) };
}

function initFor(init: DepthConfig['init'], activation: ActivationName): InitSpec {
  if (init === 'xavier') return { kind: 'xavier' };
  if (init === 'kaiming') return { kind: 'kaiming' };
  return activation === 'relu' ? { kind: 'kaiming' } : { kind: 'xavier' };
}

/** first hidden layer's gradient norm / last hidden layer's (Yang et al.'s measure of explosion toward the input). */
function ratioOf(gradNorm: number[], hidden: number): number | null {
  const r = gradNorm[0] / gradNorm[hidden - 1];
  return Number.isFinite(r) && r > 0 ? r : null;
}

const layerCurve = (v: number[]): Series => finitePoints(v.map((y, i) => [i + 1, y]));

const cellOf = (trials: readonly Trial[], arm: string, depth: number, a: string) =>
  trials.filter((t) => t.arm === arm && t.params.depth === depth && t.params.activation === a);

function dims(trials: readonly Trial[]): { depths: number[]; acts: string[] } {
  return {
    depths: [...new Set(trials.map((t) => t.params.depth as number))].sort((a, b) => a - b),
    acts: [...new Set(trials.map((t) => String(t.params.activation)))],
  };
}

/** Accuracy points a mean may fall with depth and still count as holding up (with no significant drop). */
const HOLD_MARGIN = 0.05;

/** "10^2.3" */
const pow10 = (x: number) => `10^${x.toFixed(1)}`;

function findExplosion(trials: readonly Trial[]): Finding {
  const { depths, acts } = dims(trials);
  const values: Record<string, number | string | null> = {};
  const parts: string[] = [];
  const comparisons: Comparison[] = [];
  let grows = 0;
  let above = 0;
  let against = 0;
  let n = 0;
  const lo = depths[0];
  const hi = depths[depths.length - 1];
  for (const a of acts) {
    const r = (arm: string, d: number) => metricCI(cellOf(trials, arm, d, a), 'log10GradRatioInit');
    const bLo = r('bn', lo);
    const bHi = r('bn', hi);
    const pHi = r('plain', hi);
    const pLo = r('plain', lo);
    if (bLo.n === 0 || bHi.n === 0 || pHi.n === 0) continue;
    n++;
    values[`${a}Bn${lo}`] = round(bLo.mean, 3);
    values[`${a}Bn${hi}`] = round(bHi.mean, 3);
    values[`${a}Plain${lo}`] = round(pLo.mean, 3);
    values[`${a}Plain${hi}`] = round(pHi.mean, 3);
    // Yang et al.: with BN the ratio grows with depth (exponentially) and exceeds the plain net's at depth.
    // Evidence against: with BN it significantly shrinks with depth, or stays significantly below the plain net's.
    const m = 'log10GradRatioInit';
    const cg = paired(
      cellOf(trials, 'bn', hi, a),
      cellOf(trials, 'bn', lo, a),
      m,
      undefined,
      { label: `${a}: log10 gradient ratio with BN, depth ${hi} - ${lo}` },
    ).cmp;
    const cab = paired(
      cellOf(trials, 'bn', hi, a),
      cellOf(trials, 'plain', hi, a),
      m,
      undefined,
      { label: `${a}: log10 gradient ratio at depth ${hi}, BN - plain` },
    ).cmp;
    comparisons.push(cg, cab);
    const g = depths.length > 1 && cg.outcome === 'higher';
    const ab = cab.outcome === 'higher';
    if (g) grows++;
    if (ab) above++;
    if ((depths.length > 1 && cg.outcome === 'lower') || cab.outcome === 'lower') against++;
    parts.push(`${a}: ${pow10(bLo.mean)} at depth ${lo} -> ${pow10(bHi.mean)} (± ${bHi.half.toFixed(1)} in log10) at depth ${hi} with BN, ` +
      `${pow10(pLo.mean)} -> ${pow10(pHi.mean)} without`);
  }
  let verdict: Verdict;
  if (n === 0) verdict = 'inconclusive';
  else if (grows === n && above === n) verdict = 'supported';
  else if (against === n) verdict = 'contradicted';
  else if (grows === 0 && above === 0 && against === 0) verdict = 'inconclusive';
  else verdict = 'mixed';
  const seeds = new Set(trials.map((t) => t.seed)).size;
  return {
    id: 'bn-gradient-explosion-at-init',
    claim: 'At initialization, BN itself causes gradient explosion with depth in plain deep nets (Yang et al. 2019)',
    text:
      `Ratio of the first to the last hidden layer's weight-gradient norm at init: ${parts.join('; ')} (${seedsText(seeds)}). ` +
      `With BN the ratio grew significantly with depth for ${grows} of ${n} activations and exceeded the plain net's at depth ${hi} for ${above} ` +
      `of ${n}; it shrank with depth or stayed below the plain net's for ${against} of ${n}.`,
    verdict,
    values: { ...values, activationsGrowing: grows, activationsAbovePlain: above, activationsAgainst: against },
    comparisons,
  };
}

function findTrainable(trials: readonly Trial[]): Finding {
  const { depths, acts } = dims(trials);
  const ok = (arm: string) => {
    const cells: string[] = [];
    const failed: string[] = [];
    for (const d of depths) {
      for (const a of acts) {
        const ts = cellOf(trials, arm, d, a);
        if (ts.length === 0) continue;
        if (ts.every((t) => t.metrics.trained === 1)) cells.push(`${a}@${d}`);
        else failed.push(`${a} at depth ${d} (${ts.filter((t) => t.metrics.trained === 1).length}/${ts.length} seeds)`);
      }
    }
    return { cells, failed };
  };
  const b = ok('bn');
  const p = ok('plain');
  const total = b.cells.length + b.failed.length;
  const verdict: Verdict =
    total === 0 ? 'inconclusive'
    : b.cells.length > p.cells.length ? 'supported'
    : b.cells.length < p.cells.length ? 'contradicted'
    : b.failed.length === 0 ? 'inconclusive'
    : 'contradicted';
  const list = (f: string[]) => (f.length === 0 ? 'none failed' : `failed: ${f.join(', ')}`);
  return {
    id: 'depth-trainability',
    claim: 'BN lets deep networks, and saturating activations, train',
    text:
      `Every seed trained (test accuracy above twice chance) in ${b.cells.length} of ${total} depth x activation cells with BN ` +
      `(${list(b.failed)}) vs ${p.cells.length} without (${list(p.failed)}).`,
    verdict,
    values: { cells: total, trainedBn: b.cells.length, trainedPlain: p.cells.length },
  };
}

function findAccuracyVsDepth(trials: readonly Trial[]): Finding {
  const { depths, acts } = dims(trials);
  const lo = depths[0];
  const hi = depths[depths.length - 1];
  const parts: string[] = [];
  const values: Record<string, number | string | null> = {};
  const comparisons: Comparison[] = [];
  let bnDrops = 0;
  let unclear = 0;
  let n = 0;
  for (const a of acts) {
    const acc = (arm: string, d: number) => metricCI(cellOf(trials, arm, d, a), 'finalTestAccuracy');
    const bLo = acc('bn', lo);
    const bHi = acc('bn', hi);
    const pLo = acc('plain', lo);
    const pHi = acc('plain', hi);
    if (bLo.n === 0 || bHi.n === 0) continue;
    n++;
    const drop = paired(
      cellOf(trials, 'bn', hi, a),
      cellOf(trials, 'bn', lo, a),
      'finalTestAccuracy',
      undefined,
      { label: `${a}: accuracy with BN, depth ${hi} - ${lo}` },
    ).cmp;
    comparisons.push({ ...drop, decides: drop.outcome === 'lower' });
    if (drop.outcome === 'lower') bnDrops++;
    // Not a significant drop, but the mean fell by more than the margin: too noisy to say accuracy held.
    else if (bLo.mean - bHi.mean > HOLD_MARGIN) unclear++;
    values[`${a}Bn${lo}`] = round(bLo.mean);
    values[`${a}Bn${hi}`] = round(bHi.mean);
    values[`${a}Plain${lo}`] = round(pLo.mean);
    values[`${a}Plain${hi}`] = round(pHi.mean);
    parts.push(`${a}: ${fmtPct(bLo)} -> ${fmtPct(bHi)} with BN, ${fmtPct(pLo)} -> ${fmtPct(pHi)} without`);
  }
  // Yang et al. predict that deep plain BN nets get harder to train; BN's own claim predicts no loss with depth.
  const verdict: Verdict =
    n === 0 || depths.length < 2 ? 'inconclusive'
    : bnDrops === n ? 'contradicted'
    : bnDrops > 0 ? 'mixed'
    : unclear > 0 ? 'inconclusive'
    : 'supported';
  return {
    id: 'accuracy-vs-depth',
    claim: 'With BN, test accuracy holds up as plain nets get deeper',
    text:
      `Final test accuracy from depth ${lo} to ${hi}: ${parts.join('; ')}. With BN accuracy fell significantly for ${bnDrops} of ${n} activations.`,
    verdict,
    values: { ...values, activationsDropping: bnDrops, activationsUnclear: unclear },
    comparisons,
  };
}

/** The depth experiment (Ioffe & Szegedy Sec. 3.3; Yang et al. 2019). */
export const depth: Experiment<DepthConfig> = {
  name: 'depth',
  title: 'Depth: per-layer gradient norms and activation statistics of deep plain nets, with and without BN',
  claim:
    'BN keeps activations and gradients well scaled through many layers, so deep networks, including ones with saturating nonlinearities, train.',
  context:
    'Yang et al. 2019 (mean-field theory): at initialization BN itself causes gradient explosion with depth in plain ' +
    '(no skip) deep networks: the gradient norm grows geometrically toward the input, whatever the activation, ' +
    'which makes very deep BN nets without skip connections hard to train.',
  schema,
  presets: {
    tiny: {
      dataset: 'mnist-10k', seeds: 2, depths: [2, 4], activations: ['tanh', 'relu'], width: 16, init: 'auto',
      steps: 20, batchSize: 32, lr: 0.05, momentum: 0, evalEvery: 10, evalSamples: 200, probeBatch: 64,
    },
    quick: {
      dataset: 'mnist-10k', seeds: 3, depths: [10, 20, 50], activations: ['sigmoid', 'tanh', 'relu'], width: 32,
      init: 'auto', steps: 120, batchSize: 60, lr: 0.05, momentum: 0.9, evalEvery: 40, evalSamples: 500, probeBatch: 200,
    },
    full: {
      dataset: 'mnist-10k', seeds: 5, depths: [5, 10, 20, 50, 100], activations: ['sigmoid', 'tanh', 'relu'], width: 100,
      init: 'auto', steps: 3000, batchSize: 60, lr: 0.05, momentum: 0.9, evalEvery: 100, evalSamples: 2000, probeBatch: 500,
    },
  },
  trials(config: DepthConfig): TrialSpec[] {
    const out: TrialSpec[] = [];
    for (let seed = 0; seed < config.seeds; seed++) {
      for (const activation of config.activations) {
        for (const layers of config.depths) {
          for (const arm of ARMS) {
            const params = { depth: layers, activation };
            out.push({ id: trialId(arm, seed, params), arm, seed, params });
          }
        }
      }
    }
    return out;
  },
  runTrial(spec, config, ctx) {
    const data = ctx.dataset();
    const layers = spec.params.depth as number;
    const activation = spec.params.activation as ActivationName;
    const built = buildMlp(
      {
        inputs: inputSize(data),
        hidden: new Array<number>(layers).fill(config.width),
        classes: data.classes.length,
        activation,
        norm: spec.arm === 'bn' ? 'bn' : 'none',
        init: initFor(config.init, activation),
      },
      spec.seed,
    );
    const probe = probeBatchOf(data, config.probeBatch);
    const atInit = probeMlp(built, probe.x, probe.y, activation);
    // During training: the first/last hidden gradient ratio at each evaluation step, from the step's own gradients.
    const ratioCurve: Series = [];
    const lin = built.linears;
    const r = trainClassifier(built.model, data, {
      ...trainOptionsOf(config, spec.seed, ctx.progress),
      afterBackward: (step) => {
        if (step !== 1 && step % config.evalEvery !== 0) return;
        const q = l2norm(lin[0].weight.grad) / l2norm(lin[layers - 1].weight.grad);
        if (Number.isFinite(q) && q > 0) ratioCurve.push([step, Math.log10(q)]);
      },
    });
    const trained = r.diverged ? null : probeMlp(built, probe.x, probe.y, activation);
    const rInit = ratioOf(atInit.gradNorm, layers);
    const rTrained = trained ? ratioOf(trained.gradNorm, layers) : null;
    return {
      metrics: {
        finalTestAccuracy: r.finalTestAccuracy,
        trained: !r.diverged && r.finalTestAccuracy >= 2 * chanceOf(data) ? 1 : 0,
        gradRatioInit: rInit,
        log10GradRatioInit: rInit === null ? null : Math.log10(rInit),
        log10GradRatioTrained: rTrained === null ? null : Math.log10(rTrained),
        initialLoss: Number.isFinite(atInit.loss) ? atInit.loss : null,
      },
      curves: {
        gradNormInit: layerCurve(atInit.gradNorm),
        gradNormTrained: trained ? layerCurve(trained.gradNorm) : [],
        actStdInit: layerCurve(atInit.actStd),
        actStdTrained: trained ? layerCurve(trained.actStd) : [],
        preActStdInit: layerCurve(atInit.preActStd),
        log10GradRatio: ratioCurve,
        testAccuracy: finitePoints(r.curves.testAccuracy),
        trainLoss: finitePoints(r.curves.trainLoss),
      },
      diverged: r.diverged,
      divergedAt: r.divergedAt,
    };
  },
  findings(trials: Trial[]): Finding[] {
    if (trials.length === 0) return [];
    return [findExplosion(trials), findTrainable(trials), findAccuracyVsDepth(trials)];
  },
};
