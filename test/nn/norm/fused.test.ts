// Sequential's fused BatchNorm + ReLU / Sigmoid: the same values, gradients and running statistics as the modules one by one, bit for bit.
import { describe, expect, it } from 'vitest';
import { BatchNorm1d, BatchNorm2d, BatchNormBase, BatchRenorm1d } from '../../../src/nn/norm/index.js';
import { Identity, Linear, MaxPool2d, ReLU, Sequential, Sigmoid, type Module } from '../../../src/nn/index.js';
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

/** One forward + backward, fused through a Sequential or as separate modules; x.grad optionally pre-filled. */
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
  const y = fused ? seq.forward(x) : a.forward(bn.forward(x));
  const op = y.op;
  y.backward(dz);
  return { y: y.data, dx: x.grad!, dw: bn.weight!.grad!, db: bn.bias!.grad!, rm: bn.runningMean!.data, rv: bn.runningVar!.data, op };
}

describe('Sequential fuses BatchNorm + activation', () => {
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

  it('keeps ReLU + MaxPool2d fused instead when the ReLU is followed by a pool', () => {
    const x = new Tensor(new Float32Array(2 * 3 * 4 * 4).map((_, i) => Math.sin(i)), [2, 3, 4, 4], true);
    const y = new Sequential(new BatchNorm2d(3), new ReLU(), new MaxPool2d(2)).forward(x);
    expect(y.op).not.toMatch(/BatchNorm2d\+relu/);
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
    const bn = new Loud(4);
    const y = new Sequential(bn, new ReLU()).forward(new Tensor(new Float32Array(8).map((_, i) => i), [2, 4]));
    expect(bn.calls).toBe(1);
    expect(y.op).toBe('relu');
  });
});

describe('fusion past pass-through layers', () => {
  it('fuses across an Identity, and not across a layer that is not one', () => {
    class Probe extends Identity {
      on = false;
      override get passThrough(): boolean {
        return !this.on;
      }
    }
    const probe = new Probe();
    const seq = new Sequential(new BatchNorm1d(4), new Identity(), probe, new Sigmoid());
    const x = new Tensor(new Float32Array(8).map((_, i) => i * i), [2, 4]);
    const fused = seq.forward(x);
    expect(fused.op).toBe('BatchNorm1d+sigmoid');
    probe.on = true;
    const unfused = seq.forward(x);
    expect(unfused.op).toBe('sigmoid');
    expect(fused.data).toEqual(unfused.data);
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
    return new Sequential(lin(8, 16), new BatchNorm1d(16), new ReLU(), lin(16, 16), new Sigmoid(), lin(16, 4));
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
      override get passThrough(): boolean {
        return false;
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
    const seqLayers = make();
    const seq = new Sequential(...seqLayers);
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
