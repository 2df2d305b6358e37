// Ops vs PyTorch 1.13 (test/fixtures/ops.json from scripts/fixtures.py): forward outputs and input gradients, on every backend.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/kernels/blas/index.js';
import { availableBackends, kernels, setBackend } from '../../src/kernels/select.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { matmul, linear } from '../../src/ops/matmul.js';
import { conv2d } from '../../src/ops/conv.js';
import { maxPool2d, avgPool2d } from '../../src/ops/pool.js';
import { relu, sigmoid, tanh, softmax, logSoftmax } from '../../src/ops/activation.js';
import { crossEntropy, mseLoss, type Reduction } from '../../src/ops/loss.js';

interface Enc {
  shape: number[];
  data: number[];
}
interface Case {
  inputs: Record<string, Enc>;
  cotangent: Enc;
  out: Enc;
  grads: Record<string, Enc>;
  args?: Record<string, number | string>;
  labels?: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/ops.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };

/*
 * Tolerance: both sides compute in float32 but in different orders (and PyTorch's exp/log differ from V8's by an ulp),
 * so entries may differ by a few ulps of the largest partial sums: |got - want| <= 1e-5 * max(1, max|want|).
 * Observed worst: under 1e-6 on both backends. The 40x-scaled softmax cases keep |x| ~ 40, where an ulp of the input is ~4e-6, hence the scale term.
 */
const TOL = 1e-5;

type Fn = (x: Record<string, Tensor>, c: Case) => Tensor;
const num = (c: Case, k: string) => c.args![k] as number;
const pool = (c: Case) => ({ stride: num(c, 'stride'), padding: num(c, 'padding') });
const ops: Record<string, Fn> = {
  matmul: (t) => matmul(t.a, t.b),
  linear: (t) => linear(t.x, t.weight, t.bias ?? null),
  conv2d: (t, c) => conv2d(t.x, t.weight, t.bias ?? null, { stride: num(c, 'stride'), padding: num(c, 'padding') }),
  maxpool: (t, c) => maxPool2d(t.x, num(c, 'kernelSize'), pool(c)),
  avgpool: (t, c) => avgPool2d(t.x, num(c, 'kernelSize'), pool(c)),
  softmax: (t, c) => softmax(t.x, num(c, 'dim')),
  logsoftmax: (t, c) => logSoftmax(t.x, num(c, 'dim')),
  cross: (t, c) => crossEntropy(t.logits, c.labels!, { reduction: c.args!.reduction as Reduction }),
  mse: (t, c) => mseLoss(t.pred, t.target, { reduction: c.args!.reduction as Reduction }),
  relu: (t) => relu(t.x),
  sigmoid: (t) => sigmoid(t.x),
  tanh: (t) => tanh(t.x),
};
const opOf = (name: string): Fn => {
  const key = Object.keys(ops).find((k) => name === k || name.startsWith(`${k}_`));
  if (!key) throw new Error(`no op for fixture case '${name}'`);
  return ops[key];
};

function expectClose(what: string, got: Float32Array, want: Enc): void {
  expect(got.length, what).toBe(want.data.length);
  let scale = 1;
  for (const v of want.data) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want.data[i]) <= TOL * scale)) {
      throw new Error(`${what}[${i}]: got ${got[i]}, PyTorch ${want.data[i]} (tol ${TOL * scale})`);
    }
  }
}

const initial = kernels().name;
afterAll(() => {
  setBackend(initial);
});

describe('fixture file', () => {
  it('covers every op family the tests know', () => {
    const names = Object.keys(fixture.cases);
    for (const k of Object.keys(ops)) expect(names.some((n) => n === k || n.startsWith(`${k}_`)), k).toBe(true);
  });
});

describe.each(availableBackends())('ops vs PyTorch on backend %s', (backend) => {
  it.each(Object.keys(fixture.cases))('%s: forward and input gradients', (name) => {
    setBackend(backend);
    const c = fixture.cases[name];
    const inputs: Record<string, Tensor> = {};
    for (const [k, e] of Object.entries(c.inputs)) inputs[k] = new Tensor(Float32Array.from(e.data), e.shape, true);
    const y = opOf(name)(inputs, c);
    expect(y.shape).toEqual(c.out.shape);
    expectClose(`${name} out`, y.data, c.out);
    y.backward(Float32Array.from(c.cotangent.data));
    for (const [k, g] of Object.entries(c.grads)) {
      expect(inputs[k].grad, `${name} grad ${k}`).not.toBeNull();
      expectClose(`${name} grad ${k}`, inputs[k].grad!, g);
    }
  });
});
