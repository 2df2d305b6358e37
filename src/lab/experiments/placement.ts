// Experiment `placement`: BN before vs after the activation (ReLU, sigmoid), and BN on the inputs, in fig1's MLP and in the cnn net.
import { z } from 'zod';
import { vgg, vggProblems, type VggSpec } from '../../nn/models.js';
import { trialId, type BaseConfig, type Experiment, type TrialContext, type TrialOutput, type TrialSpec } from '../experiment.js';
import { buildMlp, type MlpSpec } from '../models.js';
import type { Finding, Trial, Verdict } from '../results.js';
import { compare, verdictOf, type Comparison } from '../compare.js';
import { meanCI } from '../stats.js';
import { baseFields, fields, intField, inputSize } from '../kit/config.js';
import { fmtInt, fmtPct, fmtSteps, percent, round, seedsText } from '../kit/format.js';
import { addBuildIssues, expectImages, imageDataset, imageTrial, IMAGE_SIZE } from '../kit/image-trial.js';
import { diffText, informational, seedsClause, seedsHint } from '../kit/compare-text.js';
import { autoTarget, censoredSteps } from '../kit/targets.js';

/** none: no BN; before: BN between the layer and its activation (the paper's); after: BN after the activation; input: BN on the inputs only. */
export const PLACEMENTS = ['none', 'before', 'after', 'input'] as const;
export type Placement = (typeof PLACEMENTS)[number];
const NETS = ['mlp', 'cnn'] as const;
type Net = (typeof NETS)[number];
const ACTS = ['relu', 'sigmoid'] as const;
type Act = (typeof ACTS)[number];

/** Display names of the placements. */
export const PLACEMENT_NAMES: Record<Placement, string> = { none: 'no BN', before: 'BN before', after: 'BN after', input: 'BN on inputs' };

const unique = (a: readonly string[]) => new Set(a).size === a.length;
const lrPair = z.object({ relu: fields.lr, sigmoid: fields.lr }).strict();

/** placement's config. */
export interface PlacementConfig extends BaseConfig {
  placements: Placement[];
  nets: Net[];
  activations: Act[];
  /** SGD learning rate per net and activation (sigmoid nets need larger steps), the same for every placement. */
  lrs: { mlp: { relu: number; sigmoid: number }; cnn: { relu: number; sigmoid: number } };
  /** fig1's MLP: hidden widths and the N(0, initStd^2) weights. */
  mlpHidden: number[];
  initStd: number;
  /** The cnn experiment's net: widths per stage, input average pool. */
  cnnWidths: number[];
  inputPool: number;
  steps: number;
  batchSize: number;
  momentum: number;
  evalEvery: number;
  evalSamples: number;
}

const schema = z
  .object({
    ...baseFields,
    dataset: imageDataset,
    placements: z
      .array(z.enum(PLACEMENTS))
      .min(1, `placements needs at least one of ${PLACEMENTS.join(', ')}`)
      .refine(unique, 'placements must not repeat'),
    nets: z.array(z.enum(NETS)).min(1, 'nets needs mlp, cnn or both').refine(unique, 'nets must not repeat'),
    activations: z.array(z.enum(ACTS)).min(1, 'activations needs relu, sigmoid or both').refine(unique, 'activations must not repeat'),
    lrs: z.object({ mlp: lrPair, cnn: lrPair }).strict(),
    mlpHidden: fields.hidden,
    initStd: fields.initStd,
    cnnWidths: z.array(fields.width).min(1, 'cnnWidths needs at least one stage'),
    inputPool: intField('inputPool', 1),
    steps: fields.steps,
    batchSize: fields.batchSize,
    momentum: fields.momentum,
    evalEvery: fields.evalEvery,
    evalSamples: fields.evalSamples,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.nets.includes('cnn')) return;
    const fieldOf = { widths: 'cnnWidths', imageSize: 'cnnWidths' };
    const builds = c.placements.map((p) => ({ label: p, problems: vggProblems(cnnOf(c, p, 'relu')) }));
    addBuildIssues(ctx, builds, 'placement', 'convnet', fieldOf);
  });

/** The convnet of a placement: the cnn experiment's VGG net with BN (or none), before or after the activation, or on the input only. */
export function cnnOf(
  c: Pick<PlacementConfig, 'cnnWidths' | 'inputPool'>,
  p: Placement,
  act: Act,
  inputShape: readonly number[] = [1, IMAGE_SIZE, IMAGE_SIZE],
): VggSpec {
  const bn = p === 'before' || p === 'after';
  const image = { inputPool: c.inputPool, inChannels: inputShape[0], imageSize: inputShape[1] };
  const where = { normPosition: p === 'after' ? ('after' as const) : ('before' as const), inputNorm: p === 'input' };
  return { norm: bn ? 'bn' : 'none', ...where, activation: act, widths: c.cnnWidths, ...image };
}

/** The MLP of a placement: fig1's net with BN (or none) before or after the activation, or on the input only. */
export function mlpOf(c: Pick<PlacementConfig, 'mlpHidden' | 'initStd'>, p: Placement, act: Act, inputs: number, classes: number): MlpSpec {
  const bn = p === 'before' || p === 'after';
  const where = { position: p === 'after' ? ('after' as const) : ('before' as const), inputNorm: p === 'input' };
  return { inputs, hidden: c.mlpHidden, classes, activation: act, norm: bn ? 'bn' : 'none', ...where, init: { kind: 'normal', std: c.initStd } };
}

function runTrial(spec: TrialSpec, c: PlacementConfig, ctx: TrialContext): TrialOutput {
  const data = ctx.dataset();
  const net = spec.params.net as Net;
  const act = spec.params.activation as Act;
  const p = spec.arm as Placement;
  const opts = { ...c, lr: c.lrs[net][act], seed: spec.seed, target: null };
  if (net === 'mlp') {
    const arch = mlpOf(c, p, act, inputSize(data), data.classes.length);
    const { model } = buildMlp(arch, spec.seed);
    const out = imageTrial(model, data, opts, ctx);
    ctx.keepModel?.(model, { kind: 'mlp', spec: arch, inputShape: data.inputShape });
    return out;
  }
  expectImages(data, 'placement');
  const arch = cnnOf(c, p, act, data.inputShape);
  const model = vgg(arch, spec.seed);
  const out = imageTrial(model, data, opts, ctx);
  ctx.keepModel?.(model, { kind: 'vgg', spec: arch, inputShape: data.inputShape });
  return out;
}

// ---- findings -------------------------------------------------------------------------------------

/** Final accuracies closer than this (1 point) are called equivalent, by two one-sided tests. */
export const ACC_MARGIN = 0.01;

interface Group {
  net: Net;
  act: Act;
  label: string;
  trials: Trial[];
  /** fig1's auto target for the group (95% of the best accuracy every seed of the slower placement reached). */
  target: number | null;
}

function groupsOf(trials: readonly Trial[], c: PlacementConfig): Group[] {
  return c.nets.flatMap((net) =>
    c.activations.map((act) => {
      const ts = trials.filter((t) => t.params.net === net && t.params.activation === act);
      return { net, act, label: `${net === 'mlp' ? 'MLP' : 'convnet'}, ${act}`, trials: ts, target: autoTarget(ts)?.target ?? null };
    }),
  );
}

const arm = (g: Group, p: string) => g.trials.filter((t) => t.arm === p);
const acc = (ts: Trial[]) => new Map(ts.map((t) => [t.seed, t.metrics.finalTestAccuracy]));
const steps = (g: Group, p: string, budget: number) => (g.target === null ? new Map<number, number>() : censoredSteps(arm(g, p), g.target, budget));

/** The finding when the placements it compares did not run. */
function missing(id: string, claim: string, need: string, c: PlacementConfig): Finding {
  return { id, claim, text: `Needs placements ${need}; the run had ${c.placements.join(', ')}.`, verdict: 'inconclusive', values: {} };
}

/** supported / contradicted / mixed / inconclusive from per-group verdicts, as the lr experiment's multipliers finding counts them. */
function tally(vs: Verdict[]): Verdict {
  const pro = vs.filter((v) => v === 'supported').length;
  const con = vs.filter((v) => v === 'contradicted').length;
  if (vs.length > 0 && pro === vs.length) return 'supported';
  // No group for the claim and some against it: contradicted, as the lr experiment's multipliers finding counts it.
  if (pro === 0) return con > 0 ? 'contradicted' : 'inconclusive';
  return 'mixed';
}

function speedFinding(trials: readonly Trial[], c: PlacementConfig): Finding {
  const claim = 'BN before the activation reaches a given accuracy sooner than no BN, in the MLP and the convnet, with ReLU and sigmoid';
  if (!c.placements.includes('before') || !c.placements.includes('none')) return missing('speed', claim, 'before and none', c);
  const comps: Comparison[] = [];
  const verdicts: Verdict[] = [];
  const values: Finding['values'] = {};
  const parts = groupsOf(trials, c).map((g) => {
    if (g.target === null) return `${g.label}: every trial diverged`;
    const ci = (p: string) => meanCI([...steps(g, p, c.steps).values()]);
    const head = compare(`steps to ${percent(g.target, 0)} (${g.label}), BN before - no BN`, steps(g, 'before', c.steps), steps(g, 'none', c.steps));
    const others = c.placements
      .filter((p) => p !== 'before' && p !== 'none')
      .map((p) => {
        const label = `steps to ${percent(g.target!, 0)} (${g.label}), ${PLACEMENT_NAMES[p]} - no BN`;
        return informational(compare(label, steps(g, p, c.steps), steps(g, 'none', c.steps)));
      });
    comps.push(head, ...others);
    verdicts.push(verdictOf(head, -1));
    for (const p of c.placements) values[`${g.net}.${g.act}.${p}.steps`] = round(ci(p).mean, 1);
    values[`${g.net}.${g.act}.target`] = g.target;
    const each = c.placements.map((p) => `${PLACEMENT_NAMES[p]} ${fmtSteps(ci(p))}`).join(', ');
    return `${g.label} (target ${percent(g.target, 0)}): ${each}; BN before minus no BN ${diffText(head, 'steps')}${seedsHint(head)}`;
  });
  return {
    id: 'speed',
    claim,
    text:
      "Steps to each group's target (95% of the best accuracy every seed of its slower placement reached; " +
      `misses counted at the ${fmtInt(c.steps)}-step budget, ${seedsText(c.seeds)}). ${parts.join('. ')}.`,
    verdict: tally(verdicts),
    values,
    comparisons: comps,
  };
}

function accuracyFinding(trials: readonly Trial[], c: PlacementConfig): Finding {
  const claim = 'BN before the activation ends at a higher test accuracy than no BN';
  if (!c.placements.includes('before') || !c.placements.includes('none')) return missing('final-accuracy', claim, 'before and none', c);
  const comps: Comparison[] = [];
  const verdicts: Verdict[] = [];
  const values: Finding['values'] = { margin: ACC_MARGIN };
  const parts = groupsOf(trials, c).map((g) => {
    const head = compare(`final accuracy (${g.label}), BN before - no BN`, acc(arm(g, 'before')), acc(arm(g, 'none')), { margin: ACC_MARGIN });
    const others = c.placements
      .filter((p) => p !== 'before' && p !== 'none')
      .map((p) => {
        const label = `final accuracy (${g.label}), ${PLACEMENT_NAMES[p]} - no BN`;
        return informational(compare(label, acc(arm(g, p)), acc(arm(g, 'none')), { margin: ACC_MARGIN }));
      });
    comps.push(head, ...others);
    verdicts.push(verdictOf(head, 1));
    for (const p of c.placements) values[`${g.net}.${g.act}.${p}`] = round(meanCI(arm(g, p).map((t) => t.metrics.finalTestAccuracy)).mean);
    const each = c.placements.map((p) => `${PLACEMENT_NAMES[p]} ${fmtPct(meanCI(arm(g, p).map((t) => t.metrics.finalTestAccuracy)))}`).join(', ');
    const note = head.outcome === 'equivalent' ? ` (within ${percent(ACC_MARGIN, 0)})` : seedsHint(head);
    return `${g.label}: ${each}; BN before minus no BN ${diffText(head, 'points')}${note}`;
  });
  return {
    id: 'final-accuracy',
    claim,
    text: `Test accuracy after ${fmtInt(c.steps)} steps (${seedsText(c.seeds)}). ${parts.join('. ')}.`,
    verdict: tally(verdicts),
    values,
    comparisons: comps,
  };
}

function beforeAfterFinding(trials: readonly Trial[], c: PlacementConfig): Finding {
  const claim = 'BN right before the non-linearity (the paper\'s placement) is at least as good as after it';
  if (!c.placements.includes('before') || !c.placements.includes('after')) return missing('before-vs-after', claim, 'before and after', c);
  const comps: Comparison[] = [];
  const status: ('ok' | 'against' | 'open')[] = [];
  const values: Finding['values'] = {};
  const parts = groupsOf(trials, c).map((g) => {
    const a = compare(`final accuracy (${g.label}), BN before - BN after`, acc(arm(g, 'before')), acc(arm(g, 'after')), { margin: ACC_MARGIN });
    const s = informational(compare(`steps to target (${g.label}), BN before - BN after`, steps(g, 'before', c.steps), steps(g, 'after', c.steps)));
    comps.push(a, s);
    const st = a.outcome === 'higher' || a.outcome === 'equivalent' ? 'ok' : a.outcome === 'lower' ? 'against' : 'open';
    status.push(st);
    values[`${g.net}.${g.act}`] = st;
    const word =
      a.outcome === 'equivalent' ? `the same within ${percent(ACC_MARGIN, 0)}`
      : a.outcome === 'higher' ? 'before ahead'
      : a.outcome === 'lower' ? 'after ahead'
      : `unresolved${seedsClause(a)}`;
    return `${g.label}: accuracy ${diffText(a, 'points')} (${word}); steps ${diffText(s, 'steps')}`;
  });
  const ok = status.filter((x) => x === 'ok').length;
  const against = status.filter((x) => x === 'against').length;
  const verdict: Verdict =
    ok === status.length ? 'supported'
    : ok === 0 && against > 0 ? 'contradicted'
    : against > 0 ? 'mixed'
    : 'inconclusive';
  return {
    id: 'before-vs-after',
    claim,
    text: `BN before minus BN after the activation (${seedsText(c.seeds)}): ${parts.join('. ')}.`,
    verdict,
    values,
    comparisons: comps,
  };
}

function findings(trials: Trial[], c: PlacementConfig): Finding[] {
  return [speedFinding(trials, c), accuracyFinding(trials, c), beforeAfterFinding(trials, c)];
}

const quick: PlacementConfig = {
  dataset: 'mnist-10k',
  seeds: 3,
  placements: ['none', 'before', 'after', 'input'],
  nets: ['mlp', 'cnn'],
  activations: ['relu', 'sigmoid'],
  lrs: { mlp: { relu: 0.1, sigmoid: 0.5 }, cnn: { relu: 0.1, sigmoid: 0.5 } },
  mlpHidden: [100, 100, 100],
  initStd: 0.1,
  cnnWidths: [8, 16],
  inputPool: 2,
  steps: 150,
  batchSize: 60,
  momentum: 0,
  evalEvery: 25,
  evalSamples: 500,
};

/** Where BN goes: before or after the non-linearity, or on the inputs (the paper: "immediately before the nonlinearity"). */
export const placement: Experiment<PlacementConfig> = {
  name: 'placement',
  title: 'Placement: BN before vs after the activation, and on the inputs, in an MLP and a convnet',
  claim:
    'BN goes immediately before the non-linearity (Ioffe & Szegedy, Sec. 3.2): there it speeds up training and lifts accuracy; ' +
    'the paper gives no comparison with other placements.',
  context:
    'Practitioners also put BN after the activation, and the paper offers no measurement for its choice, only the argument that the ' +
    'pre-activation is "more likely to have a symmetric, non-sparse distribution". Santurkar et al. 2018 find BN\'s benefit comes from a smoother ' +
    'loss landscape rather than stable layer inputs, which would make the exact placement matter less. BN on the inputs alone standardizes the ' +
    'data per batch and leaves the hidden layers unnormalized. Plain SGD, one learning rate per net and activation for every placement.',
  schema,
  presets: {
    tiny: { ...quick, mlpHidden: [16, 16], cnnWidths: [4, 8], steps: 20, batchSize: 16, evalEvery: 10, evalSamples: 200 },
    quick,
    full: { ...quick, dataset: 'fashion-mnist', seeds: 5, cnnWidths: [16, 32, 64], inputPool: 1, steps: 2000, evalEvery: 100, evalSamples: 5000 },
  },
  trials(c) {
    const out: TrialSpec[] = [];
    for (let seed = 0; seed < c.seeds; seed++) {
      for (const net of c.nets) {
        for (const activation of c.activations) {
          for (const p of c.placements) out.push({ id: trialId(p, seed, { net, activation }), arm: p, seed, params: { net, activation } });
        }
      }
    }
    return out;
  },
  runTrial,
  findings,
};
