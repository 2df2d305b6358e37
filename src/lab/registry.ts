// The table of experiments: name -> Experiment, in study order; typed so a name without an entry (or the reverse) fails to compile.
import type { BaseConfig, Experiment } from './experiment.js';
import { fig1 } from './experiments/fig1.js';
import { scales } from './experiments/scales.js';
import { lr } from './experiments/lr.js';
import { init } from './experiments/init.js';
import { regularization } from './experiments/regularization.js';
import { depth } from './experiments/depth.js';
import { ics } from './experiments/ics.js';
import { inference } from './experiments/inference.js';
import { batchsize } from './experiments/batchsize.js';
import { cnn } from './experiments/cnn.js';
import { residual } from './experiments/residual.js';
import { placement } from './experiments/placement.js';

/*
 * To add an experiment (lr, init, regularization, depth, ics, inference, batchsize, cnn, residual, placement):
 *   1. write src/lab/experiments/<name>.ts exporting `export const <name>: Experiment<YourConfig> = {...}`
 *      with `name: '<name>'` (test/lab/runner.test.ts checks that each key matches its `name`);
 *   2. import it below and add '<name>' to EXPERIMENT_NAMES at the place it should run in `bnlab study`;
 *   3. add `<name>` to the EXPERIMENTS table. Steps 2 and 3 must agree or tsc fails.
 * Its quick preset shares `npm start`'s budget (9 experiments in 3 minutes on 2 cores): at most ~40 core-seconds.
 * Measured quick presets (CPU seconds with OpenBLAS, `bnlab run <name> --no-report`): fig1 31, scales 8, lr 16,
 * init 20, regularization 11, depth 24, ics 19, inference 20, batchsize 30 (~180 in all, taken before the SIMD
 * kernels; the README gives `npm start`'s current wall time). The convnet experiments (`bnlab run <name> --quick --no-report`,
 * CPU seconds with OpenBLAS on a loaded machine): cnn 24, residual 30-34, placement 23 (12.9, 17.6, 12.3 s wall, 2 jobs).
 */

/** Every experiment, in the order `bnlab study` runs them. */
export const EXPERIMENT_NAMES = [
  'fig1', 'scales', 'lr', 'init', 'regularization', 'depth', 'ics', 'inference', 'batchsize', 'cnn', 'residual', 'placement',
] as const;

/** Name of a registered experiment. */
export type ExperimentName = (typeof EXPERIMENT_NAMES)[number];

/** The experiments by name. */
export const EXPERIMENTS: { readonly [K in ExperimentName]: Experiment<BaseConfig> } = {
  fig1,
  scales,
  lr,
  init,
  regularization,
  depth,
  ics,
  inference,
  batchsize,
  cnn,
  residual,
  placement,
};

/** True if `name` is a registered experiment. */
export function isExperimentName(name: string): name is ExperimentName {
  return (EXPERIMENT_NAMES as readonly string[]).includes(name);
}
