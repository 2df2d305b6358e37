// Helpers shared by the MLP experiments lr, init, regularization and depth: config fields, grouping, number formatting.
import { z } from 'zod';
import type { Dataset } from '../../data/dataset.js';
import type { Trial } from '../results.js';
import type { TrainOptions } from '../train.js';
import { meanCI, type MeanCI } from '../stats.js';

/** The BaseConfig fields as zod schema fields (spread into each experiment's z.object). */
export const baseFields = {
  dataset: z.string().min(1, 'dataset must be a non-empty name (e.g. mnist-10k)'),
  dataDir: z.string().optional(),
  seeds: z.number().int('seeds must be an integer').min(1, 'seeds must be at least 1').max(1000, 'seeds must be at most 1000'),
};

const width = z.number().int('hidden widths must be integers').min(1, 'hidden widths must be at least 1');

/** Zod fields used by several experiments. */
export const fields = {
  steps: z.number().int('steps must be an integer').min(1, 'steps must be at least 1'),
  batchSize: z.number().int('batchSize must be an integer').min(2, 'batchSize must be at least 2 (BN needs more than one value per channel)'),
  lr: z.number().positive('lr must be positive').finite('lr must be finite'),
  /** SGD momentum, kept below 1: at 1 the velocity would never decay. */
  momentum: z.number().min(0).max(0.999),
  evalEvery: z.number().int('evalEvery must be an integer').min(1, 'evalEvery must be at least 1'),
  evalSamples: z.number().int('evalSamples must be an integer').min(1, 'evalSamples must be at least 1'),
  width,
  /** Widths of the hidden layers, input side first. */
  hidden: z.array(width).min(1, 'hidden needs at least one layer'),
  activation: z.enum(['sigmoid', 'tanh', 'relu']),
  /** Std of the N(0, std) weight init. */
  initStd: z.number().positive('initStd must be positive').finite(),
};

/** Values per input sample: an MLP sees the flattened image (buildMlp starts with a Flatten). */
export function inputSize(data: Dataset): number {
  return data.inputShape.reduce((a, b) => a * b, 1);
}

/** Accuracy of guessing uniformly over the classes. */
export function chanceOf(data: Dataset): number {
  return 1 / data.classes.length;
}

/** Trials matching a predicate. */
export function where(trials: readonly Trial[], pred: (t: Trial) => boolean): Trial[] {
  return trials.filter(pred);
}

/** Mean and 95% CI over trials of one metric (null/NaN dropped). */
export function metricCI(trials: readonly Trial[], metric: string): MeanCI {
  return meanCI(trials.map((t) => t.metrics[metric]));
}

/** Distinct values of a param over trials, in first-seen order. */
export function distinct<T extends string | number | boolean | null>(trials: readonly Trial[], param: string): T[] {
  const seen: T[] = [];
  for (const t of trials) {
    const v = t.params[param] as T;
    if (!seen.includes(v)) seen.push(v);
  }
  return seen;
}

/** Integer with thousands separators: 1450 -> "1,450". */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** "1,450 ± 120" for step counts (n/a when there are none). */
export function fmtSteps(ci: MeanCI): string {
  return ci.n === 0 ? 'n/a' : `${fmtInt(ci.mean)} ± ${fmtInt(ci.half)}`;
}

/** "95.3% ± 0.4%" */
export function fmtPct(ci: MeanCI): string {
  return ci.n === 0 ? 'n/a' : `${(ci.mean * 100).toFixed(1)}% ± ${(ci.half * 100).toFixed(1)}%`;
}

/** A number in short form: 0.001 -> "0.001", 30 -> "30", 1e-4 -> "1e-4". */
export function fmtNum(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(3)));
  return x.toExponential(1).replace('.0e', 'e').replace('e+', 'e');
}

/** "3 seeds" / "1 seed". */
export function seedsText(n: number): string {
  return `${n} seed${n === 1 ? '' : 's'}`;
}

/** A CI rounded for a finding's values (keeps results.json readable). */
export function round(x: number, digits = 4): number | null {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : null;
}

/** Sample standard deviation of values (two-pass, float64); NaN for fewer than 1 value. */
export function stdOf(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) * (values[i] - mean);
  return Math.sqrt(ss / n);
}

/** Euclidean (Frobenius) norm of an array, accumulated in float64; 0 for null (no gradient yet). */
export function l2norm(v: ArrayLike<number> | null): number {
  if (v === null) return 0;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Keeps only points with finite x and y (a curve in results must hold finite numbers). */
export function finitePoints(points: [number, number][]): [number, number][] {
  return points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
}

/** The config fields every experiment hands to trainClassifier unchanged (momentum absent means plain SGD). */
type TrainFields = Pick<TrainOptions, 'steps' | 'batchSize' | 'lr' | 'momentum' | 'evalEvery' | 'evalSamples'>;

/** trainClassifier options for one seed from an experiment's config; a trial adds its own probes and overrides. */
export function trainOptionsOf(config: TrainFields, seed: number, progress: TrainOptions['progress']): TrainOptions {
  return {
    steps: config.steps,
    batchSize: config.batchSize,
    lr: config.lr,
    momentum: config.momentum,
    evalEvery: config.evalEvery,
    evalSamples: config.evalSamples,
    seed,
    progress,
  };
}
