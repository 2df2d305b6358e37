// Shared helpers of the io tests: the PyTorch fixtures, the nets they hold (built the bnlab way), and max abs diff.
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor/tensor.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d, Linear } from '../../src/nn/layers.js';
import { AvgPool2d, Flatten, MaxPool2d, ReLU } from '../../src/nn/activation.js';
import { BatchNorm2d } from '../../src/nn/norm/batchnorm.js';
import { buildMlp, type MlpSpec } from '../../src/lab/models.js';
import { Rng } from '../../src/tensor/rng.js';

export interface Enc {
  shape: number[];
  data: number[];
}
export interface NetCase {
  x: Enc;
  y_eval: Enc;
  y_train: Enc;
}
export interface IoFixture {
  torch: string;
  fig1: NetCase;
  cnn: NetCase;
  dtypes: Record<string, Enc & { dtype: string }>;
}

/** Path of test/fixtures/<name>. */
export const fixturePath = (name: string): string => new URL(`../fixtures/${name}`, import.meta.url).pathname;

/** test/fixtures/io_outputs.json (scripts/fixtures_io.py). */
export const loadIoFixture = (): IoFixture => JSON.parse(readFileSync(fixturePath('io_outputs.json'), 'utf8')) as IoFixture;

export const fromEnc = (e: Enc): Tensor => new Tensor(Float32Array.from(e.data), e.shape);

/** The paper's Figure 1 net as the lab builds it (784-100-100-100-10, Linear-BN-Sigmoid). */
export const FIG1_SPEC: MlpSpec = { inputs: 784, hidden: [100, 100, 100], classes: 10, activation: 'sigmoid', norm: 'bn', init: { kind: 'normal',
  std: 0.1 } };
export const fig1Net = (seed = 1): Sequential => buildMlp(FIG1_SPEC, seed).model;

/** The fixture's CNN on (N, 1, 12, 12): conv-BN2d-ReLU-maxpool, conv(bias)-BN2d-ReLU-avgpool, Flatten, Linear. */
export function cnnNet(seed = 1): Sequential {
  const rng = new Rng(seed);
  return new Sequential(
    new Conv2d(1, 4, 3, { padding: 1, bias: false, rng }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
    new Conv2d(4, 8, 3, { padding: 1, rng }), new BatchNorm2d(8), new ReLU(), new AvgPool2d(2),
    new Flatten(), new Linear(72, 10, { rng }),
  );
}

/** max |a - b| over all elements (NaN if the lengths differ or any value is NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}
