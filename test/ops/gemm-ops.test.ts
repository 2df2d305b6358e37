// matmul, linear and conv2d on every backend present: gradient checks, and the backends agree with each other.
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/kernels/blas/index.js';
import { availableBackends, kernels, setBackend } from '../../src/kernels/select.js';
import type { BackendName } from '../../src/kernels/kernels.js';
import { gradCheck, randLeaf } from '../helpers/gradcheck.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { matmul, linear } from '../../src/ops/matmul.js';
import { conv2d } from '../../src/ops/conv.js';
import { Rng } from '../../src/tensor/rng.js';

/*
 * matmul, linear and conv2d are linear in each argument, so central differences are exact up to float32
 * rounding: ~1e-7 * |y| * sqrt(k) / eps ~ 1e-5 here. TOL = 1e-3 leaves a wide margin.
 */
const EPS = 1e-2;
const TOL = 1e-3;
/*
 * Backend agreement: both compute the same float32 dot products in different orders; the difference is bounded by
 * ~k * 2^-23 * sum |a_i b_i|. With k <= 300 and unit-scale data that is < 1e-4 * magnitude: AGREE_TOL = 1e-4 relative.
 */
const AGREE_TOL = 1e-4;

const backends = availableBackends();
const initial = kernels().name;
afterAll(() => {
  setBackend(initial);
});

const convCases: [string, number[], number[], number, number, boolean][] = [
  ['3x3 stride 1 padding 0', [2, 2, 5, 5], [3, 2, 3, 3], 1, 0, true],
  ['3x3 stride 2 padding 1', [2, 2, 6, 6], [3, 2, 3, 3], 2, 1, true],
  ['3x3 stride 2 padding 1, odd non-square input', [1, 2, 7, 5], [2, 2, 3, 3], 2, 1, true],
  ['2x2 stride 1 padding 1, no bias', [1, 3, 4, 4], [2, 3, 2, 2], 1, 1, false],
  ['1x1 stride 2', [2, 4, 3, 3], [3, 4, 1, 1], 2, 0, true],
];

describe.each(backends)('GEMM-based ops on backend %s', (name) => {
  const use = () => setBackend(name);

  it('matmul gradients', () => {
    use();
    expect(gradCheck(matmul, [randLeaf([3, 4], 1), randLeaf([4, 5], 2)], { eps: EPS, tol: TOL })).toBeLessThan(TOL);
    expect(gradCheck(matmul, [randLeaf([1, 7], 3), randLeaf([7, 1], 4)], { eps: EPS, tol: TOL })).toBeLessThan(TOL);
  });

  it('linear with bias, and without', () => {
    use();
    const f = (x: Tensor, w: Tensor, b: Tensor) => linear(x, w, b);
    expect(gradCheck(f, [randLeaf([4, 5], 5), randLeaf([3, 5], 6), randLeaf([3], 7)], { eps: EPS, tol: TOL })).toBeLessThan(TOL);
    const g = (x: Tensor, w: Tensor) => linear(x, w);
    expect(gradCheck(g, [randLeaf([6, 2], 8), randLeaf([5, 2], 9)], { eps: EPS, tol: TOL })).toBeLessThan(TOL);
  });

  it('linear when only some inputs require grad (a frozen weight gets no gradient)', () => {
    use();
    const x = randLeaf([3, 4], 10);
    const w = randLeaf([2, 4], 11);
    w.requiresGrad = false;
    const b = randLeaf([2], 12);
    expect(gradCheck((xx, ww, bb) => linear(xx, ww, bb), [x, w, b], { eps: EPS, tol: TOL })).toBeLessThan(TOL);
    expect(w.grad).toBeNull();
  });

  it.each(convCases)('conv2d %s', (_label, xs, ws, stride, padding, hasBias) => {
    use();
    const inputs = [randLeaf(xs, 20), randLeaf(ws, 21, 0.5)];
    if (hasBias) inputs.push(randLeaf([ws[0]], 22));
    const f = (x: Tensor, w: Tensor, b?: Tensor) => conv2d(x, w, b ?? null, { stride, padding });
    expect(gradCheck(f, inputs, { eps: EPS, tol: TOL })).toBeLessThan(TOL);
  });

  it('conv2d equals a direct 6-loop convolution', () => {
    use();
    const x = randLeaf([2, 3, 6, 5], 30);
    const w = randLeaf([4, 3, 3, 3], 31);
    const b = randLeaf([4], 32);
    const s = 2, p = 1;
    const y = conv2d(x, w, b, { stride: s, padding: p });
    const [n, c, h, wd] = x.shape;
    const [co, , k] = w.shape;
    const ho = Math.floor((h + 2 * p - k) / s) + 1, wo = Math.floor((wd + 2 * p - k) / s) + 1;
    expect(y.shape).toEqual([n, co, ho, wo]);
    for (let bi = 0; bi < n; bi++) for (let o = 0; o < co; o++) for (let oy = 0; oy < ho; oy++) for (let ox = 0; ox < wo; ox++) {
      let acc = b.data[o];
      for (let ci = 0; ci < c; ci++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        const iy = oy * s + i - p, ix = ox * s + j - p;
        if (iy >= 0 && iy < h && ix >= 0 && ix < wd) acc += w.get(o, ci, i, j) * x.get(bi, ci, iy, ix);
      }
      expect(y.get(bi, o, oy, ox)).toBeCloseTo(acc, 4);
    }
  });
});

/** Forward output and all input gradients of `f` on the given backend, with a fixed cotangent. */
function run(name: BackendName, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): Float32Array[] {
  setBackend(name);
  for (const t of inputs) t.grad = null;
  const y = f(...inputs);
  const rng = new Rng(99);
  y.backward(Float32Array.from({ length: y.size }, () => rng.normal()));
  return [y.data.slice(), ...inputs.map((t) => t.grad!.slice())];
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, scale));
  return worst;
}

describe.runIf(backends.length > 1)('backends agree', () => {
  const cases: [string, (...xs: Tensor[]) => Tensor, Tensor[]][] = [
    ['matmul 33x70 @ 70x45', matmul, [randLeaf([33, 70], 40), randLeaf([70, 45], 41)]],
    ['linear 64x300 -> 50', (x, w, b) => linear(x, w, b), [randLeaf([64, 300], 42), randLeaf([50, 300], 43, 0.05), randLeaf([50], 44)]],
    ['conv2d 8x3x12x12, 16 filters 3x3, stride 2 padding 1', (x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1 }),
      [randLeaf([8, 3, 12, 12], 45), randLeaf([16, 3, 3, 3], 46, 0.2), randLeaf([16], 47)]],
  ];
  it.each(cases)('%s: forward and gradients within AGREE_TOL', (_label, f, inputs) => {
    const [first, ...rest] = backends;
    const ref = run(first, f, inputs);
    for (const name of rest) {
      const got = run(name, f, inputs);
      ref.forEach((r, i) => expect(maxRelDiff(r, got[i])).toBeLessThan(AGREE_TOL));
    }
  });
});
