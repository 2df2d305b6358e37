// ONNX export of residual nets (Add, Relu, Mul by alpha, GlobalAveragePool) run in the real onnxruntime-node: bnlab's eval outputs (max abs diff
// <= 1e-5).
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../src/io/onnx.js';
import { onnx } from '../../src/io/onnx-graph.js';
import { Module } from '../../src/nn/module.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d, Linear } from '../../src/nn/layers.js';
import { AdaptiveAvgPool2d, Flatten, ReLU } from '../../src/nn/activation.js';
import { BatchNorm2d } from '../../src/nn/norm/batchnorm.js';
import { Residual } from '../../src/nn/residual.js';
import { resnet, vgg } from '../../src/nn/models.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randn } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/rng.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { maxAbsDiff } from './helpers.js';

const TOL = 1e-5;

async function runOrt(bytes: Uint8Array, x: Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', x.data.slice(), [...x.shape]) });
  return out.output.data as Float32Array;
}

/** A few training-mode forwards so BN running statistics are far from (0, 1), then eval. */
function warmUp(model: Module, shape: number[], rng: Rng): void {
  model.train();
  for (let i = 0; i < 5; i++) noGrad(() => model.forward(randn([8, ...shape.slice(1)], { rng, std: 2, mean: 0.5 })));
  model.eval();
}

/** bnlab eval output vs onnxruntime on the same input (a graph made for batch 1, run on the batch of x). */
async function compare(label: string, model: Module, x: Tensor): Promise<void> {
  const expected = noGrad(() => model.eval().forward(x)).data;
  const bytes = exportOnnx(model, { inputShape: [1, ...x.shape.slice(1)] });
  const d = maxAbsDiff(await runOrt(bytes, x), expected);
  console.log(`${label}: bnlab vs onnxruntime max abs diff ${d.toExponential(2)}`);
  expect(d, label).toBeLessThanOrEqual(TOL);
}

describe('residual nets in onnxruntime-node', () => {
  it('ResNet-8 with BN (trained running statistics), on 28x28 inputs', async () => {
    const rng = new Rng(1);
    const m = resnet({ depth: 8, norm: 'bn' }, 1);
    warmUp(m, [1, 1, 28, 28], rng);
    await compare('ResNet-8 BN', m, randn([3, 1, 28, 28], { rng }));
  });

  it('ResNet-8 without norm, with SkipInit (alpha moved off 0)', async () => {
    const rng = new Rng(2);
    const m = resnet({ depth: 8, norm: 'skipinit', widths: [8, 8, 16] }, 2);
    m.blocks.forEach((b, i) => (b.alpha!.data[0] = 0.3 + 0.2 * i));
    await compare('ResNet-8 SkipInit', m, randn([2, 1, 28, 28], { rng }));
  });

  it('a generic Residual with a projection shortcut, act null, in a Sequential with global average pooling', async () => {
    const rng = new Rng(3);
    const block = new Residual(new Sequential(new Conv2d(3, 4, 3, { stride: 2, padding: 1, rng }), new BatchNorm2d(4), new ReLU(), new Conv2d(4,
      4, 3, { padding: 1, rng })), {
      shortcut: new Sequential(new Conv2d(3, 4, 1, { stride: 2, rng })),
      act: null,
    });
    const m = new Sequential(block, new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 2, { rng }));
    warmUp(m, [1, 3, 9, 9], rng);
    await compare('Residual + GAP', m, randn([4, 3, 9, 9], { rng }));
  });

  it('the VGG net with GroupNorm', async () => {
    const rng = new Rng(4);
    const m = vgg({ norm: 'group', widths: [8, 16] }, 4);
    for (const p of m.parameters()) p.data.set(randn(p.shape, { rng, std: 0.3 }).data);
    await compare('VGG GroupNorm', m, randn([2, 1, 28, 28], { rng }));
  });
});

describe('the exported residual graph', () => {
  it('names nodes after torchvision keys, has Add, Relu and GlobalAveragePool, initializers under the state-dict names', () => {
    const m = resnet({ depth: 8, norm: 'bn' }, 1);
    const graph = onnx.ModelProto.decode(exportOnnx(m, { inputShape: [1, 1, 28, 28] })).graph!;
    const ops = graph.node!.map((n) => n.opType);
    expect(ops.filter((o) => o === 'Add').length).toBe(3);
    expect(ops).toContain('GlobalAveragePool');
    const inits = graph.initializer!.map((t) => t.name);
    for (const k of ['conv1.weight', 'layer1.0.conv1.weight', 'layer2.0.bn2.running_var', 'layer2.0.downsample.0.weight',
      'layer3.0.downsample.1.bias', 'fc.weight']) expect(inits).toContain(k);
  });

  it('foldBn folds every BN of a ResNet (stem, blocks, shortcuts) into its conv: no BatchNormalization node, same outputs', async () => {
    const rng = new Rng(5);
    const m = resnet({ depth: 8, norm: 'bn' }, 5);
    warmUp(m, [1, 1, 28, 28], rng);
    const bytes = exportOnnx(m, { inputShape: [1, 1, 28, 28], foldBn: true });
    const ops = onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('BatchNormalization');
    const x = randn([2, 1, 28, 28], { rng });
    const d = maxAbsDiff(await runOrt(bytes, x), noGrad(() => m.eval().forward(x)).data);
    expect(d).toBeLessThanOrEqual(1e-4);
  });
});
