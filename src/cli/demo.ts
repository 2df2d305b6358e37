// `bnlab demo`: trains a small MLP on two moons with and without BN and prints test accuracy (a few seconds).
import type { Command } from 'commander';
import { loadDataset } from '../data/index.js';
import { backendInfo } from '../kernels/select.js';
import { buildMlp } from '../lab/models.js';
import { trainClassifier } from '../lab/train.js';

/** What the demo measured for one model. */
export interface DemoResult {
  norm: 'bn' | 'none';
  accuracy: number;
  ms: number;
}

/**
 * Trains 2-32-32-2 tanh MLPs on moons (1,000 train / 500 test, noise 0.2) for `steps` SGD steps
 * (batch 32, lr 0.1), one with BN after each hidden layer and one without; same seed, same batches.
 */
export function runDemo(steps = 600, seed = 0): DemoResult[] {
  const data = loadDataset('moons', { noise: 0.2, seed });
  return (['bn', 'none'] as const).map((norm) => {
    const t0 = performance.now();
    const { model } = buildMlp({ inputs: 2, hidden: [32, 32], classes: 2, activation: 'tanh', norm, init: { kind: 'default' } }, seed);
    const r = trainClassifier(model, data, { steps, batchSize: 32, lr: 0.1, evalEvery: steps, seed });
    return { norm, accuracy: r.finalTestAccuracy, ms: performance.now() - t0 };
  });
}

/** Registers `bnlab demo`: about a second with OpenBLAS, a few without. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train a small MLP on two moons, with and without BN, and print test accuracy')
    .action(() => {
      console.log(
        'bnlab demo: two moons (1,000 train / 500 test points), MLP 2-32-32-2 tanh, SGD lr 0.1, batch 32, 600 steps; ' +
          `backend ${backendInfo().name}`,
      );
      for (const r of runDemo()) {
        const arm = r.norm === 'bn' ? 'with BN   ' : 'without BN';
        console.log(`  ${arm}  test accuracy ${(100 * r.accuracy).toFixed(1)}%  (${(r.ms / 1000).toFixed(2)} s)`);
      }
      console.log('next: bnlab list (the experiments), bnlab run fig1 (the paper\'s Figure 1), npm start (all of them, with a report)');
    });
}
