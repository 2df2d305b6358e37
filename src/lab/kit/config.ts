// Config fields every experiment's schema shares (zod), and the training options and dataset facts derived from them.
import { z } from 'zod';
import type { Dataset } from '../../data/dataset.js';
import type { TrainOptions } from '../train.js';

/** An integer field >= min whose every error names it ("steps must be a number", "... an integer", "... at least 1"). */
export const intField = (what: string, min: number) =>
  z.number({ invalid_type_error: `${what} must be a number` }).int(`${what} must be an integer`).min(min, `${what} must be at least ${min}`);

/** A number field whose type error names it. */
const numField = (what: string) => z.number({ invalid_type_error: `${what} must be a number` });

/** The BaseConfig fields as zod schema fields (spread into each experiment's z.object). */
export const baseFields = {
  dataset: z.string().min(1, 'dataset must be a non-empty name (e.g. mnist-10k)'),
  dataDir: z.string().optional(),
  seeds: intField('seeds', 1).max(1000, 'seeds must be at most 1000'),
};

const width = intField('hidden widths', 1);

/** Zod fields used by several experiments. */
export const fields = {
  steps: intField('steps', 1),
  batchSize: z
    .number({ invalid_type_error: 'batchSize must be a number' })
    .int('batchSize must be an integer')
    .min(2, 'batchSize must be at least 2 (BN needs more than one value per channel)'),
  lr: numField('lr').positive('lr must be positive').finite('lr must be finite'),
  /** SGD momentum, kept below 1: at 1 the velocity would never decay. */
  momentum: numField('momentum').min(0, 'momentum must be in [0, 0.999]').max(0.999, 'momentum must be in [0, 0.999]'),
  evalEvery: intField('evalEvery', 1),
  evalSamples: intField('evalSamples', 1),
  width,
  /** Widths of the hidden layers, input side first. */
  hidden: z.array(width).min(1, 'hidden needs at least one layer'),
  activation: z.enum(['sigmoid', 'tanh', 'relu']),
  /** Std of the N(0, std) weight init. */
  initStd: numField('initStd').positive('initStd must be positive').finite('initStd must be finite'),
};

/** The six training fields most experiments take unchanged to trainClassifier (see trainOptionsOf). */
export const trainFields = {
  steps: fields.steps,
  batchSize: fields.batchSize,
  lr: fields.lr,
  momentum: fields.momentum,
  evalEvery: fields.evalEvery,
  evalSamples: fields.evalSamples,
};

/** Values per input sample: an MLP sees the flattened image (buildMlp starts with a Flatten). */
export function inputSize(data: Dataset): number {
  return data.inputShape.reduce((a, b) => a * b, 1);
}

/** Accuracy of guessing uniformly over the classes. */
export function chanceOf(data: Dataset): number {
  return 1 / data.classes.length;
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
