// ONNX export run in the real onnxruntime-node: the same eval outputs as bnlab (max abs diff <= 1e-5), folded or not.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../src/io/onnx.js';
import { onnx } from '../../src/io/onnx-graph.js';
import { ExportError } from '../../src/io/errors.js';
import { loadWeights } from '../../src/io/safetensors-file.js';
import { Module } from '../../src/nn/module.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d, Linear } from '../../src/nn/layers.js';
import { AvgPool2d, Dropout, Flatten, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh } from '../../src/nn/activation.js';
import { BatchNorm1d, BatchNorm2d } from '../../src/nn/norm/batchnorm.js';
import { GroupNorm, LayerNorm } from '../../src/nn/norm/layernorm.js';
import { buildMlp } from '../../src/lab/models.js';
import { loadMnist10kRaw } from '../../src/data/mnist10k.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randn } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/rng.js';
import { ArgumentError } from '../../src/tensor/errors.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { cnnNet, fig1Net, fixturePath, fromEnc, loadIoFixture, maxAbsDiff } from './helpers.js';

const io = loadIoFixture();
const TOL = 1e-5;

async function runOrt(bytes: Uint8Array, x: Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', x.data.slice(), [...x.shape]) });
  return out.output.data as Float32Array;
}

/** Trains `model` a few steps on random batches so its BN running statistics are far from (0, 1). */
function warmUp(model: Module, shape: number[], rng: Rng): void {
  model.train();
  for (let i = 0; i < 5; i++) noGrad(() => model.forward(randn([8, ...shape.slice(1)], { rng, std: 2, mean: 0.5 })));
  model.eval();
}

/** bnlab eval output vs onnxruntime on the same input, for the export with and without folding. */
async function compare(label: string, model: Module, x: Tensor, opts: { opset?: number; fold?: boolean[] } = {}): Promise<void> {
  const expected = noGrad(() => model.eval().forward(x)).data;
  for (const foldBn of opts.fold ?? [false, true]) {
    const bytes = exportOnnx(model, { inputShape: [1, ...x.shape.slice(1)], foldBn, opset: opts.opset });
    const d = maxAbsDiff(await runOrt(bytes, x), expected);
    console.log(`${label}${foldBn ? ' (BN folded)' : ''}: bnlab vs onnxruntime max abs diff ${d.toExponential(2)}`);
    expect(d, `${label} foldBn=${foldBn}`).toBeLessThanOrEqual(TOL);
  }
}

/** The first n MNIST test digits (real inputs), (n, 1, 28, 28) in [0, 1]. */
function realDigits(n: number): Tensor {
  const raw = loadMnist10kRaw();
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = raw.milli[i] / 1000;
  return new Tensor(x, [n, 1, 28, 28]);
}

describe('exported graphs give bnlab eval outputs in onnxruntime-node', () => {
  it('an MLP with BatchNorm1d, ReLU, Tanh, Dropout and Softmax, on random inputs (batch 7 through a graph made for 1)', async () => {
    const rng = new Rng(11);
    const m = new Sequential(new Linear(20, 32, { rng }), new BatchNorm1d(32), new ReLU(), new Dropout(0.3),
      new Linear(32, 16, { bias: false, rng }), new BatchNorm1d(16, { momentum: 0.3 }), new Tanh(), new Linear(16, 5, { rng }), new Softmax());
    warmUp(m, [1, 20], rng);
    await compare('MLP+BN', m, randn([7, 20], { rng }));
  });

  it('the fig1 net with PyTorch-trained weights, on the fixture inputs and on real MNIST digits', async () => {
    const m = fig1Net();
    loadWeights(m, fixturePath('io_fig1.safetensors'));
    await compare('fig1 (fixture x)', m, fromEnc(io.fig1.x));
    await compare('fig1 (MNIST digits)', m, realDigits(32));
    // And onnxruntime against PyTorch directly.
    const ortOut = await runOrt(exportOnnx(m, { inputShape: [1, 1, 28, 28] }), fromEnc(io.fig1.x));
    const d = maxAbsDiff(ortOut, io.fig1.y_eval.data);
    console.log(`fig1: onnxruntime vs PyTorch max abs diff ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(TOL);
  });

  it('the fig1 net as the lab builds it (Taps, Flatten) after bnlab training steps', async () => {
    const m = fig1Net(4);
    warmUp(m, [1, 784], new Rng(2));
    await compare('fig1 (bnlab)', m, randn([16, 784], { rng: new Rng(3) }));
  });

  it('a CNN with BatchNorm2d, max and average pooling, PyTorch-trained', async () => {
    const m = cnnNet();
    loadWeights(m, fixturePath('io_cnn.safetensors'));
    await compare('CNN+BN2d', m, fromEnc(io.cnn.x));
  });

  it('strided and padded convolution and pooling, BN without affine, Flatten(1, 2) as Reshape', async () => {
    const rng = new Rng(5);
    const m = new Sequential(new Conv2d(3, 6, 3, { stride: 2, padding: 1, rng }), new BatchNorm2d(6, { affine: false }), new Sigmoid(),
      new MaxPool2d(3, { stride: 2, padding: 1 }), new Conv2d(6, 4, 1, { rng }), new BatchNorm2d(4), new ReLU(), new AvgPool2d(3, { stride: 1,
        padding: 1 }),
      new Flatten(1, 2), new Flatten(), new Linear(4 * 4 * 4, 3, { rng }));
    warmUp(m, [1, 3, 13, 13], rng);
    await compare('CNN strided', m, randn([5, 3, 13, 13], { rng }));
  });

  it('BatchNorm1d on (N, C, L)', async () => {
    const rng = new Rng(6);
    const m = new Sequential(new BatchNorm1d(4), new ReLU());
    warmUp(m, [1, 4, 5], rng);
    await compare('BN1d (N,C,L)', m, randn([3, 4, 5], { rng }), { fold: [false] });
  });

  it('LayerNorm (opset 17 and decomposed at 15) and GroupNorm (decomposed), in MLPs and a CNN', async () => {
    const rng = new Rng(7);
    for (const norm of ['layer', 'group'] as const) {
      const m = buildMlp({ inputs: 12, hidden: [16, 8], classes: 3, activation: 'relu', norm, groups: 4, init: { kind: 'default' } }, 3).model;
      for (const p of m.parameters()) p.data.set(randn(p.shape, { rng }).data);
      for (const opset of [15, 17, 21]) await compare(`MLP ${norm}norm opset ${opset}`, m, randn([4, 12], { rng }), { opset, fold: [false] });
    }
    const cnn = new Sequential(new Conv2d(2, 6, 3, { rng }), new GroupNorm(3, 6), new ReLU(), new LayerNorm([6, 4, 4], { eps: 1e-3 }),
      new Flatten(), new Linear(96, 2, { rng }));
    for (const p of cnn.parameters()) p.data.set(randn(p.shape, { rng }).data);
    for (const opset of [15, 17]) await compare(`CNN GroupNorm+LayerNorm opset ${opset}`, cnn, randn([3, 2, 6, 6], { rng }), { opset,
      fold: [false] });
  });
});

describe('the exported file', () => {
  it('holds BatchNormalization with the running statistics, momentum = 1 - PyTorch momentum, a symbolic batch dim', () => {
    const m = new Sequential(new Linear(3, 4), new BatchNorm1d(4, { momentum: 0.25, eps: 1e-3 }));
    m.train();
    const bytes = exportOnnx(m, { inputShape: [2, 3] });
    expect(m.training).toBe(true);
    const model = onnx.ModelProto.decode(bytes);
    const graph = model.graph!;
    expect(Number(model.opsetImport[0].version)).toBe(17);
    const bn = graph.node!.find((n) => n.opType === 'BatchNormalization')!;
    const attr = Object.fromEntries(bn.attribute!.map((a) => [a.name, a.f]));
    expect(attr.momentum).toBeCloseTo(0.75, 6);
    expect(attr.epsilon).toBeCloseTo(1e-3, 9);
    expect(bn.input!.slice(1)).toEqual(['1.weight', '1.bias', '1.running_mean', '1.running_var']);
    expect(graph.input![0].type!.tensorType!.shape!.dim![0].dimParam).toBe('N');
    const folded = onnx.ModelProto.decode(exportOnnx(m, { inputShape: [2, 3], foldBn: true }));
    expect(folded.graph!.node!.map((n) => n.opType)).toEqual(['Gemm']);
  });
});

describe('what cannot be exported gives an error naming it', () => {
  class Custom extends Module {
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  it('an unknown module, with its path', () => {
    expect(() => exportOnnx(new Sequential(new Linear(2, 2), new Custom()), { inputShape: [1, 2] })).toThrow(ExportError);
    expect(() => exportOnnx(new Sequential(new Linear(2, 2), new Custom()), { inputShape: [1, 2] })).toThrow(/Custom at '1' has no ONNX rule/);
  });
  it("the lab's noisy BN and a BN without running statistics", () => {
    const noisy = buildMlp({ inputs: 4, hidden: [4], classes: 2, activation: 'relu', norm: 'noisy-bn', init: { kind: 'default' } }, 1).model;
    expect(() => exportOnnx(noisy, { inputShape: [1, 4] })).toThrow(/DistributionNoise at '3' has no ONNX rule/);
    const m = new Sequential(new Linear(2, 2), new BatchNorm1d(2, { trackRunningStats: false }));
    expect(() => exportOnnx(m, { inputShape: [1, 2] })).toThrow(/BatchNorm1d at '1' has no running statistics/);
  });
  it('a probe that applies the activation fused across it (an enabled Tap) instead of a silently lost activation', () => {
    const built = buildMlp({ inputs: 4, hidden: [4], classes: 2, activation: 'sigmoid', norm: 'bn', init: { kind: 'default' } }, 1);
    built.taps[0].enabled = true;
    expect(() => exportOnnx(built.model, { inputShape: [1, 4] })).toThrow(/Tap at '3' does not return its input/);
    built.taps[0].enabled = false;
    expect(() => exportOnnx(built.model, { inputShape: [1, 4] })).not.toThrow();
  });
  it('bad options', () => {
    const m = new Sequential(new Linear(2, 2));
    expect(() => exportOnnx(m, { inputShape: [1, 2], opset: 13 })).toThrow(ArgumentError);
    expect(() => exportOnnx(m, { inputShape: [] })).toThrow(/inputShape/);
    expect(() => exportOnnx(m, { inputShape: [1, 3] })).toThrow(/Linear at '0' rejects its input of shape \[1, 3\] \(check inputShape\)/);
  });
});
