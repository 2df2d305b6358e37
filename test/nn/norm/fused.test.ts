// fuseBatchNormAct (BatchNorm + ReLU / Sigmoid, ReLU + MaxPool2d): the unfused values, gradients and running statistics bit for bit, the same keys.
import { describe, expect, it } from 'vitest';
import { BatchNorm1d, BatchNorm2d, BatchNormBase, BatchRenorm1d, foldBatchNorm, fuseBatchNormAct } from '../../../src/nn/norm/index.js';
import { Conv2d, Flatten, Identity, Linear, MaxPool2d, ReLU, ReLUMaxPool2d, Sequential, Sigmoid, type Module } from '../../../src/nn/index.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor } from '../../../src/tensor/tensor.js';

type Act = 'relu' | 'sigmoid';
const actModule = (a: Act): Module => (a === 'relu' ? new ReLU() : new Sigmoid());

/** A BN with non-trivial weight, bias and running statistics, built the same way from a seed. */
function makeBn(shape: number[], opts: { virtualBatchSize?: number; renorm?: boolean } = {}): BatchNormBase {
  const C = shape[1];
  const bn = opts.renorm
    ? new BatchRenorm1d(C, { rMax: 1.5, dMax: 0.5 })
    : shape.length === 4
      ? new BatchNorm2d(C, { virtualBatchSize: opts.virtualBatchSize })
      : new BatchNorm1d(C, { virtualBatchSize: opts.virtualBatchSize });
  const rng = new Rng(C);
  bn.weight!.data.forEach((_, i, a) => (a[i] = 1 + 0.5 * rng.normal()));
  bn.bias!.data.forEach((_, i, a) => (a[i] = 0.5 * rng.normal()));
  bn.runningMean!.data.forEach((_, i, a) => (a[i] = 0.3 * rng.normal()));
  bn.runningVar!.data.forEach((_, i, a) => (a[i] = 1 + rng.uniform()));
  return bn;
}

interface Outcome {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array;
  rm: Float32Array;
  rv: Float32Array;
  op: string;
}

/** One forward + backward, fused by the pass or as separate modules; x.grad optionally pre-filled. */
function run(shape: number[], act: Act, fused: boolean, o: { train: boolean; vbs?: number; renorm?: boolean; accumulate?: boolean }): Outcome {
  const rng = new Rng(7);
  const n = shape.reduce((a, b) => a * b, 1);
  const x = new Tensor(new Float32Array(n).map(() => 2 * rng.normal() + 0.5), shape, true);
  if (o.accumulate) x.grad = new Float32Array(n).fill(0.25);
  const dz = new Float32Array(n).map(() => rng.normal());
  const bn = makeBn(shape, { virtualBatchSize: o.vbs, renorm: o.renorm });
  const a = actModule(act);
  const seq = new Sequential(bn, a);
  if (o.train) seq.train();
  else seq.eval();
  const y = fused ? fuseBatchNormAct(seq, { inplace: true }).forward(x) : a.forward(bn.forward(x));
  const op = y.op;
  y.backward(dz);
  return { y: y.data, dx: x.grad!, dw: bn.weight!.grad!, db: bn.bias!.grad!, rm: bn.runningMean!.data, rv: bn.runningVar!.data, op };
}

describe('fuseBatchNormAct fuses BatchNorm + activation', () => {
  const cases: { shape: number[]; train: boolean; vbs?: number; renorm?: boolean; accumulate?: boolean }[] = [
    { shape: [60, 100], train: true }, // the paper's net: the WebAssembly (N, C) path, rows in one chunk
    { shape: [300, 128], train: true }, // rows over two chunks: sums and dx in separate visits
    { shape: [33, 6], train: true }, // C not a multiple of 4: loops plus the separate kernels
    { shape: [64, 256], train: false }, // eval: running statistics
    { shape: [48, 8], train: true, vbs: 16 }, // Ghost BN sub-batches
    { shape: [48, 8], train: true, renorm: true }, // Batch Renorm
    { shape: [20, 12], train: true, accumulate: true }, // x.grad already holds a gradient
    { shape: [4, 3, 6, 6], train: true }, // BatchNorm2d planes
    { shape: [5, 4, 2], train: true }, // (N, C, L)
  ];
  for (const c of cases) {
    for (const act of ['relu', 'sigmoid'] as Act[]) {
      const label = `${JSON.stringify(c)} + ${act}`;
      it(`gives the unfused values, gradients and running statistics bit for bit: ${label}`, () => {
        const f = run(c.shape, act, true, c);
        const u = run(c.shape, act, false, c);
        expect(f.op).toMatch(new RegExp(`\\+${act}$`));
        expect(u.op).not.toMatch(/\+/);
        for (const k of ['y', 'dx', 'dw', 'db', 'rm', 'rv'] as const) expect(f[k], k).toEqual(u[k]);
      });
    }
  }

  it('fuses ReLU + MaxPool2d instead when the ReLU is followed by a pool', () => {
    const x = new Tensor(new Float32Array(2 * 3 * 4 * 4).map((_, i) => Math.sin(i)), [2, 3, 4, 4], true);
    const seq = fuseBatchNormAct(new Sequential(new BatchNorm2d(3), new ReLU(), new MaxPool2d(2)));
    expect(seq.layers.map((m) => m.constructor)).toEqual([BatchNorm2d, ReLUMaxPool2d, Identity]);
    const y = seq.forward(x);
    expect(y.op).toBe('reluMaxPool2d');
    expect(y.parents[0].op).toBe('BatchNorm2d');
  });

  it('leaves a subclass that overrides forward alone', () => {
    class Loud extends BatchNorm1d {
      calls = 0;
      override forward(x: Tensor): Tensor {
        this.calls++;
        return super.forward(x);
      }
    }
    const seq = fuseBatchNormAct(new Sequential(new Loud(4), new ReLU()));
    const y = seq.forward(new Tensor(new Float32Array(8).map((_, i) => i), [2, 4]));
    expect((seq.at(0) as Loud).calls).toBe(1);
    expect(y.op).toBe('relu');
  });

  it('fuses across an Identity, not across another layer unless lookPast says so', () => {
    class Probe extends Identity {}
    const build = () => new Sequential(new BatchNorm1d(4), new Identity(), new Probe(), new Sigmoid());
    const x = new Tensor(new Float32Array(8).map((_, i) => i * i), [2, 4]);
    const plain = build().forward(x);
    expect(plain.op).toBe('sigmoid');
    expect(fuseBatchNormAct(build()).forward(x).op).toBe('sigmoid');
    const fused = fuseBatchNormAct(build(), { lookPast: (m) => m instanceof Probe }).forward(x);
    expect(fused.op).toBe('BatchNorm1d+sigmoid');
    expect(fused.data).toEqual(plain.data);
  });
});

describe('fuseBatchNormAct as a pass', () => {
  const convNet = () => {
    const rng = new Rng(5);
    return new Sequential(
      new Conv2d(1, 3, 3, { padding: 1, rng }), new BatchNorm2d(3), new ReLU(), new MaxPool2d(2),
      new Conv2d(3, 4, 3, { padding: 1, rng }), new BatchNorm2d(4), new ReLU(), new Flatten(), new Linear(4 * 16, 2, { rng }),
    );
  };

  it('keeps the state dict keys and values, and returns a copy unless inplace', () => {
    const m = convNet();
    const f = fuseBatchNormAct(m);
    const sd = m.stateDict();
    const fsd = f.stateDict();
    expect(Object.keys(fsd)).toEqual(Object.keys(sd));
    for (const k of Object.keys(sd)) expect(fsd[k].data).toEqual(sd[k].data);
    expect(m.layers.map((l) => l.constructor)).toEqual(convNet().layers.map((l) => l.constructor));
    expect((f.at(5) as BatchNormBase).act).toBe('relu');
    expect(f.at(6)).toBeInstanceOf(Identity);
    expect(fuseBatchNormAct(m, { inplace: true })).toBe(m);
    // A state dict moves between the fused and the unfused model in both directions.
    convNet().loadStateDict(fsd);
    f.loadStateDict(sd);
  });

  it('trains a conv net to the same weights and running statistics as the unfused one, bit for bit', () => {
    const plain = convNet();
    const fused = fuseBatchNormAct(convNet());
    const rng = new Rng(11);
    for (let step = 0; step < 3; step++) {
      const x = new Tensor(new Float32Array(6 * 64).map(() => rng.normal()), [6, 1, 8, 8]);
      const dy = new Float32Array(12).map(() => rng.normal());
      for (const m of [plain, fused]) {
        m.forward(x).backward(dy);
        for (const p of m.parameters()) {
          for (let i = 0; i < p.size; i++) p.data[i] -= 0.1 * p.grad![i];
          p.grad = null;
        }
      }
    }
    const fsd = fused.stateDict();
    for (const [k, t] of Object.entries(plain.stateDict())) expect(fsd[k].data, k).toEqual(t.data);
  });

  it('foldBatchNorm of a fused model keeps the activation the BN carried', () => {
    const rng = new Rng(2);
    const m = new Sequential(new Linear(4, 3, { rng }), new BatchNorm1d(3), new ReLU()).eval();
    (m.at(1) as BatchNorm1d).runningMean!.data.set([0.5, -1, 2]);
    const x = new Tensor(new Float32Array(8).map((_, i) => Math.sin(i) * 3), [2, 4]);
    const folded = foldBatchNorm(fuseBatchNormAct(m));
    expect(folded.layers.map((l) => l.constructor)).toEqual([Linear, ReLU, Identity]);
    const want = m.forward(x).data;
    const got = folded.forward(x).data;
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
  });
});

describe('Sequential inference reuses its intermediate buffers', () => {
  const build = () => {
    const rng = new Rng(3);
    const lin = (i: number, o: number) => {
      const l = new Linear(i, o);
      l.weight.data.forEach((_, k, a) => (a[k] = rng.normal() * 0.2));
      return l;
    };
    return fuseBatchNormAct(new Sequential(lin(8, 16), new BatchNorm1d(16), new ReLU(), lin(16, 16), new Sigmoid(), lin(16, 4)), { inplace: true });
  };
  const input = () => new Tensor(new Float32Array(64 * 8).map((_, i) => Math.sin(i)), [64, 8]);

  it('gives the same outputs as with recording on, and never touches an output it returned', () => {
    const m = build().eval();
    const x = input();
    const recorded = m.forward(x).data.slice();
    const first = noGrad(() => m.forward(x));
    const kept = first.data.slice();
    expect(first.data).toEqual(recorded);
    for (let k = 0; k < 3; k++) expect(noGrad(() => m.forward(x)).data).toEqual(recorded);
    expect(first.data).toEqual(kept);
    expect(Array.from(x.data)).toEqual(Array.from(input().data));
  });

  it('keeps what a probe between layers holds', () => {
    class Keep extends Identity {
      held: Tensor | null = null;
      override forward(t: Tensor): Tensor {
        this.held = t;
        return t;
      }
    }
    const keep = new Keep();
    const m = build();
    const withProbe = new Sequential(m.at(0), keep, m.at(1), m.at(2), m.at(3)).eval();
    const x = input();
    noGrad(() => withProbe.forward(x));
    const held = keep.held!.data.slice();
    noGrad(() => withProbe.forward(new Tensor(new Float32Array(64 * 8).fill(3), [64, 8])));
    noGrad(() => withProbe.forward(x));
    expect(keep.held!.data).toEqual(held);
  });
});

describe('Sequential training recycles the buffers of its intermediates after backward', () => {
  it('trains to the same weights as the layers applied one by one, and leaves returned outputs alone', () => {
    const make = () => {
      const rng = new Rng(9);
      const lin = (i: number, o: number) => {
        const l = new Linear(i, o, { rng });
        l.weight.data.forEach((_, k, a) => (a[k] = rng.normal() * 0.3));
        return l;
      };
      return [lin(8, 12), new BatchNorm1d(12), new ReLU(), lin(12, 12), new Sigmoid(), lin(12, 3)];
    };
    const x = new Tensor(new Float32Array(32 * 8).map((_, i) => Math.cos(i)), [32, 8]);
    const seq = fuseBatchNormAct(new Sequential(...make()), { inplace: true });
    const loose = make();
    const outputs: { t: Tensor; copy: Float32Array }[] = [];
    for (let step = 0; step < 4; step++) {
      const a = seq.forward(x);
      outputs.push({ t: a, copy: a.data.slice() });
      let b = x;
      for (const m of loose) b = m.forward(b);
      expect(a.data).toEqual(b.data);
      a.backward(new Float32Array(a.size).fill(0.1));
      b.backward(new Float32Array(b.size).fill(0.1));
      for (const ps of [seq.parameters(), new Sequential(...loose).parameters()]) {
        for (const p of ps) {
          for (let i = 0; i < p.size; i++) p.data[i] -= 0.1 * p.grad![i];
          p.grad = null;
        }
      }
    }
    const pa = seq.parameters().map((p) => Array.from(p.data));
    const pb = new Sequential(...loose).parameters().map((p) => Array.from(p.data));
    expect(pa).toEqual(pb);
    for (const o of outputs) expect(o.t.data).toEqual(o.copy);
  });
});
