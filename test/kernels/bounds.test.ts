// No SIMD kernel writes outside its output: outputs of odd lengths at odd offsets between sentinels, in the heap (used in place) and outside it.
import { describe, expect, it } from 'vitest';
import { activationSimd } from '../../src/kernels/activation.js';
import { axpySimd } from '../../src/kernels/update.js';
import { batchnormSimd } from '../../src/kernels/batchnorm.js';
import { poolingLoops, poolingSimd } from '../../src/kernels/pooling.js';
import type { BnAct } from '../../src/kernels/families.js';
import { Rng } from '../../src/tensor/rng.js';
import { PLACES, bitsOf, expectSame, guarded, guardedInt, place, simdExpected } from './heap-arrays.js';

const rand = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return new Float32Array(n).map(() => rng.normal());
};

describe.skipIf(!simdExpected)('SIMD kernels write inside their outputs only', () => {
  for (const where of PLACES) {
    it(`activations and axpy (lengths 1 to 1001 and 70001), operands ${where}`, () => {
      const act = activationSimd()!;
      for (const n of [1, 5, 67, 1001, 70001]) {
        const [x, g, y] = [place(rand(n, 1), where), place(rand(n, 2), where), place(rand(n, 3).map(Math.abs), where)];
        const before = [bitsOf(x), bitsOf(g), bitsOf(y)];
        const kernels: [string, (out: Float32Array) => void][] = [
          ['relu', (o) => act.relu(x, o)],
          ['reluGrad', (o) => act.reluGrad(g, y, o)],
          ['sigmoid', (o) => act.sigmoid(x, o)],
          ['sigmoidGrad', (o) => act.sigmoidGrad(g, y, o)],
          ['axpy', (o) => axpySimd()!(n, -0.5, g, o)],
        ];
        for (const [name, run] of kernels) {
          const out = guarded(n, where);
          run(out.out);
          out.check(`${name} (n = ${n})`);
        }
        expectSame(bitsOf(x), before[0], 'x unchanged');
        expectSame(bitsOf(g), before[1], 'g unchanged');
        expectSame(bitsOf(y), before[2], 'y unchanged');
      }
    });
    it(`BatchNorm affine, gradApply and backward, plane and matrix layouts, operands ${where}`, () => {
      const bn = batchnormSimd()!;
      for (const [N, C, S] of [[3, 5, 33], [2, 3, 39], [3, 3, 1001], [7, 4, 1], [5, 12, 1], [2, 2, 40001]]) {
        const size = N * C * S;
        const vec = (seed: number) => Float64Array.from(rand(C, seed));
        const [x, dz, y] = [place(rand(size, 4), where), place(rand(size, 5), where), place(rand(size, 6).map(Math.abs), where)];
        const span = { C, S, n0: 0, n1: N };
        for (const act of [null, 'relu', 'sigmoid'] as BnAct[]) {
          const out = guarded(size, where);
          bn.affine(x, out.out, span, { scale: vec(1), shift: vec(2) }, act);
          out.check(`affine ${act} (${N}, ${C}, ${S})`);
          const dx = guarded(size, where);
          bn.backward({
            x, y, dz, act, C, S, N, vbs: N, means: vec(3), sums: true, dx: dx.out, accumulate: false,
            coefficients: () => ({ a: vec(4), b: vec(5), k: vec(6) }),
          });
          dx.check(`backward ${act} (${N}, ${C}, ${S})`);
        }
        const dx = guarded(size, where);
        bn.gradApply(x, dz, dx.out, span, { a: vec(4), b: vec(5), k: vec(6), accumulate: false });
        dx.check(`gradApply (${N}, ${C}, ${S})`);
      }
    });
    it(`relu + max pooling forward and backward (wo mod 4 = 1, 2, 3), operands ${where}`, () => {
      for (const [planes, h, w] of [[3, 6, 10], [2, 4, 6], [1, 2, 14], [5, 8, 8]]) {
        const x = place(rand(planes * h * w, w), where);
        const n = planes * (h >> 1) * (w >> 1);
        const geom = { planes, h, w };
        const out = guarded(n, where);
        const arg = guardedInt(n, where);
        poolingSimd()!.reluMaxPool2(x, geom, out.out, arg.out);
        out.check(`reluMaxPool2 out ${planes}x${h}x${w}`);
        arg.check(`reluMaxPool2 arg ${planes}x${h}x${w}`);
        const refOut = new Float32Array(n);
        const refArg = new Int32Array(n);
        poolingLoops.reluMaxPool2(x, geom, refOut, refArg);
        expectSame(arg.out, refArg, 'arg');
        const gx = guarded(x.length, where);
        poolingSimd()!.reluMaxPool2Grad(place(rand(n, 9), where), out.out, arg.out, geom, gx.out);
        gx.check(`reluMaxPool2Grad ${planes}x${h}x${w}`);
      }
      expect(true).toBe(true);
    });
  }
});
