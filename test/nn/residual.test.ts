// BasicBlock, Residual, ResNet and VGG: PyTorch fixtures (test/fixtures/convnets.json) on every backend, gradient checks, keys, fusion,
// validation, buffers.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../src/kernels/blas/index.js';
import { availableBackends, kernels, setBackend } from '../../src/kernels/select.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/rng.js';
import { randn } from '../../src/tensor/create.js';
import { expectSteadyHeap } from '../helpers/steady-heap.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { ArgumentError } from '../../src/tensor/errors.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { Module } from '../../src/nn/module.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d } from '../../src/nn/layers.js';
import { AdaptiveAvgPool2d, ReLU } from '../../src/nn/activation.js';
import { BatchNorm2d } from '../../src/nn/norm/batchnorm.js';
import { deepCopyModule } from '../../src/nn/norm/fold.js';
import { GroupNorm } from '../../src/nn/norm/layernorm.js';
import { BasicBlock, Residual } from '../../src/nn/residual.js';
import { ResNet, resnet, resnetProblems, vgg, vggProblems, type ResNetNorm } from '../../src/nn/models.js';
import { gradCheck, randLeaf } from '../helpers/gradcheck.js';
import { gradCheckKinks } from '../helpers/gradcheck-kinks.js';

interface Enc {
  shape: number[];
  data: number[];
}
interface ModuleCase {
  spec: { kind: 'block' | 'resnet'; inPlanes?: number; planes?: number; stride?: number; norm: string; skipInit?: boolean; depth?: number;
    widths?: number[]; inChannels?: number; imageSize?: number; classes?: number };
  state: Record<string, Enc>;
  x: Enc;
  cotangent: Enc;
  y: Enc;
  dx: Enc;
  paramGrads: Record<string, Enc>;
  runningAfter: Record<string, Enc>;
  yEval: Enc;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/convnets.json', import.meta.url), 'utf8')) as { modules: Record<string, ModuleCase> };

/*
 * vs PyTorch, one training step through BN (batch statistics over 4 x 36 values and fewer) and up to 8 layers:
 * float32 in different orders on both sides, |got - want| <= 1e-5 * max(1, max|want|). Observed worst: printed below.
 */
const TOL = 1e-5;

const fromEnc = (e: Enc, grad = false) => new Tensor(Float32Array.from(e.data), e.shape, grad);

function build(c: ModuleCase): Module {
  const s = c.spec;
  if (s.kind === 'block') return new BasicBlock(s.inPlanes!, s.planes!, { stride: s.stride, norm: s.norm as 'bn' | 'none', skipInit: s.skipInit });
  return resnet({ depth: s.depth!, widths: s.widths, norm: s.norm as ResNetNorm, inChannels: s.inChannels, imageSize: s.imageSize,
    classes: s.classes });
}

function relDiff(got: Float32Array, want: Enc): number {
  let scale = 1;
  for (const v of want.data) scale = Math.max(scale, Math.abs(v));
  let d = 0;
  for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i] - want.data[i]) / scale);
  return got.length === want.data.length ? d : Infinity;
}

const initial = kernels().name;
afterAll(() => {
  setBackend(initial);
});

describe('state dict keys are PyTorch\'s (torchvision names), in its order', () => {
  it.each(Object.keys(fixture.modules))('%s', (name) => {
    const c = fixture.modules[name];
    expect(Object.keys(build(c).stateDict())).toEqual(Object.keys(c.state));
  });
});

describe.each(availableBackends())('blocks and ResNet-8 vs PyTorch on backend %s', (backend) => {
  it.each(Object.keys(fixture.modules))('%s: train-step output, input and parameter gradients, running statistics, eval output', (name) => {
    setBackend(backend);
    const c = fixture.modules[name];
    const m = build(c);
    m.loadStateDict(c.state);
    m.train();
    const x = fromEnc(c.x, true);
    const y = m.forward(x);
    let worst = relDiff(y.data, c.y);
    y.backward(Float32Array.from(c.cotangent.data));
    worst = Math.max(worst, relDiff(x.grad!, c.dx));
    const params = Object.fromEntries(m.namedParameters());
    expect(Object.keys(params).sort()).toEqual(Object.keys(c.paramGrads).sort());
    for (const [k, g] of Object.entries(c.paramGrads)) worst = Math.max(worst, relDiff(params[k].grad!, g));
    const sd = m.stateDict();
    for (const [k, v] of Object.entries(c.runningAfter)) worst = Math.max(worst, relDiff(sd[k].data, v));
    const yEval = noGrad(() => m.eval().forward(fromEnc(c.x)));
    worst = Math.max(worst, relDiff(yEval.data, c.yEval));
    console.log(`${backend} ${name}: max rel diff vs PyTorch ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(TOL);
  });
});

describe.each(availableBackends())('gradient checks on backend %s', (backend) => {
  /*
   * A BasicBlock in training mode (BN with batch statistics) and with SkipInit, contracted with a random cotangent.
   * BN is smooth but not linear over its 36-144 values per channel here: eps 1e-3 (at 1e-2 its curvature alone parts
   * the one-sided quotients), tol 2e-2 (gradCheck's default, chosen for float32 BN). ReLU has
   * kinks: with BN, moving one input moves every normalized value, so some step crosses a kink; gradCheckKinks
   * detects those elements (one-sided quotients disagree) and skips them, at most 5%. Counts printed below.
   */
  it('BasicBlock with a conv1x1 + BN shortcut (stride 2), input and every parameter', () => {
    setBackend(backend);
    const b = new BasicBlock(2, 3, { stride: 2, rng: new Rng(1) }).train();
    for (const bn of [b.bn1!, b.bn2!]) bn.weight!.data.set(randn([3], { rng: new Rng(2), std: 0.3, mean: 1 }).data);
    const r = gradCheckKinks((xx) => b.forward(xx), [randLeaf([4, 2, 6, 6], 3), ...b.parameters()], { eps: 1e-3 });
    console.log(`${backend} BasicBlock+BN: worst ${r.worst.toExponential(2)} over ${r.checked} elements, ${r.skipped} on kinks`);
    expect(r.worst).toBeLessThan(2e-2);
  });

  it('BasicBlock without norm, SkipInit (alpha 0.7), identity shortcut', () => {
    setBackend(backend);
    const b = new BasicBlock(3, 3, { norm: 'none', skipInit: true, rng: new Rng(4) });
    b.alpha!.data[0] = 0.7;
    const r = gradCheckKinks((xx) => b.forward(xx), [randLeaf([2, 3, 4, 4], 5), ...b.parameters()], { eps: 1e-3, tol: 1e-2 });
    console.log(`${backend} BasicBlock SkipInit: worst ${r.worst.toExponential(2)} over ${r.checked} elements, ${r.skipped} on kinks`);
    expect(r.worst).toBeLessThan(1e-2);
  });

  it('AdaptiveAvgPool2d after a conv', () => {
    setBackend(backend);
    const conv = new Conv2d(2, 3, 3, { stride: 2, padding: 1, rng: new Rng(6) });
    const pool = new AdaptiveAvgPool2d(1);
    expect(gradCheck((xx) => pool.forward(conv.forward(xx)), [randLeaf([2, 2, 6, 6], 7), ...conv.parameters()], { tol: 1e-3 })).toBeLessThan(1e-3);
  });
});

describe('BasicBlock and Residual', () => {
  it("run the branch's BN + ReLU fused (Sequential's forwardAct), and the join as one op", () => {
    const b = new BasicBlock(4, 4);
    const spy = vi.spyOn(b.bn1!, 'forwardAct');
    const y = b.forward(randn([2, 4, 5, 5], { rng: new Rng(1) }));
    expect(spy).toHaveBeenCalledWith(expect.anything(), 'relu');
    expect(y.op).toBe('residualAdd');
  });

  it('SkipInit starts as relu(shortcut(x)); alpha gets a gradient, the branch none', () => {
    const b = new BasicBlock(2, 2, { norm: 'none', skipInit: true, rng: new Rng(2) });
    const x = randLeaf([2, 2, 4, 4], 3);
    const y = b.forward(x);
    for (let i = 0; i < y.size; i++) expect(y.data[i]).toBe(Math.max(0, x.data[i]));
    y.backward(randn(y.shape, { rng: new Rng(4) }).data);
    expect(Math.abs(b.alpha!.grad![0])).toBeGreaterThan(0);
    expect(b.conv2.weight.grad!.every((v) => v === 0)).toBe(true);
  });

  it("zeroInitLastBn zeroes bn2's gamma only; it needs a BN", () => {
    const b = new BasicBlock(2, 2, { zeroInitLastBn: true });
    expect(Array.from(b.bn2!.weight!.data)).toEqual([0, 0]);
    expect(Array.from(b.bn1!.weight!.data)).toEqual([1, 1]);
    expect(() => new BasicBlock(2, 2, { norm: 'none', zeroInitLastBn: true })).toThrow(/zeroInitLastBn needs norm 'bn'/);
  });

  it('Residual around any branch: keys branch.* and downsample.*, identity or projection shortcut', () => {
    const rng = new Rng(5);
    const r = new Residual(new Sequential(new Conv2d(2, 4, 3, { stride: 2, padding: 1, bias: false, rng }), new BatchNorm2d(4), new ReLU()), {
      shortcut: new Sequential(new Conv2d(2, 4, 1, { stride: 2, bias: false, rng }), new BatchNorm2d(4)),
    });
    expect(Object.keys(r.stateDict()).filter((k) => k.endsWith('weight'))).toEqual(['branch.0.weight', 'branch.1.weight', 'downsample.0.weight',
      'downsample.1.weight']);
    expect(r.forward(randn([2, 2, 6, 6], { rng })).shape).toEqual([2, 4, 3, 3]);
    const plain = new Residual(new ReLU(), { act: null });
    expect(Array.from(plain.forward(new Tensor(new Float32Array([-1, 2]), [2])).data)).toEqual([-1, 4]);
    expect(() => new Residual(new Conv2d(2, 3, 1)).forward(randn([1, 2, 2, 2]))).toThrow(/needs a projection/);
  });
});

describe('resnet() and vgg()', () => {
  it('ResNet-8 and ResNet-20 on 28x28: blocks per stage, strides, shapes, torchvision init (BN gamma 1)', () => {
    for (const [depth, blocks] of [[8, 3], [20, 9]] as const) {
      const m = resnet({ depth, norm: 'bn' }, 1);
      expect(m.blocks.length).toBe(blocks);
      expect(m.blocks.filter((b) => b.stride === 2).length).toBe(2);
      const y = noGrad(() => m.eval().forward(randn([2, 1, 28, 28], { rng: new Rng(2) })));
      expect(y.shape).toEqual([2, 10]);
    }
    const zero = resnet({ depth: 8, norm: 'bn-zero-gamma' });
    expect(zero.blocks.every((b) => b.bn2!.weight!.data.every((v) => v === 0))).toBe(true);
    expect(resnet({ depth: 8, norm: 'skipinit' }).blocks.every((b) => b.alpha !== null && b.bn1 === null)).toBe(true);
    expect(resnet({ depth: 8, norm: 'none' }).blocks.every((b) => b.alpha === null && b.conv1.bias !== null)).toBe(true);
  });

  it('the same seed builds the same weights', () => {
    const a = resnet({ depth: 8, norm: 'bn' }, 3).stateDict();
    const b = resnet({ depth: 8, norm: 'bn' }, 3).stateDict();
    for (const k of Object.keys(a)) expect(Array.from(a[k].data)).toEqual(Array.from(b[k].data));
  });

  it('refuse specs that cannot build, naming the field and the reason', () => {
    expect(() => resnet({ depth: 10, norm: 'bn' })).toThrow(ArgumentError);
    expect(() => resnet({ depth: 10, norm: 'bn' })).toThrow(/depth: must be 6n \+ 2 .* got 10/);
    expect(resnetProblems({ depth: 8, norm: 'bn', widths: [16, 32] })[0].field).toBe('widths');
    expect(resnetProblems({ depth: 8, norm: 'batch' as ResNetNorm })[0]).toMatchObject({ field: 'norm' });
    expect(resnetProblems({ depth: 8, norm: 'bn', imageSize: 3 })[0]).toMatchObject({ field: 'imageSize' });
    expect(() => vgg({ norm: 'group', widths: [16, 30], groups: 4 })).toThrow(/widths: 30 not divisible by groups = 4/);
    expect(() => vgg({ norm: 'bn', widths: [8, 8, 8, 8, 8], imageSize: 28 })).toThrow(/imageSize: 28 cannot be max-pooled 2x2 once per stage 5 times \(28 -> 14 -> 7 -> 3 -> 1 -> 0\)/);
    expect(vggProblems({ norm: 'bn', convsPerStage: 0, activation: 'gelu' as 'relu' }).map((p) => p.field)).toEqual(['convsPerStage', 'activation']);
    expect(vggProblems({ norm: 'layer', widths: [16, 30] })).toEqual([]);
  });

  it('vgg arms: norm layers, placement, input BN; each trains a step with finite gradients', () => {
    const cases = [
      { norm: 'bn' as const },
      { norm: 'none' as const },
      { norm: 'group' as const, groups: 4 },
      { norm: 'layer' as const, convsPerStage: 2 },
      { norm: 'bn' as const, normPosition: 'after' as const, activation: 'sigmoid' as const, inputNorm: true },
    ];
    for (const spec of cases) {
      const m = vgg(spec, 1);
      const norms = m.layers.filter((l) => l instanceof BatchNorm2d || l instanceof GroupNorm);
      const convs = m.layers.filter((l): l is Conv2d => l instanceof Conv2d);
      expect(norms.length, JSON.stringify(spec)).toBe(spec.norm === 'none' ? 0 : convs.length + (spec.inputNorm ? 1 : 0));
      // Bias only where no norm right after the conv replaces it.
      expect(convs.every((c) => (c.bias !== null) === (spec.norm === 'none' || spec.normPosition === 'after'))).toBe(true);
      if (spec.norm === 'layer') expect((norms[0] as GroupNorm).numGroups).toBe(1);
      const loss = crossEntropy(m.train().forward(randn([4, 1, 28, 28], { rng: new Rng(2) })), [0, 1, 2, 3]);
      loss.backward();
      for (const p of m.parameters()) expect(p.grad!.every(Number.isFinite)).toBe(true);
    }
  });
});

describe('ResNet buffers', () => {
  it('training steps and inference passes take no new heap memory after the first (intermediates are recycled)', () => {
    const m: ResNet = resnet({ depth: 8, norm: 'bn' }, 1);
    const x = randn([16, 1, 28, 28], { rng: new Rng(1) });
    const labels = Array.from({ length: 16 }, (_, i) => i % 10);
    expectSteadyHeap(m, x, labels);
  });

  it('recycled buffers never feed a later step: repeated steps give bit-identical gradients', () => {
    const m = resnet({ depth: 8, norm: 'bn', widths: [4, 8, 8] }, 2).train();
    const x = randn([8, 1, 12, 12], { rng: new Rng(3) });
    const grads = () => {
      m.zeroGrad();
      crossEntropy(m.forward(x), [0, 1, 2, 3, 4, 5, 6, 7]).backward();
      noGrad(() => m.eval().forward(x));
      m.train();
      return m.parameters().map((p) => Array.from(p.grad!));
    };
    const first = grads();
    for (let i = 0; i < 3; i++) expect(grads()).toEqual(first);
  });

  it('a deep copy (as exportOnnx and foldBatchNorm take) keeps the private stem and branches pointing at its own layers', () => {
    const m = resnet({ depth: 8, norm: 'bn' }, 4).eval();
    const copy = deepCopyModule(m);
    const x = randn([2, 1, 28, 28], { rng: new Rng(5) });
    expect(Array.from(noGrad(() => copy.forward(x)).data)).toEqual(Array.from(noGrad(() => m.forward(x)).data));
    copy.blocks[0].conv2.weight.data.fill(0);
    (copy.namedLayers()[0][1] as Conv2d).weight.data.fill(0);
    const y = noGrad(() => copy.forward(x));
    expect(Array.from(y.data)).not.toEqual(Array.from(noGrad(() => m.forward(x)).data));
    // conv1 zeroed: the stem gives relu(bn1(0)), the same for both images, so both rows of logits are equal.
    expect(Array.from(y.data.subarray(0, 10))).toEqual(Array.from(y.data.subarray(10, 20)));
  });
});
