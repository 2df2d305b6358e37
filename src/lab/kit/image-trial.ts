// The convnet experiments' shared parts: image-dataset and build-check config fields, and one training trial's standard metrics.
import { z } from 'zod';
import type { Dataset } from '../../data/dataset.js';
import type { Module } from '../../nn/module.js';
import type { SpecProblem } from '../../nn/models.js';
import type { TrialContext, TrialOutput } from '../experiment.js';
import { ArgumentError } from '../../tensor/errors.js';
import { stepsToReach, trainClassifier } from '../train.js';
import { chanceOf, trainOptionsOf } from './config.js';
import { finitePoints } from './trials.js';

/** Datasets of 28x28 grey images: the only ones a convnet can take (the synthetic sets are points, not images). */
export const IMAGE_DATASETS = ['mnist-10k', 'fashion-mnist', 'mnist'] as const;

/** Side of the images in IMAGE_DATASETS: what a config is checked against before any trial runs. */
export const IMAGE_SIZE = 28;

/** The dataset field of a convnet experiment: an image dataset, named in the error otherwise. */
export const imageDataset = z
  .string()
  .refine(
    (d) => (IMAGE_DATASETS as readonly string[]).includes(d),
    (d) => ({ message: `dataset must be an image dataset (${IMAGE_DATASETS.join(', ')}) for a convnet, got '${d}'` }),
  );

/**
 * Adds one zod issue per distinct build problem (from vggProblems / resnetProblems) to a config's superRefine, under
 * the config key the spec field comes from (`fieldOf` maps spec fields that the config names differently, e.g.
 * imageSize to inputPool). A problem shared by every build is said once ("every arm's ResNet cannot be built: ..."),
 * else with the builds it concerns ("the ResNet of arm bn, none ..."): `kind` names what labels a build, `noun` the net.
 */
export function addBuildIssues(
  ctx: z.RefinementCtx,
  builds: readonly { label: string; problems: readonly SpecProblem[] }[],
  kind: string,
  noun: string,
  fieldOf: Record<string, string> = {},
): void {
  const byProblem = new Map<string, { p: SpecProblem; labels: string[] }>();
  for (const { label, problems } of builds) {
    for (const p of problems) {
      const key = `${p.field}\n${p.reason}`;
      if (!byProblem.has(key)) byProblem.set(key, { p, labels: [] });
      byProblem.get(key)!.labels.push(label);
    }
  }
  for (const { p, labels } of byProblem.values()) {
    const whose = labels.length === builds.length && builds.length > 1 ? `every ${kind}'s ${noun}` : `the ${noun} of ${kind} ${labels.join(', ')}`;
    ctx.addIssue({ code: 'custom', path: [fieldOf[p.field] ?? p.field], message: `${whose} cannot be built: ${p.field}: ${p.reason}` });
  }
}

/** Throws an ArgumentError when the dataset's samples are not single images of the size the config was checked for. */
export function expectImages(data: Dataset, experiment: string): void {
  const s = data.inputShape;
  if (s.length !== 3 || s[1] !== s[2]) {
    const want = 'a convnet needs square images [channels, size, size]';
    throw new ArgumentError(`${experiment}: dataset ${data.name} has samples of shape [${s.join(', ')}]; ${want}`);
  }
}

/** Training settings of one trial (trainClassifier's, plus the accuracy "steps to target" counts to). */
export interface ImageTrialOptions {
  steps: number;
  batchSize: number;
  lr: number;
  momentum: number;
  evalEvery: number;
  evalSamples: number;
  seed: number;
  /** Test accuracy whose first crossing is "steps to target"; null: not counted. */
  target: number | null;
}

/**
 * Trains `model` and returns the metrics every convnet finding reads: finalTestAccuracy (chance when diverged),
 * bestTestAccuracy, stepsToTarget (null when never reached or diverged: a run that blew up did not succeed),
 * trained (1 when it did not diverge and ended at least at twice chance, as the lr experiment counts it),
 * finalTrainLoss; curves testAccuracy, trainLoss and testLoss.
 */
export function imageTrial(model: Module, data: Dataset, o: ImageTrialOptions, ctx: TrialContext): TrialOutput {
  const r = trainClassifier(model, data, trainOptionsOf(o, o.seed, ctx.progress));
  const acc = r.curves.testAccuracy;
  const lastLoss = r.curves.trainLoss[r.curves.trainLoss.length - 1];
  return {
    metrics: {
      finalTestAccuracy: r.finalTestAccuracy,
      bestTestAccuracy: r.diverged ? null : Math.max(...acc.map(([, a]) => a)),
      stepsToTarget: r.diverged || o.target === null ? null : stepsToReach(acc, o.target),
      trained: !r.diverged && r.finalTestAccuracy >= 2 * chanceOf(data) ? 1 : 0,
      finalTrainLoss: r.diverged || lastLoss === undefined ? null : lastLoss[1],
    },
    curves: { testAccuracy: finitePoints(acc), trainLoss: finitePoints(r.curves.trainLoss), testLoss: finitePoints(r.curves.testLoss) },
    diverged: r.diverged,
    divergedAt: r.divergedAt,
  };
}
