// Experiment `inference`: BN at inference with running averages, batch statistics or exact population statistics.
import { z } from 'zod';
import type { Experiment, TrialContext, TrialOutput, TrialSpec } from '../experiment.js';
import { trialId } from '../experiment.js';
import type { Finding, Series, Trial, Verdict } from '../results.js';
import { buildMlp } from '../models.js';
import { evaluate, firstN, trainClassifier } from '../train.js';
import { BatchNormBase } from '../../nn/norm/batchnorm.js';
import { Module } from '../../nn/module.js';
import { Sequential } from '../../nn/sequential.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { Tensor } from '../../tensor/tensor.js';
import { ArgumentError } from '../../tensor/errors.js';
import type { Dataset, Split } from '../../data/dataset.js';
import { baseFields, fields, inputSize, trainOptionsOf } from '../kit/config.js';
import type { Comparison } from '../compare.js';
import { paired, pairedValues, pct, points, seeds, select, sgn, type Paired } from '../kit/paired.js';
import { divergedFinding } from '../kit/diverged.js';

const momentum = z.union([
  z.number().gt(0, 'momenta must be in (0, 1] or null (cumulative)').max(1, 'momenta must be in (0, 1] or null (cumulative)'),
  z.null(),
]);

const schema = z
  .object({
    ...baseFields,
    /** Running-average momenta compared (PyTorch convention: weight of the new batch); null = cumulative average. */
    momenta: z
      .array(momentum)
      .min(1, 'momenta needs at least one value')
      .refine((a) => new Set(a).size === a.length, 'momenta must not repeat'),
    steps: fields.steps,
    batchSize: fields.batchSize,
    lr: fields.lr,
    hidden: fields.hidden,
    activation: fields.activation,
    initStd: fields.initStd,
    evalEvery: fields.evalEvery,
    /** Test samples of every evaluation (running, population and batch statistics alike). */
    evalSamples: fields.evalSamples,
    /** Test batch sizes used with (wrongly) batch statistics at inference; 1 is rejected: BN needs more than one value per unit. */
    evalBatchSizes: z
      .array(z.number().int('evalBatchSizes must be integers').min(2, 'evalBatchSizes must be at least 2 (a batch of one has no batch statistics)'))
      .min(1, 'evalBatchSizes needs at least one size'),
    /** Training samples of the population statistics tracked during training (the final ones use the whole training split). */
    populationSamples: z.number().int('populationSamples must be an integer').min(2, 'populationSamples must be at least 2'),
    /** Accuracy difference (fraction, 0.01 = one point) within which two ways of inference count as equivalent (the whole 95% CI must fit). */
    margin: z.number().positive('margin must be a positive number (an equivalence margin of 0 can never be met)').max(1, 'margin must be <= 1'),
  })
  .strict();

/** Config of the `inference` experiment. */
export type InferenceConfig = z.infer<typeof schema>;

const net = { hidden: [100, 100, 100], activation: 'sigmoid' as const, initStd: 0.1, lr: 0.5 };

const presets: { tiny: InferenceConfig; quick: InferenceConfig; full: InferenceConfig } = {
  tiny: {
    dataset: 'mnist-10k',
    seeds: 2,
    momenta: [0.1, null],
    steps: 30,
    batchSize: 16,
    lr: 0.5,
    hidden: [16, 16],
    activation: 'sigmoid',
    initStd: 0.1,
    evalEvery: 15,
    evalSamples: 256,
    evalBatchSizes: [2, 16, 64],
    populationSamples: 256,
    margin: 0.01,
  },
  quick: {
    dataset: 'mnist-10k',
    seeds: 3,
    momenta: [0.01, 0.1, 0.5, null],
    steps: 500,
    // Batch 16, not the paper's 60: the unbiased correction m/(m-1) is 1.067 here (1.017 at 60), big enough to see.
    batchSize: 16,
    ...net,
    evalEvery: 100,
    evalSamples: 2000,
    evalBatchSizes: [2, 4, 16, 64, 256],
    populationSamples: 2000,
    margin: 0.01,
  },
  full: {
    dataset: 'mnist-10k',
    seeds: 5,
    momenta: [0.001, 0.01, 0.1, 0.5, null],
    steps: 5000,
    batchSize: 16,
    ...net,
    evalEvery: 500,
    evalSamples: 2000,
    evalBatchSizes: [2, 4, 8, 16, 32, 64, 128, 256, 1000],
    populationSamples: 8000,
    margin: 0.01,
  },
};

/** The BN layers with running statistics of a model, in forward order. */
export function runningBatchNorms(model: Module): BatchNormBase[] {
  return model.namedModules().flatMap(([, m]) => (m instanceof BatchNormBase && m.runningMean !== null && m.runningVar !== null ? [m] : []));
}

/** Runs fn and puts every buffer (running statistics, batch counts) back as it was: training-mode forwards update them. */
export function withBuffersRestored<T>(model: Module, fn: () => T): T {
  const bufs = model.buffers();
  const saved = bufs.map((b) => b.data.slice());
  try {
    return fn();
  } finally {
    bufs.forEach((b, k) => b.data.set(saved[k]));
  }
}

/** Population statistics of one BN layer: per-unit mean and variance (divided by N) of its input over a whole split. */
export interface PopulationStats {
  mean: Float64Array;
  variance: Float64Array;
}

/**
 * Exact population statistics of every BatchNorm layer of a Sequential over the first `limit` samples of a split,
 * in one pass layer by layer: the whole split's activations move through the net one layer at a time, and a BN
 * layer's statistics are taken with the layers before it already using theirs (the network used at inference).
 * Sets each layer's runningMean to the mean and runningVar to the variance (divided by N: what training-mode BN
 * would compute with the whole split as one batch); returns them in forward order. Inputs (N, C) only.
 */
export function setPopulationStats(
  model: Sequential,
  split: Split,
  sampleShape: readonly number[],
  opts: { limit?: number; chunk?: number } = {},
): PopulationStats[] {
  const n = Math.min(split.n, opts.limit ?? split.n);
  const chunk = opts.chunk ?? 1000;
  const f = sampleShape.reduce((a, b) => a * b, 1);
  let hs: Tensor[] = [];
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    hs.push(new Tensor(split.x.subarray(s * f, (s + m) * f), [m, ...sampleShape]));
  }
  const out: PopulationStats[] = [];
  const wasTraining = model.training;
  model.eval();
  const walk = (layers: readonly Module[]) => {
    for (const layer of layers) {
      if (layer instanceof Sequential) {
        walk(layer.layers);
        continue;
      }
      if (layer instanceof BatchNormBase && layer.runningMean !== null && layer.runningVar !== null) {
        const st = columnMoments(hs, layer.numFeatures);
        layer.runningMean.data.set(st.mean);
        layer.runningVar.data.set(st.variance);
        out.push(st);
      }
      hs = hs.map((h) => layer.forward(h));
    }
  };
  try {
    noGrad(() => walk(model.layers));
  } finally {
    model.train(wasTraining);
  }
  return out;
}

/** Per-column mean and variance (divided by N) over row chunks of (m, C) tensors: float64, two passes. */
function columnMoments(hs: readonly Tensor[], c: number): PopulationStats {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  let n = 0;
  for (const h of hs) {
    if (h.ndim !== 2 || h.shape[1] !== c) throw new ArgumentError(`setPopulationStats: BN input must be (N, ${c}), got [${h.shape.join(', ')}]`);
    const d = h.data;
    for (let i = 0; i < h.shape[0]; i++) for (let j = 0; j < c; j++) mean[j] += d[i * c + j];
    n += h.shape[0];
  }
  for (let j = 0; j < c; j++) mean[j] /= n;
  for (const h of hs) {
    const d = h.data;
    for (let i = 0; i < h.shape[0]; i++)
      for (let j = 0; j < c; j++) {
        const e = d[i * c + j] - mean[j];
        variance[j] += e * e;
      }
  }
  for (let j = 0; j < c; j++) variance[j] /= n;
  return { mean, variance };
}

/**
 * The running variance PyTorch would hold had it averaged the biased batch variances (Keras' convention): the same
 * average without the m/(m-1) factor. Exact for equal batches: running = w0 * 1 + sum_t w_t * v_t * m/(m-1), where the
 * initial 1 keeps weight w0 = (1 - momentum)^k (0 for the cumulative average, whose first update replaces it).
 */
export function biasedRunningVar(bn: BatchNormBase, batchSize: number): Float32Array {
  const k = bn.numBatchesTracked ? bn.numBatchesTracked.data[0] : 0;
  const w0 = bn.momentum === null ? (k > 0 ? 0 : 1) : Math.pow(1 - bn.momentum, k);
  const c = batchSize / (batchSize - 1);
  return bn.runningVar!.data.map((r) => w0 + (r - w0) / c);
}

/** How far running statistics are from population ones: mean |mu_r - mu_p| / sigma_p and mean |ln((var_r+eps)/(var_p+eps))|. */
export function statError(
  bns: readonly BatchNormBase[],
  pop: readonly PopulationStats[],
  vars?: readonly Float32Array[],
): { mean: number; logVar: number } {
  let em = 0;
  let ev = 0;
  let n = 0;
  bns.forEach((bn, k) => {
    const rm = bn.runningMean!.data;
    const rv = vars ? vars[k] : bn.runningVar!.data;
    const p = pop[k];
    for (let j = 0; j < rm.length; j++) {
      em += Math.abs(rm[j] - p.mean[j]) / Math.sqrt(p.variance[j] + bn.eps);
      ev += Math.abs(Math.log((rv[j] + bn.eps) / (p.variance[j] + bn.eps)));
      n++;
    }
  });
  return { mean: em / n, logVar: ev / n };
}

const momentumLabel = (m: number | null) => (m === null ? 'cumulative' : String(m));
const accKey = (b: number) => `accBatch${b}`;

function trials(config: InferenceConfig): TrialSpec[] {
  const out: TrialSpec[] = [];
  for (const m of config.momenta) {
    for (let seed = 0; seed < config.seeds; seed++) out.push({ id: trialId('bn', seed, { momentum: m }), arm: 'bn', seed, params: { momentum: m } });
  }
  return out;
}

function runTrial(spec: TrialSpec, config: InferenceConfig, ctx: TrialContext): TrialOutput {
  const data = ctx.dataset();
  const mom = spec.params.momentum;
  if (mom !== null && typeof mom !== 'number') {
    throw new ArgumentError(`inference: trial param momentum must be a number or null, got ${String(mom)}`);
  }
  const built = buildMlp(
    {
      inputs: inputSize(data),
      hidden: config.hidden,
      classes: data.classes.length,
      activation: config.activation,
      norm: 'bn',
      init: { kind: 'normal', std: config.initStd },
      momentum: mom,
    },
    spec.seed,
  );
  const { model } = built;
  const bns = runningBatchNorms(model);
  const shape = data.inputShape;
  const popSplit = firstN(data.train, Math.min(config.populationSamples, data.train.n), shape);
  const meanErr: Series = [];
  const varErr: Series = [];
  // Population statistics of the current weights at each evaluation, to see the running averages track (or lag) them.
  const track = (step: number) =>
    withBuffersRestored(model, () => {
      const running = bns.map((b) => ({ m: b.runningMean!.data.slice(), v: b.runningVar!.data.slice() }));
      const pop = setPopulationStats(model, popSplit, shape);
      bns.forEach((b, k) => {
        b.runningMean!.data.set(running[k].m);
        b.runningVar!.data.set(running[k].v);
      });
      const e = statError(bns, pop);
      if (Number.isFinite(e.mean)) meanErr.push([step, e.mean]);
      if (Number.isFinite(e.logVar)) varErr.push([step, e.logVar]);
    });
  const r = trainClassifier(model, data, {
    ...trainOptionsOf(config, spec.seed, (d, t) => ctx.progress(d, t)),
    onEval: (step) => track(step),
  });
  const curves: Record<string, Series> = {
    testAccuracy: r.curves.testAccuracy,
    trainLoss: r.curves.trainLoss,
    runningMeanError: meanErr,
    runningVarError: varErr,
  };
  if (r.diverged) return { metrics: divergedMetrics(config, r.finalTestAccuracy), curves, diverged: true, divergedAt: r.divergedAt };
  const metrics = inferenceMetrics(model, bns, data, config, curves);
  return { metrics, curves, diverged: false, divergedAt: null };
}

/** A diverged trial's metrics: the last running-statistics accuracy, everything else null. */
function divergedMetrics(config: InferenceConfig, accRunning: number | null): Record<string, number | null> {
  const metrics: Record<string, number | null> = {
    accRunning,
    accRunningBiased: null,
    accPopulation: null,
    accBatchStats: null,
    trainEvalGap: null,
    meanError: null,
    varErrorUnbiased: null,
    varErrorBiased: null,
  };
  for (const b of config.evalBatchSizes) metrics[accKey(b)] = null;
  return metrics;
}

/**
 * After training: accuracy with running averages (unbiased and biased variance), with exact population statistics,
 * and with the batch statistics of test batches of each eval batch size; how far the running averages lie from the
 * population's. Adds the accuracy-vs-eval-batch curve to `curves`.
 */
function inferenceMetrics(
  model: Sequential,
  bns: BatchNormBase[],
  data: Dataset,
  config: InferenceConfig,
  curves: Record<string, Series>,
): Record<string, number | null> {
  const shape = data.inputShape;
  const test = data.test;
  const acc = (opts: { mode?: 'eval' | 'train'; chunk?: number; limit?: number } = {}) =>
    evaluate(model, test, shape, { limit: config.evalSamples, ...opts }).accuracy;
  const accRunning = acc();
  const biased = bns.map((b) => biasedRunningVar(b, config.batchSize));
  const accRunningBiased = withBuffersRestored(model, () => {
    bns.forEach((b, k) => b.runningVar!.data.set(biased[k]));
    return acc();
  });
  let pop: PopulationStats[] = [];
  const accPopulation = withBuffersRestored(model, () => {
    pop = setPopulationStats(model, data.train, shape);
    return acc();
  });
  const unb = statError(bns, pop);
  const bia = statError(bns, pop, biased);
  // Batch statistics at inference: training-mode forwards in test batches of b (the last short batch dropped so that
  // none has a single sample), running statistics restored afterwards.
  const cache = new Map<number, number | null>();
  const accAt = (b: number) => {
    if (!cache.has(b)) {
      const limit = Math.floor(Math.min(config.evalSamples, test.n) / b) * b;
      cache.set(b, limit >= b ? withBuffersRestored(model, () => acc({ mode: 'train', chunk: b, limit })) : null);
    }
    return cache.get(b)!;
  };
  const metrics: Record<string, number | null> = {};
  const vsBatch: Series = [];
  for (const b of config.evalBatchSizes) {
    const a = accAt(b);
    metrics[accKey(b)] = a;
    if (a !== null) vsBatch.push([b, a]);
  }
  const accBatchStats = accAt(config.batchSize);
  curves.accuracyVsEvalBatch = vsBatch.sort((p, q) => p[0] - q[0]);
  Object.assign(metrics, {
    accRunning,
    accRunningBiased,
    accPopulation,
    accBatchStats,
    trainEvalGap: accBatchStats === null ? null : accBatchStats - accRunning,
    meanError: unb.mean,
    varErrorUnbiased: unb.logVar,
    varErrorBiased: bia.logVar,
  });
  return metrics;
}

/** The momentum the single-momentum findings use: PyTorch's default 0.1 when run, else the first of the config. */
function defaultMomentum(config: InferenceConfig): number | null {
  return config.momenta.includes(0.1) ? 0.1 : config.momenta[0];
}

const none = (id: string, claim: string): Finding => ({
  id,
  claim,
  text: 'Not measured: no trial of this momentum finished without diverging.',
  verdict: 'inconclusive',
  values: {},
});

/**
 * Equivalence verdict: 'supported' when the 95% CI of the difference lies within +-margin (TOST), 'contradicted' when
 * it excludes 0 and its mean lies beyond the margin, 'inconclusive' otherwise.
 */
function equivalence(p: Paired): Verdict {
  if (p.cmp.outcome === 'equivalent') return 'supported';
  if (sgn(p) !== 0 && p.cmp.margin !== null && Math.abs(p.cmp.diff) > p.cmp.margin) return 'contradicted';
  return 'inconclusive';
}

function findPopulation(trials: readonly Trial[], config: InferenceConfig): Finding {
  const claim = 'Moving averages of the mini-batch statistics stand in for the population statistics at inference (Algorithm 2)';
  const m = defaultMomentum(config);
  const ts = select(trials, 'bn', { momentum: m });
  const p = paired(ts, ts, 'accRunning', 'accPopulation', { label: 'accuracy, running - population', margin: config.margin });
  if (p.diff.n === 0) return none('running-vs-population', claim);
  const verdict = equivalence(p);
  const tail: Record<Verdict, string> = {
    equivalent: '',
    supported: ` The two agree within ${(config.margin * 100).toFixed(1)} points.`,
    contradicted: ' Running averages cost measurable accuracy against exact population statistics.',
    inconclusive: ` The CI is too wide to call them equivalent within ${(config.margin * 100).toFixed(1)} points.`,
    mixed: '',
  };
  return {
    id: 'running-vs-population',
    claim,
    text:
      `With momentum ${momentumLabel(m)}, running averages gave ${pct(p.a)} test accuracy and exact population statistics of the final weights ` +
      `${pct(p.b)} (${points(p.diff)}, ${seeds(p.diff.n)}).${tail[verdict]}`,
    verdict,
    values: { momentum: momentumLabel(m), margin: config.margin, ...pairedValues('accuracy', p, ['running', 'population']) },
    comparisons: [p.cmp],
  };
}

function findMomentum(trials: readonly Trial[], config: InferenceConfig): Finding {
  const claim = 'Running averages match population statistics whatever their momentum (fast, slow or cumulative)';
  const parts: string[] = [];
  const values: Record<string, number | string | null> = { margin: config.margin };
  const groups: Record<Verdict, string[]> = { supported: [], contradicted: [], equivalent: [], inconclusive: [], mixed: [] };
  const comparisons: Comparison[] = [];
  for (const m of config.momenta) {
    const ts = select(trials, 'bn', { momentum: m });
    const p = paired(
      ts,
      ts,
      'accRunning',
      'accPopulation',
      { label: `accuracy, running - population, momentum ${momentumLabel(m)}`, margin: config.margin },
    );
    const err = paired(ts, ts, 'meanError');
    if (p.diff.n === 0) continue;
    comparisons.push(p.cmp);
    groups[equivalence(p)].push(momentumLabel(m));
    parts.push(`${momentumLabel(m)}: ${points(p.diff)}${Number.isFinite(err.a.mean) ? ` (running mean off by ${err.a.mean.toFixed(3)} sigma)` : ''}`);
    values[`diff.${momentumLabel(m)}`] = Number(p.diff.mean.toPrecision(6));
    values[`diff.${momentumLabel(m)}.half`] = Number.isFinite(p.diff.half) ? Number(p.diff.half.toPrecision(6)) : null;
    values[`meanError.${momentumLabel(m)}`] = Number.isFinite(err.a.mean) ? Number(err.a.mean.toPrecision(6)) : null;
  }
  const measured = groups.supported.length + groups.contradicted.length + groups.inconclusive.length;
  if (measured === 0) return none('momentum', claim);
  // "Whatever the momentum": one momentum clearly off refutes it; all within the margin support it.
  const verdict: Verdict = groups.contradicted.length > 0 ? 'contradicted' : groups.supported.length === measured ? 'supported' : 'inconclusive';
  const pt = `${(config.margin * 100).toFixed(1)} points`;
  const n = Math.min(...config.momenta.map((m) => select(trials, 'bn', { momentum: m }).length));
  const tail: Record<Verdict, string> = {
    equivalent: '',
    supported: ` Every momentum is within ${pt}.`,
    contradicted: ` Momentum ${groups.contradicted.join(', ')} differed from population statistics by more than ${pt}.`,
    mixed: '',
    inconclusive:
      `${groups.supported.length ? ` Within ${pt}: ${groups.supported.join(', ')};` : ''} CI too wide to tell: ${groups.inconclusive.join(', ')}.`,
  };
  return {
    id: 'momentum',
    claim,
    text: `Accuracy with running averages minus with population statistics, by momentum (${seeds(n)} each): ${parts.join('; ')}.${tail[verdict]}`,
    verdict,
    values,
    // A contradiction rests on the momenta that differ; support on all of them.
    comparisons: verdict === 'contradicted' ? comparisons.filter((c) => c.outcome !== 'equivalent') : comparisons,
  };
}

function findUnbiased(trials: readonly Trial[], config: InferenceConfig): Finding {
  const claim = "Algorithm 2's unbiased inference variance m/(m-1) E[var_B] estimates the population variance better than the biased E[var_B]";
  const m = defaultMomentum(config);
  const ts = select(trials, 'bn', { momentum: m });
  const err = paired(ts, ts, 'varErrorUnbiased', 'varErrorBiased', { label: '|log variance ratio|, unbiased - biased' });
  const acc = paired(ts, ts, 'accRunning', 'accRunningBiased');
  if (err.diff.n === 0) return none('unbiased-variance', claim);
  const s = sgn(err);
  const verdict: Verdict = s < 0 ? 'supported' : s > 0 ? 'contradicted' : 'inconclusive';
  const c = config.batchSize / (config.batchSize - 1);
  return {
    id: 'unbiased-variance',
    claim,
    text:
      `At batch ${config.batchSize} (factor ${c.toFixed(3)}) and momentum ${momentumLabel(m)}, the running variance was off the population ` +
      `variance by ${err.a.mean.toFixed(4)} ± ${err.a.half.toFixed(4)} (mean |log ratio|) unbiased vs ${err.b.mean.toFixed(4)} ± ` +
      `${err.b.half.toFixed(4)} biased; accuracy ${pct(acc.a)} vs ${pct(acc.b)} (${points(acc.diff)}, ${seeds(err.diff.n)}).`,
    verdict,
    values: {
      batchSize: config.batchSize,
      momentum: momentumLabel(m),
      ...pairedValues('varError', err, ['unbiased', 'biased']),
      ...pairedValues('accuracy', acc, ['unbiased', 'biased']),
    },
    comparisons: [err.cmp],
  };
}

function findEvalBatch(trials: readonly Trial[], config: InferenceConfig): Finding {
  const claim = 'Inference must not use batch statistics: with them the output depends on the test batch and small test batches lose accuracy';
  const m = defaultMomentum(config);
  const ts = select(trials, 'bn', { momentum: m });
  const sizes = [...config.evalBatchSizes].sort((a, b) => a - b);
  const small = sizes[0];
  const p = paired(ts, ts, accKey(small), 'accRunning', { label: `accuracy, batch ${small} statistics - running`, margin: config.margin });
  if (p.diff.n === 0) return none('eval-batch', claim);
  const s = sgn(p);
  const verdict: Verdict =
    s < 0 && Math.abs(p.diff.mean) > config.margin ? 'supported'
    : p.cmp.outcome === 'equivalent' || s > 0 ? 'contradicted'
    : 'inconclusive';
  const all = sizes.map((b) => `${b}: ${pct(paired(ts, ts, accKey(b)).a)}`).join(', ');
  return {
    id: 'eval-batch',
    claim,
    text:
      `With batch statistics of test batches of ${all}, against ${pct(p.b)} with running averages (momentum ${momentumLabel(m)}); ` +
      `at batch ${small} that is ${points(p.diff)} (${seeds(p.diff.n)}).`,
    verdict,
    values: { smallestBatch: small, momentum: momentumLabel(m), ...pairedValues('accuracy', p, [`batch${small}`, 'running']) },
    comparisons: [p.cmp],
  };
}

function findGap(trials: readonly Trial[], config: InferenceConfig): Finding {
  const claim = 'A trained BN net scores the same in training mode (batch statistics) as in inference mode (running averages)';
  const m = defaultMomentum(config);
  const ts = select(trials, 'bn', { momentum: m });
  const p = paired(ts, ts, 'accBatchStats', 'accRunning', { label: 'accuracy, training mode - inference mode', margin: config.margin });
  if (p.diff.n === 0) return none('train-eval-gap', claim);
  const verdict = equivalence(p);
  return {
    id: 'train-eval-gap',
    claim,
    text:
      `On the test set in batches of ${config.batchSize} (the training batch size), training mode scored ${pct(p.a)} and inference mode ` +
      `${pct(p.b)}: gap ${points(p.diff)} (momentum ${momentumLabel(m)}, ${seeds(p.diff.n)}).`,
    verdict,
    values: { momentum: momentumLabel(m), margin: config.margin, ...pairedValues('accuracy', p, ['trainMode', 'evalMode']) },
    comparisons: [p.cmp],
  };
}

function findings(trials: Trial[], config: InferenceConfig): Finding[] {
  const out = [
    findPopulation(trials, config),
    findMomentum(trials, config),
    findUnbiased(trials, config),
    findEvalBatch(trials, config),
    findGap(trials, config),
  ];
  const div = divergedFinding(trials, {
    claim: 'Every run trains at this learning rate',
    which: (d) => `momenta ${[...new Set(d.map((t) => momentumLabel(t.params.momentum as number | null)))].join(', ')}`,
    consequence: 'the findings above leave them out',
  });
  if (div) out.push(div);
  return out;
}

/** Experiment `inference`: which statistics should a trained BN net use at inference? */
export const inference: Experiment<InferenceConfig> = {
  name: 'inference',
  title: 'BN at inference: running averages vs batch statistics vs population statistics',
  claim:
    'At inference BN uses fixed population statistics, estimated by moving averages of the mini-batch means and unbiased variances, ' +
    'so the output depends on the input only (Ioffe & Szegedy 2015, Sec. 3.1, Algorithm 2).',
  context:
    'PyTorch keeps an exponential average with momentum 0.1 (weight of the new batch; None = cumulative) and the unbiased variance; ' +
    'Keras 0.99 (weight of the old value) and the biased variance. Using batch statistics at inference ' +
    '(a model left in training mode) makes predictions depend on the other samples of the batch, a common pain (pytorch#5406, pytorch#4741). ' +
    'Here a BN net is trained once per momentum and seed, then evaluated on the same test samples with: running averages ' +
    '(unbiased and biased variance), exact population statistics of the final weights over the whole training split ' +
    '(computed layer by layer in one pass), and batch statistics of test batches of several sizes ' +
    '(running statistics restored after each training-mode pass). Momentum changes only the running averages, never training ' +
    '(training-mode BN normalizes with batch statistics), so for one seed every momentum trains the same weights and the ' +
    'comparisons isolate the estimate.',
  schema,
  presets,
  trials,
  runTrial,
  findings,
};
