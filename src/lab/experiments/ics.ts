// Experiment `ics`: internal covariate shift two ways (input drift, Santurkar's gradient change), loss smoothness, noisy BN.
import { z } from 'zod';
import type { Experiment, TrialContext, TrialOutput, TrialSpec } from '../experiment.js';
import { trialId } from '../experiment.js';
import type { Finding, Series, Trial, Verdict } from '../results.js';
import { buildMlp, DistributionNoise, type BuiltMlp } from '../models.js';
import { trainClassifier } from '../train.js';
import { crossEntropy } from '../../ops/loss.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Dataset } from '../../data/dataset.js';
import { baseFields, fields, inputSize, trainOptionsOf } from '../kit/config.js';
import { meanCI } from '../stats.js';
import { num, paired, pairedValues, pct, points, seeds, select, sgn, type Paired } from '../kit/paired.js';
import { divergedFinding } from '../kit/diverged.js';

/** The arms: the paper's net without and with BN, and Santurkar et al.'s BN followed by fresh random noise every step. */
export const ICS_ARMS = ['plain', 'bn', 'noisy-bn'] as const;
export type IcsArm = (typeof ICS_ARMS)[number];

const schema = z
  .object({
    ...baseFields,
    arms: z
      .array(z.enum(ICS_ARMS))
      .min(1, 'arms needs at least one of plain, bn, noisy-bn')
      .refine((a) => new Set(a).size === a.length, 'arms must not repeat'),
    steps: fields.steps,
    batchSize: fields.batchSize,
    lr: fields.lr,
    hidden: fields.hidden,
    activation: fields.activation,
    /** Std of the N(0, std) weight init ("small random Gaussians", as the paper's MNIST net). */
    initStd: fields.initStd,
    evalEvery: fields.evalEvery,
    evalSamples: fields.evalSamples,
    /** Probes run at step 1 and every probeEvery steps. */
    probeEvery: z.number().int('probeEvery must be an integer').min(1, 'probeEvery must be at least 1'),
    /** Size of the fixed probe batch (the first training samples) whose pre-activations are tracked. */
    probeSize: z.number().int('probeSize must be an integer').min(2, 'probeSize must be at least 2 (BN needs more than one value per unit)'),
    /** Step sizes eta of the line probe theta - eta * grad (absolute, the same for every arm, as Santurkar et al.). */
    stepSizes: z.array(z.number().positive('stepSizes must be positive').finite()).min(1, 'stepSizes needs at least one step size'),
    /** Noise of the noisy-bn arm: per unit y * s + b, s ~ U(1, 1 + scale), b ~ U(-shift, shift), new every step. */
    noise: z
      .object({
        shift: z.number().min(0, 'noise.shift must be >= 0').finite(),
        scale: z.number().min(0, 'noise.scale must be >= 0').finite(),
      })
      .strict(),
  })
  .strict();

/** Config of the `ics` experiment. */
export type IcsConfig = z.infer<typeof schema>;

const paperNet = { hidden: [100, 100, 100], activation: 'sigmoid' as const, initStd: 0.1, lr: 0.5, batchSize: 60 };

const presets: { tiny: IcsConfig; quick: IcsConfig; full: IcsConfig } = {
  tiny: {
    dataset: 'mnist-10k',
    seeds: 2,
    arms: [...ICS_ARMS],
    steps: 24,
    batchSize: 16,
    lr: 0.5,
    hidden: [16, 16],
    activation: 'sigmoid',
    initStd: 0.1,
    evalEvery: 12,
    evalSamples: 200,
    probeEvery: 8,
    probeSize: 32,
    stepSizes: [0.25, 1],
    noise: { shift: 1, scale: 1 },
  },
  quick: {
    dataset: 'mnist-10k',
    seeds: 3,
    arms: [...ICS_ARMS],
    steps: 600,
    ...paperNet,
    evalEvery: 100,
    evalSamples: 1000,
    probeEvery: 50,
    probeSize: 200,
    stepSizes: [0.125, 0.25, 0.5, 1, 2],
    noise: { shift: 1, scale: 1 },
  },
  full: {
    dataset: 'mnist-10k',
    seeds: 5,
    arms: [...ICS_ARMS],
    steps: 5000,
    ...paperNet,
    evalEvery: 250,
    evalSamples: 2000,
    probeEvery: 100,
    probeSize: 500,
    stepSizes: [0.0625, 0.125, 0.25, 0.5, 1, 2, 4],
    noise: { shift: 1, scale: 1 },
  },
};

/** Per-unit mean and std (population) of a (N, F) tensor, accumulated in float64 in two passes. */
export function unitMoments(t: Tensor): { mean: Float64Array; std: Float64Array } {
  const [n, f] = t.shape;
  const d = t.data;
  const mean = new Float64Array(f);
  const std = new Float64Array(f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j] += d[i * f + j];
  for (let j = 0; j < f; j++) mean[j] /= n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < f; j++) {
      const c = d[i * f + j] - mean[j];
      std[j] += c * c;
    }
  for (let j = 0; j < f; j++) std[j] = Math.sqrt(std[j] / n);
  return { mean, std };
}

/** Mean over units of |a_j - b_j|. */
function meanAbsDiff(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += Math.abs(a[j] - b[j]);
  return s / a.length;
}

/** ||a - b||_2, ||a||_2, ||b||_2 and a.b over a list of arrays (one per tensor), in float64. */
function compare(a: readonly Float32Array[], b: readonly Float32Array[]): { dist: number; na: number; nb: number; dot: number } {
  let dd = 0;
  let aa = 0;
  let bb = 0;
  let ab = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    for (let i = 0; i < x.length; i++) {
      const u = x[i];
      const v = y[i];
      dd += (u - v) * (u - v);
      aa += u * u;
      bb += v * v;
      ab += u * v;
    }
  }
  return { dist: Math.sqrt(dd), na: Math.sqrt(aa), nb: Math.sqrt(bb), dot: ab };
}

const finite = (x: number) => Number.isFinite(x);
const avg = (xs: readonly number[]) => {
  const v = xs.filter(finite);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};

/**
 * The probes of one trial, run inside afterBackward (fresh gradients G, parameters before the step's update).
 * Every probe restores parameters, gradients and BN buffers, so training continues as if nothing had run;
 * noisy BN holds the step's noise while probing, so re-runs see the noise the step saw.
 */
class Probes {
  readonly drift = { mean: [] as Series[], std: [] as Series[] };
  readonly ics = { l2: [] as Series[], cos: [] as Series[], rel: [] as Series[] };
  readonly line = { lossRange: [] as Series, gradChange: [] as Series, beta: [] as Series };
  nonFinite = 0;
  private prev: { mean: Float64Array; std: Float64Array }[] | null = null;
  private readonly params: Tensor[];
  private readonly noises: DistributionNoise[];
  private readonly probeX: Tensor;

  constructor(private readonly net: BuiltMlp, data: Dataset, private readonly config: IcsConfig) {
    this.params = net.model.parameters();
    this.noises = net.model.namedModules().flatMap(([, m]) => (m instanceof DistributionNoise ? [m] : []));
    const f = inputSize(data);
    const n = Math.min(config.probeSize, data.train.n);
    this.probeX = new Tensor(data.train.x.subarray(0, n * f), [n, ...data.inputShape]);
    for (let k = 0; k < net.taps.length; k++) {
      this.drift.mean.push([]);
      this.drift.std.push([]);
    }
    for (let i = 1; i < net.linears.length; i++) {
      this.ics.l2.push([]);
      this.ics.cos.push([]);
      this.ics.rel.push([]);
    }
  }

  run(step: number, x: Tensor, y: Int32Array): void {
    const { model } = this.net;
    const p0 = this.params.map((p) => p.data.slice());
    const g0 = this.params.map((p) => (p.grad ? p.grad.slice() : new Float32Array(p.data.length)));
    const bufs = model.buffers();
    const b0 = bufs.map((b) => b.data.slice());
    for (const n of this.noises) n.hold = true;
    try {
      this.probeDrift(step);
      this.probeIcs(step, x, y, p0, g0);
      this.probeLine(step, x, y, p0, g0);
    } finally {
      this.params.forEach((p, k) => {
        p.data.set(p0[k]);
        p.grad = g0[k];
      });
      bufs.forEach((b, k) => b.data.set(b0[k]));
      for (const n of this.noises) n.hold = false;
    }
  }

  /** Moments of each hidden pre-activation on the fixed probe batch, in training mode (what the next layer sees). */
  private probeDrift(step: number): void {
    const taps = this.net.taps;
    for (const t of taps) t.enabled = true;
    noGrad(() => this.net.model.forward(this.probeX));
    const now = taps.map((t) => unitMoments(t.last!));
    for (const t of taps) {
      t.enabled = false;
      t.last = null;
    }
    if (this.prev) {
      now.forEach((m, k) => {
        this.drift.mean[k].push([step, meanAbsDiff(m.mean, this.prev![k].mean)]);
        this.drift.std[k].push([step, meanAbsDiff(m.std, this.prev![k].std)]);
      });
    }
    this.prev = now;
  }

  /** Loss and gradients of all parameters on the batch at the current parameters (null on a non-finite loss). */
  private lossAndGrad(x: Tensor, y: Int32Array): { loss: number; grads: Float32Array[] } | null {
    this.net.model.zeroGrad();
    const loss = crossEntropy(this.net.model.forward(x), y);
    const v = loss.item();
    if (!Number.isFinite(v)) {
      this.nonFinite++;
      return null;
    }
    loss.backward();
    return { loss: v, grads: this.params.map((p) => (p.grad ? p.grad : new Float32Array(p.data.length))) };
  }

  /**
   * Santurkar et al.'s ICS of layer i: G = grad of W_i with every layer at step t; G' = grad of W_i after the
   * layers before i take their SGD step (theta - lr * G), same batch. Records ||G - G'||, ||G - G'|| / ||G||, cos(G, G').
   */
  private probeIcs(step: number, x: Tensor, y: Int32Array, p0: Float32Array[], g0: Float32Array[]): void {
    const { linears } = this.net;
    for (let i = 1; i < linears.length; i++) {
      const wi = this.params.indexOf(linears[i].weight);
      this.params.forEach((p, k) => {
        p.data.set(p0[k]);
        // Parameters listed before W_i are those of the earlier layers (Linear, norm), in module order.
        if (k < wi) for (let e = 0; e < p.data.length; e++) p.data[e] -= this.config.lr * g0[k][e];
      });
      const r = this.lossAndGrad(x, y);
      if (r === null) continue;
      const c = compare([g0[wi]], [r.grads[wi]]);
      this.ics.l2[i - 1].push([step, c.dist]);
      if (c.na > 0 && c.nb > 0) this.ics.cos[i - 1].push([step, c.dot / (c.na * c.nb)]);
      if (c.na > 0) this.ics.rel[i - 1].push([step, c.dist / c.na]);
    }
  }

  /**
   * Santurkar et al.'s smoothness probe: along theta - eta * G for each step size, the range (max - min) of the
   * loss (eta = 0 included), the largest ||grad(theta - eta G) - G|| ("gradient predictiveness"), and the
   * largest ||grad change|| / ||eta G|| (effective beta-smoothness).
   */
  private probeLine(step: number, x: Tensor, y: Int32Array, p0: Float32Array[], g0: Float32Array[]): void {
    this.params.forEach((p, k) => p.data.set(p0[k]));
    const l0 = noGrad(() => crossEntropy(this.net.model.forward(x), y).item());
    const losses = [l0].filter(finite);
    const gn = compare(g0, g0).na;
    let maxChange = NaN;
    let maxBeta = NaN;
    for (const eta of this.config.stepSizes) {
      this.params.forEach((p, k) => {
        const d = p.data;
        const a = p0[k];
        const g = g0[k];
        for (let e = 0; e < d.length; e++) d[e] = a[e] - eta * g[e];
      });
      const r = this.lossAndGrad(x, y);
      if (r === null) continue;
      losses.push(r.loss);
      const ch = compare(r.grads, g0).dist;
      if (!(ch <= maxChange)) maxChange = ch;
      const beta = gn > 0 ? ch / (eta * gn) : NaN;
      if (!(beta <= maxBeta)) maxBeta = beta;
    }
    if (losses.length >= 2) this.line.lossRange.push([step, Math.max(...losses) - Math.min(...losses)]);
    if (finite(maxChange)) this.line.gradChange.push([step, maxChange]);
    if (finite(maxBeta)) this.line.beta.push([step, maxBeta]);
  }
}

const ys = (s: Series) => s.map(([, v]) => v);

function trials(config: IcsConfig): TrialSpec[] {
  const out: TrialSpec[] = [];
  for (const arm of config.arms) for (let seed = 0; seed < config.seeds; seed++) out.push({ id: trialId(arm, seed), arm, seed, params: {} });
  return out;
}

function runTrial(spec: TrialSpec, config: IcsConfig, ctx: TrialContext): TrialOutput {
  const data = ctx.dataset();
  const arm = spec.arm as IcsArm;
  const net = buildMlp(
    {
      inputs: inputSize(data),
      hidden: config.hidden,
      classes: data.classes.length,
      activation: config.activation,
      norm: arm === 'plain' ? 'none' : arm,
      init: { kind: 'normal', std: config.initStd },
      noise: config.noise,
    },
    spec.seed,
  );
  const probes = new Probes(net, data, config);
  const r = trainClassifier(net.model, data, {
    ...trainOptionsOf(config, spec.seed, (d, t) => ctx.progress(d, t)),
    afterBackward: (step, _model, x, y) => {
      if (step === 1 || step % config.probeEvery === 0) probes.run(step, x, y);
    },
  });
  const curves: Record<string, Series> = {
    testAccuracy: r.curves.testAccuracy,
    testLoss: r.curves.testLoss.filter(([, v]) => finite(v)),
    trainLoss: r.curves.trainLoss,
  };
  probes.drift.mean.forEach((c, k) => (curves[`meanDriftL${k + 1}`] = c));
  probes.drift.std.forEach((c, k) => (curves[`stdDriftL${k + 1}`] = c));
  // Layer numbers count Linear layers from 1; ICS starts at layer 2 (layer 1 has no earlier layer).
  probes.ics.l2.forEach((c, k) => (curves[`icsL2L${k + 2}`] = c));
  probes.ics.cos.forEach((c, k) => (curves[`icsCosL${k + 2}`] = c));
  curves.lossRange = probes.line.lossRange;
  curves.gradChange = probes.line.gradChange;
  curves.betaSmoothness = probes.line.beta;
  const pooled = (cs: Series[]) => avg(cs.flatMap(ys));
  const nz = (x: number) => (finite(x) ? x : null);
  const lastLoss = r.curves.trainLoss[r.curves.trainLoss.length - 1];
  return {
    metrics: {
      finalTestAccuracy: r.finalTestAccuracy,
      meanTestAccuracy: nz(avg(ys(r.curves.testAccuracy))),
      finalTrainLoss: r.diverged || !lastLoss ? null : nz(lastLoss[1]),
      meanDrift: nz(pooled(probes.drift.mean)),
      stdDrift: nz(pooled(probes.drift.std)),
      meanDriftLast: nz(avg(ys(probes.drift.mean[probes.drift.mean.length - 1] ?? []))),
      icsL2: nz(pooled(probes.ics.l2)),
      icsRelative: nz(pooled(probes.ics.rel)),
      icsCosine: nz(pooled(probes.ics.cos)),
      lossRange: nz(avg(ys(probes.line.lossRange))),
      gradChange: nz(avg(ys(probes.line.gradChange))),
      betaSmoothness: nz(avg(ys(probes.line.beta))),
      nonFiniteProbes: probes.nonFinite,
    },
    curves,
    diverged: r.diverged,
    divergedAt: r.divergedAt,
  };
}

const missing = (id: string, claim: string, need: string): Finding => ({
  id,
  claim,
  text: `Not measured: this finding needs the arms ${need} with at least one trial each.`,
  verdict: 'inconclusive',
  values: {},
});

/** Verdict of "arm a lowers metric m relative to b" from the sign of the paired difference. */
const lowers = (p: Paired): -1 | 0 | 1 => sgn(p);

function findDrift(trials: readonly Trial[]): Finding {
  const claim = "BN reduces internal covariate shift: each hidden layer's input distribution changes less from step to step (Ioffe & Szegedy 2015)";
  const bn = select(trials, 'bn');
  const plain = select(trials, 'plain');
  if (!bn.length || !plain.length) return missing('input-drift', claim, 'bn and plain');
  const m = paired(bn, plain, 'meanDrift', undefined, { label: 'mean drift, BN - plain' });
  const s = paired(bn, plain, 'stdDrift', undefined, { label: 'std drift, BN - plain' });
  const sm = lowers(m);
  const ss = lowers(s);
  let verdict: Verdict;
  if (sm < 0 && ss <= 0) verdict = 'supported';
  else if (sm > 0 && ss >= 0) verdict = 'contradicted';
  else if (sm === 0 && ss === 0) verdict = 'inconclusive';
  else verdict = 'mixed';
  const tail: Record<Verdict, string> = {
    supported: ' BN layer inputs drift less, as the paper says.',
    contradicted: ' BN layer inputs drift more, against the paper.',
    mixed: ' The mean and the spread disagree.',
    inconclusive: ' The difference is within the 95% CI.',
    equivalent: '',
  };
  return {
    id: 'input-drift',
    claim,
    text:
      `Between probes, the per-unit mean of the hidden pre-activations on a fixed batch moved by ${num(m.a)} with BN vs ${num(m.b)} without, ` +
      `the per-unit std by ${num(s.a)} vs ${num(s.b)} (${seeds(m.diff.n)}).${tail[verdict]}`,
    verdict,
    values: { ...pairedValues('meanDrift', m, ['bn', 'plain']), ...pairedValues('stdDrift', s, ['bn', 'plain']) },
    comparisons: [m.cmp, s.cmp],
  };
}

function findNoisy(trials: readonly Trial[]): Finding {
  const claim = "BN helps because it stabilizes layer-input distributions, so a BN net with unstable layer inputs " +
    "(noise after BN, new every step) should lose BN's benefit";
  const bn = select(trials, 'bn');
  const noisy = select(trials, 'noisy-bn');
  const plain = select(trials, 'plain');
  if (!bn.length || !noisy.length) return missing('noisy-bn', claim, 'noisy-bn and bn');
  const drift = paired(noisy, bn, 'meanDrift', undefined, { label: 'mean drift, noisy BN - BN' });
  const acc = paired(noisy, bn, 'finalTestAccuracy', undefined, { label: 'accuracy, noisy BN - BN' });
  const loss = paired(noisy, bn, 'finalTrainLoss');
  const vsPlain = plain.length ? paired(noisy, plain, 'finalTestAccuracy', undefined, { label: 'accuracy, noisy BN - plain' }) : null;
  const unstable = sgn(drift) > 0;
  const worseThanBn = sgn(acc) < 0;
  const betterThanPlain = vsPlain !== null && sgn(vsPlain) > 0;
  let verdict: Verdict;
  let tail: string;
  if (!unstable) {
    verdict = 'inconclusive';
    tail = ' The noise did not make layer inputs measurably less stable than with BN, so the ablation tests nothing.';
  } else if (!worseThanBn) {
    verdict = 'contradicted';
    tail = ' Layer inputs were far less stable, yet accuracy was not measurably below BN: stability is not what BN buys ' +
      'here (as Santurkar et al. report).';
  } else if (betterThanPlain) {
    verdict = 'mixed';
    tail = ' The noise cost accuracy, but the noisy BN net still beat the plain net.';
  } else {
    verdict = 'supported';
    tail = " With unstable inputs the BN net lost BN's benefit.";
  }
  const plainText = vsPlain ? `, plain ${pct(vsPlain.b)}` : '';
  return {
    id: 'noisy-bn',
    claim,
    text:
      `With noise after BN the layer-input mean drifted ${num(drift.a)} per probe vs ${num(drift.b)} with BN alone; ` +
      `test accuracy ${pct(acc.a)} vs ${pct(acc.b)} (${points(acc.diff)}${plainText}; ` +
      `${seeds(acc.diff.n)}), final training loss ${num(loss.a)} vs ${num(loss.b)}.${tail}`,
    verdict,
    values: {
      ...pairedValues('meanDrift', drift, ['noisy-bn', 'bn']),
      ...pairedValues('accuracy', acc, ['noisy-bn', 'bn']),
      ...pairedValues('trainLoss', loss, ['noisy-bn', 'bn']),
      'accuracy.plain': vsPlain && finite(vsPlain.b.mean) ? vsPlain.b.mean : null,
    },
    // Against plain only 'mixed' rests on it.
    comparisons: [drift.cmp, acc.cmp, ...(vsPlain ? [{ ...vsPlain.cmp, decides: verdict === 'mixed' }] : [])],
  };
}

function findGradientIcs(trials: readonly Trial[]): Finding {
  const claim =
    "BN reduces internal covariate shift measured as Santurkar et al. do: a layer's gradient changes less when the earlier layers take their step";
  const bn = select(trials, 'bn');
  const plain = select(trials, 'plain');
  if (!bn.length || !plain.length) return missing('gradient-ics', claim, 'bn and plain');
  const cos = paired(bn, plain, 'icsCosine', undefined, { label: 'gradient cosine, BN - plain' });
  const l2 = paired(bn, plain, 'icsL2', undefined, { label: "||G - G'||, BN - plain" });
  const sc = sgn(cos); // +1: BN gradients keep their direction better (less ICS)
  const sl = sgn(l2); // -1: BN gradients move less (less ICS)
  const less = (sc > 0 ? 1 : 0) + (sl < 0 ? 1 : 0);
  const more = (sc < 0 ? 1 : 0) + (sl > 0 ? 1 : 0);
  // "Reduces" needs evidence of less ICS: both measures for 'supported', one (the other within its CI) for 'mixed'.
  const verdict: Verdict = less === 2 ? 'supported' : less === 1 ? 'mixed' : more > 0 ? 'contradicted' : 'inconclusive';
  const tail: Record<Verdict, string> = {
    supported: ' By both measures BN reduces ICS here.',
    contradicted: ' By this measure BN does not reduce ICS: similar or worse, as Santurkar et al. report.',
    mixed: more > 0
      ? ' Cosine and distance point different ways.'
      : ' One measure shows less ICS with BN, the other no difference within the 95% CI.',
    inconclusive: ' Neither difference is outside the 95% CI: BN shows similar ICS, not less.',
    equivalent: '',
  };
  return {
    id: 'gradient-ics',
    claim,
    text:
      `After the earlier layers' SGD step, a layer's weight gradient kept cosine ${num(cos.a)} with its value before with BN vs ${num(cos.b)} ` +
      `without; ||G - G'|| was ${num(l2.a)} vs ${num(l2.b)} (${seeds(cos.diff.n)}).${tail[verdict]}`,
    verdict,
    values: { ...pairedValues('icsCosine', cos, ['bn', 'plain']), ...pairedValues('icsL2', l2, ['bn', 'plain']) },
    comparisons: [cos.cmp, l2.cmp],
  };
}

function findSmoothness(trials: readonly Trial[], config: IcsConfig): Finding {
  const claim = 'BN makes the loss landscape smoother: along the gradient the loss and the gradient change less (Santurkar et al. 2018)';
  const bn = select(trials, 'bn');
  const plain = select(trials, 'plain');
  if (!bn.length || !plain.length) return missing('smoothness', claim, 'bn and plain');
  const lr = paired(bn, plain, 'lossRange', undefined, { label: 'loss range, BN - plain' });
  const gc = paired(bn, plain, 'gradChange', undefined, { label: 'gradient change, BN - plain' });
  const a = sgn(lr);
  const b = sgn(gc);
  let verdict: Verdict;
  if (a < 0 && b < 0) verdict = 'supported';
  else if (a > 0 && b > 0) verdict = 'contradicted';
  else if (a === 0 && b === 0) verdict = 'inconclusive';
  else verdict = 'mixed';
  const tail: Record<Verdict, string> = {
    supported: ' BN smooths the landscape, as Santurkar et al. report.',
    contradicted: ' The BN landscape is rougher here, against Santurkar et al.',
    mixed: ' Loss and gradient disagree (or one difference is within the CI).',
    inconclusive: ' Both differences are within the 95% CI.',
    equivalent: '',
  };
  const etas = `${Math.min(...config.stepSizes)}..${Math.max(...config.stepSizes)}`;
  return {
    id: 'smoothness',
    claim,
    text:
      `Moving along -grad by step sizes ${etas}, the loss varied over a range of ${num(lr.a)} with BN vs ${num(lr.b)} without, ` +
      `and the gradient changed by up to ${num(gc.a)} vs ${num(gc.b)} (L2; ${seeds(lr.diff.n)}).${tail[verdict]}`,
    verdict,
    values: { ...pairedValues('lossRange', lr, ['bn', 'plain']), ...pairedValues('gradChange', gc, ['bn', 'plain']) },
    comparisons: [lr.cmp, gc.cmp],
  };
}

function findings(trials: Trial[], config: IcsConfig): Finding[] {
  const out = [findDrift(trials), findGradientIcs(trials), findSmoothness(trials, config), findNoisy(trials)];
  const div = divergedFinding(trials, {
    claim: 'Every run trains at this learning rate',
    which: (d) => `${[...new Set(d.map((t) => t.arm))].join(', ')}; at step ${num(meanCI(d.map((t) => t.divergedAt)))}`,
    consequence: 'their probes stop there',
  });
  if (div) out.push(div);
  return out;
}

/** Experiment `ics`: does BN reduce internal covariate shift, and is that why it helps? */
export const ics: Experiment<IcsConfig> = {
  name: 'ics',
  title: 'Internal covariate shift: input drift, gradient change, loss smoothness and noisy BN',
  claim:
    'BN works by reducing internal covariate shift: it keeps the distribution of each layer input fixed during training ' +
    '(Ioffe & Szegedy 2015, Sec. 2-3).',
  context:
    "Santurkar et al. (2018) measure ICS as the change of a layer's gradient after the earlier layers update and find BN nets have similar or " +
    "worse ICS; noise injected after BN (non-zero mean, non-unit variance, new every step) makes layer inputs unstable yet trains about as well as " +
    "BN. What BN improves, they argue, is the smoothness of the loss landscape (loss and gradient Lipschitzness, 'gradient predictiveness'). " +
    "Here: input drift = mean |change| of per-unit mean/std of each hidden pre-activation on a fixed probe batch (training mode) between probes; " +
    "ICS = ||G - G'|| and cos(G, G') of each layer's weight gradient before/after the earlier layers' plain SGD step on the same batch " +
    "(noisy BN keeps that step's noise); smoothness = loss range and largest gradient change along theta - eta*grad " +
    "over a fixed set of step sizes.",
  schema,
  presets,
  trials,
  runTrial,
  findings,
};
