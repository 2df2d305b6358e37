// Stride-2 conv, global average pooling and the residual join vs PyTorch (test/fixtures/convnets.json) and by central differences, on every backend.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/kernels/blas/index.js';
import { availableBackends, kernels, setBackend } from '../../src/kernels/select.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { conv2d } from '../../src/ops/conv.js';
import { globalAvgPool2d } from '../../src/ops/pool.js';
import { residualAdd } from '../../src/ops/residual.js';
import { relu } from '../../src/ops/activation.js';
import { add } from '../../src/ops/elementwise.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { ShapeError } from '../../src/tensor/errors.js';
import { gradCheck, randLeaf } from '../helpers/gradcheck.js';

interface Enc {
  shape: number[];
  data: number[];
}
interface Case {
  inputs: Record<string, Enc>;
  cotangent: Enc;
  out: Enc;
  grads: Record<string, Enc>;
  args?: Record<string, number | string | null>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/convnets.json', import.meta.url), 'utf8')) as { ops: Record<string, Case> };

/*
 * vs PyTorch: float32 on both sides in different summation orders: |got - want| <= 1e-5 * max(1, max|want|), as the
 * ops fixtures. Observed worst (printed below): under 2e-7 relative on every backend.
 */
const TOL = 1e-5;
/*
 * Gradient checks: conv and the plain join are linear in each input, so central differences are exact up to float32
 * rounding (~1e-5 at eps 1e-2); the relu join is piecewise linear, exact unless a step crosses a kink, which the
 * inputs below (|v| of order 1, step 1e-3) make unlikely; alpha's gradient sums 48 products. TOL 1e-3.
 */
const GTOL = 1e-3;

type Fn = (t: Record<string, Tensor>, c: Case) => Tensor;
const ops: Record<string, Fn> = {
  conv2d: (t, c) => conv2d(t.x, t.weight, t.bias ?? null, { stride: c.args!.stride as number, padding: c.args!.padding as number }),
  gap: (t) => globalAvgPool2d(t.x),
  residual: (t, c) => residualAdd(t.branch, t.shortcut, { alpha: t.alpha ?? null, act: c.args!.act as 'relu' | null }),
};
const opOf = (name: string): Fn => ops[Object.keys(ops).find((k) => name === k || name.startsWith(`${k}_`))!];

/** max |got - want| / max(1, max|want|). */
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

describe.each(availableBackends())('convnet ops on backend %s', (backend) => {
  const use = () => setBackend(backend);

  it.each(Object.keys(fixture.ops))('%s: forward and input gradients match PyTorch', (name) => {
    use();
    const c = fixture.ops[name];
    const inputs: Record<string, Tensor> = {};
    for (const [k, e] of Object.entries(c.inputs)) inputs[k] = new Tensor(Float32Array.from(e.data), e.shape, true);
    const y = opOf(name)(inputs, c);
    expect(y.shape).toEqual(c.out.shape);
    let worst = relDiff(y.data, c.out);
    y.backward(Float32Array.from(c.cotangent.data));
    for (const [k, g] of Object.entries(c.grads)) worst = Math.max(worst, relDiff(inputs[k].grad!, g));
    console.log(`${backend} ${name}: max rel diff vs PyTorch ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(TOL);
  });

  it('conv2d stride 2: 3x3 padding 1 without bias, and the 1x1 shortcut (even and odd sizes), by central differences', () => {
    use();
    const cases: [number[], number[], number, number, boolean][] = [
      [[2, 3, 8, 8], [4, 3, 3, 3], 2, 1, false],
      [[2, 4, 7, 7], [3, 4, 1, 1], 2, 0, false],
      [[1, 3, 6, 6], [5, 3, 1, 1], 2, 0, true],
    ];
    for (const [xs, ws, stride, padding, bias] of cases) {
      const inputs = [randLeaf(xs, 1), randLeaf(ws, 2, 0.5)];
      if (bias) inputs.push(randLeaf([ws[0]], 3));
      const f = (x: Tensor, w: Tensor, b?: Tensor) => conv2d(x, w, b ?? null, { stride, padding });
      expect(gradCheck(f, inputs, { tol: GTOL })).toBeLessThan(GTOL);
    }
  });

  it('globalAvgPool2d by central differences; (N, C, 1, 1) as PyTorch', () => {
    use();
    const x = randLeaf([3, 2, 5, 3], 4);
    expect(globalAvgPool2d(x).shape).toEqual([3, 2, 1, 1]);
    expect(gradCheck(globalAvgPool2d, [x], { tol: GTOL })).toBeLessThan(GTOL);
  });

  it('residualAdd with and without relu and alpha, by central differences', () => {
    use();
    for (const act of ['relu', null] as const) {
      const f = (b: Tensor, s: Tensor, a: Tensor) => residualAdd(b, s, { alpha: a, act });
      expect(gradCheck(f, [randLeaf([2, 3, 4, 2], 5), randLeaf([2, 3, 4, 2], 6), randLeaf([1], 7)], { tol: GTOL, eps: 1e-3 })).toBeLessThan(GTOL);
      const g = (b: Tensor, s: Tensor) => residualAdd(b, s, { act });
      expect(gradCheck(g, [randLeaf([2, 5], 8), randLeaf([2, 5], 9)], { tol: GTOL, eps: 1e-3 })).toBeLessThan(GTOL);
    }
  });
});

describe('residualAdd', () => {
  it('accumulates into a tensor used as both branch and shortcut, and into existing gradients', () => {
    const x = randLeaf([4], 10);
    const y = residualAdd(x, x, { act: null });
    y.backward(new Float32Array([1, 2, 3, 4]));
    expect(Array.from(x.grad!)).toEqual([2, 4, 6, 8]);
  });

  it('gives relu(add(b, s))\'s values and gradients bit for bit, -0 and NaN included', () => {
    const vals = [NaN, -1, 2, -0, 0, 1e-30, -3];
    const run = (f: (b: Tensor, s: Tensor) => Tensor) => {
      const b = new Tensor(Float32Array.from(vals), [7], true);
      const s = new Tensor(Float32Array.from([0, 0.5, 0, 0, -0, 0, 3]), [7], true);
      const y = f(b, s);
      y.backward(Float32Array.from([1, 2, 3, 4, 5, 6, 7]));
      return [y.data, b.grad!, s.grad!].map((a) => Array.from(new Int32Array(a.slice().buffer)));
    };
    expect(run((b, s) => residualAdd(b, s))).toEqual(run((b, s) => relu(add(b, s))));
  });

  it('refuses shapes that differ, naming both and the fix', () => {
    const f = () => noGrad(() => residualAdd(new Tensor(new Float32Array(8), [1, 2, 2, 2]), new Tensor(new Float32Array(4), [1, 1, 2, 2])));
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(/branch has shape \[1, 2, 2, 2\] but shortcut has \[1, 1, 2, 2\].*projection/);
    expect(() => residualAdd(new Tensor(new Float32Array(2), [2]), new Tensor(new Float32Array(2), [2]), { alpha: new Tensor(new Float32Array(2), [2]) })).toThrow(/alpha must hold one value/);
  });
});

describe('globalAvgPool2d', () => {
  it('refuses a non-4-d input', () => {
    expect(() => globalAvgPool2d(new Tensor(new Float32Array(6), [2, 3]))).toThrow(/expected input of shape \(N, C, H, W\), got \[2, 3\]/);
  });
});
