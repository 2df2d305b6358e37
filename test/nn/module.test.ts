// Module API: parameter names, train/eval, Dropout, state dicts (round trip, wrong keys and shapes), layer errors.
import { describe, expect, it } from 'vitest';
import { Module, stateDictToJSON } from '../../src/nn/module.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Linear, Conv2d } from '../../src/nn/layers.js';
import { ReLU, Sigmoid, Tanh, Softmax, Identity, Flatten, MaxPool2d, AvgPool2d, Dropout } from '../../src/nn/activation.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randn, zeros, ones } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/rng.js';
import { ArgumentError, ShapeError } from '../../src/tensor/errors.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { sum } from '../../src/ops/reduce.js';

/** A module with a buffer, to check buffers go to the state dict but not to parameters(). */
class Scaler extends Module {
  scale: Tensor;
  count: Tensor;
  constructor(n: number) {
    super();
    this.scale = this.registerParameter('weight', ones([n]))!;
    this.count = this.registerBuffer('num_batches_tracked', zeros([]))!;
  }
  forward(x: Tensor): Tensor {
    return x;
  }
}

const mlp = (seed = 0) => new Sequential(new Linear(4, 8, { rng: new Rng(seed) }), new ReLU(), new Linear(8, 3, { rng: new Rng(seed + 1) }));

describe('parameters and names', () => {
  it("Sequential names parameters like PyTorch: '0.weight', '2.bias'", () => {
    const m = mlp();
    expect(m.namedParameters().map(([k, t]) => [k, t.shape])).toEqual([
      ['0.weight', [8, 4]], ['0.bias', [8]], ['2.weight', [3, 8]], ['2.bias', [3]],
    ]);
    expect(m.parameters().length).toBe(4);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(m.length).toBe(3);
    expect(m.at(1)).toBeInstanceOf(ReLU);
  });
  it('nested Sequentials give dotted names; bias: false leaves the bias out', () => {
    const m = new Sequential(new Sequential(new Identity(), new Linear(2, 2, { bias: false })), new Tanh());
    expect(m.namedParameters().map(([k]) => k)).toEqual(['0.1.weight']);
    expect(m.namedModules().map(([k]) => k)).toEqual(['', '0', '0.0', '0.1', '1']);
    expect((m.at(0) as Sequential).at(1)).toBeInstanceOf(Linear);
  });
  it('buffers are in the state dict, not in parameters', () => {
    const m = new Sequential(new Scaler(3));
    expect(m.namedParameters().map(([k]) => k)).toEqual(['0.weight']);
    expect(m.namedBuffers().map(([k]) => k)).toEqual(['0.num_batches_tracked']);
    expect(Object.keys(m.stateDict())).toEqual(['0.weight', '0.num_batches_tracked']);
  });
  it('zeroGrad clears every parameter gradient', () => {
    const m = mlp();
    sum(m.forward(randn([2, 4]))).backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });
  it('apply visits children before the parent', () => {
    const seen: string[] = [];
    new Sequential(new ReLU(), new Sequential(new Sigmoid())).apply((mod) => seen.push(mod.constructor.name));
    expect(seen).toEqual(['ReLU', 'Sigmoid', 'Sequential', 'Sequential']);
  });
});

describe('train / eval', () => {
  it('reach every descendant and return the module', () => {
    const inner = new Sequential(new Dropout(0.5), new Linear(2, 2));
    const m = new Sequential(new Linear(2, 2), inner);
    expect(m.eval()).toBe(m);
    expect(m.namedModules().every(([, mod]) => !mod.training)).toBe(true);
    m.train();
    expect(m.namedModules().every(([, mod]) => mod.training)).toBe(true);
    m.train(false);
    expect(inner.at(0).training).toBe(false);
  });
  it('Dropout is the identity in eval and drops values in training', () => {
    const d = new Dropout(0.5, { rng: new Rng(1) });
    const x = randn([200]);
    const yTrain = d.forward(x);
    expect(yTrain.data.filter((v) => v === 0).length).toBeGreaterThan(50);
    d.eval();
    const yEval = d.forward(x);
    expect(Array.from(yEval.data)).toEqual(Array.from(x.data));
  });
  it('Dropout with a seeded generator is reproducible', () => {
    const x = randn([50]);
    const a = new Dropout(0.3, { rng: new Rng(7) }).forward(x);
    const b = new Dropout(0.3, { rng: new Rng(7) }).forward(x);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe('state dict', () => {
  it('loadStateDict(stateDict()) round-trips, and the copy is independent', () => {
    const a = mlp(0), b = mlp(10);
    const x = randn([5, 4], { rng: new Rng(3) });
    const before = noGrad(() => b.forward(x)).toArray();
    expect(noGrad(() => a.forward(x)).toArray()).not.toEqual(before);
    const sd = a.stateDict();
    b.loadStateDict(sd);
    expect(noGrad(() => b.forward(x)).toArray()).toEqual(noGrad(() => a.forward(x)).toArray());
    // Loading copies values in place: parameter tensors keep their identity (optimizers hold them).
    const w = b.parameters()[0];
    b.loadStateDict(mlp(20).stateDict());
    expect(b.parameters()[0]).toBe(w);
    // The state dict holds copies: changing it changes nothing in the module.
    sd['0.weight'].data.fill(0);
    expect(a.parameters()[0].data.some((v) => v !== 0)).toBe(true);
  });
  it('round-trips through JSON', () => {
    const a = new Sequential(mlp(1), new Scaler(3));
    a.namedBuffers()[0][1].data[0] = 5;
    const json = JSON.parse(JSON.stringify(stateDictToJSON(a.stateDict())));
    const b = new Sequential(mlp(2), new Scaler(3));
    b.loadStateDict(json);
    const sa = a.stateDict(), sb = b.stateDict();
    for (const k of Object.keys(sa)) expect(Array.from(sb[k].data)).toEqual(Array.from(sa[k].data));
    expect(b.namedBuffers()[0][1].item()).toBe(5);
  });
  it('a wrong or missing key fails with a message naming it', () => {
    const m = mlp();
    const sd = m.stateDict();
    const renamed: Record<string, Tensor> = { ...sd, '1.weight': sd['2.weight'] };
    delete renamed['2.weight'];
    expect(() => m.loadStateDict(renamed)).toThrow(ArgumentError);
    expect(() => m.loadStateDict(renamed)).toThrow(/missing keys: 2\.weight.*unexpected keys: 1\.weight/);
    // strict: false loads what matches and ignores the rest.
    const other = mlp(5).stateDict();
    m.loadStateDict({ '0.bias': other['0.bias'], extra: other['0.bias'] }, { strict: false });
    expect(Array.from(m.parameters()[1].data)).toEqual(Array.from(other['0.bias'].data));
  });
  it('a wrong shape fails naming the key and both shapes, and changes nothing', () => {
    const m = mlp();
    const before = m.stateDict();
    const sd = mlp(3).stateDict();
    sd['2.weight'] = randn([8, 3]);
    expect(() => m.loadStateDict(sd)).toThrow(ShapeError);
    expect(() => m.loadStateDict(sd)).toThrow("loadStateDict: '2.weight' has shape [8, 3], expected [3, 8]");
    // Atomic: the entries that did match ('0.weight', ...) were not written either.
    for (const [k, t] of Object.entries(m.stateDict())) expect(Array.from(t.data)).toEqual(Array.from(before[k].data));
  });
  it('malformed entries get a message', () => {
    const m = new Linear(2, 2);
    expect(() => m.loadStateDict({ weight: { shape: [2, 2], data: [1, 2, 3] }, bias: [0, 0] })).toThrow(/'weight' has 3 values for shape \[2, 2\]/);
    expect(() => m.loadStateDict({ weight: [[1, 2], [3]], bias: [0, 0] })).toThrow(/'weight' is a ragged/);
    expect(() => m.loadStateDict({ weight: 'w' as never, bias: [0, 0] })).toThrow(/'weight' must be a Tensor/);
    m.loadStateDict({ weight: [[1, 2], [3, 4]], bias: [5, 6] });
    expect(m.weight.toArray()).toEqual([1, 2, 3, 4]);
  });
});

describe('layers', () => {
  it('Linear and Conv2d reject non-integer or non-positive sizes with a message', () => {
    expect(() => new Linear(2.5, 3)).toThrow(ArgumentError);
    expect(() => new Linear(2.5, 3)).toThrow('Linear: inFeatures must be a positive integer, got 2.5');
    expect(() => new Linear(3, 0)).toThrow('Linear: outFeatures must be a positive integer, got 0');
    expect(() => new Linear('3' as never, 2)).toThrow(/the string '3'/);
    expect(() => new Conv2d(3, 4, 0)).toThrow(/Conv2d: kernelSize/);
    expect(() => new Conv2d(3, 4, 3, { padding: -1 })).toThrow(/Conv2d: padding/);
    expect(() => new Dropout(1)).toThrow(/Dropout: p/);
  });
  it('Linear with the wrong input size names the op and the shapes', () => {
    expect(() => new Linear(4, 2).forward(randn([3, 5]))).toThrow('linear: expected input of shape (N, 4), got [3, 5]');
  });
  it('a Sequential child that is not a Module gets a message', () => {
    expect(() => new Sequential(new ReLU(), 3 as never)).toThrow("Sequential: child '1' must be a Module");
  });
  it('a small CNN runs forward with the expected shapes', () => {
    const net = new Sequential(
      new Conv2d(1, 4, 3, { padding: 1, rng: new Rng(1) }), new ReLU(), new MaxPool2d(2),
      new Conv2d(4, 6, 3, { stride: 2, rng: new Rng(2) }), new AvgPool2d(2, { stride: 1 }), new Flatten(), new Linear(6, 3), new Softmax(),
    );
    const y = net.forward(randn([2, 1, 12, 12]));
    // 12 -> conv p1 12 -> pool 6 -> conv s2 (6-3)/2+1 = 2 -> avgpool k2 s1 1 -> flatten 6 -> 3
    expect(y.shape).toEqual([2, 3]);
    for (let i = 0; i < 2; i++) expect(y.get(i, 0) + y.get(i, 1) + y.get(i, 2)).toBeCloseTo(1, 6);
    expect(net.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias', '6.weight', '6.bias']);
  });
});
