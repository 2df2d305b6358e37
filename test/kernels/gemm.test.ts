// GEMM on every backend present: transpose combos, alpha/beta, strides and offsets vs a float64 reference.
import { describe, expect, it } from 'vitest';
import '../../src/kernels/blas/index.js';
import { loadBlasKernels, threadsFromEnv } from '../../src/kernels/blas/index.js';
import { candidateLibraries, loadBlas, preferCoreType } from '../../src/kernels/blas/load.js';
import type { Kernels } from '../../src/kernels/kernels.js';
import { availableBackends, loadBackend } from '../../src/kernels/select.js';
import { ArgumentError } from '../../src/tensor/errors.js';
import { rand } from '../helpers/rand.js';

interface Case {
  ta: boolean; tb: boolean; m: number; n: number; k: number;
  alpha: number; beta: number;
  /** Extra row stride beyond the minimum, and leading offset, for A, B, C. */
  pad: number; off: number;
}

/** Runs one case on `kern` and checks every element against a float64 reference within a float32 bound. */
function check(kern: Kernels, c: Case, seed: number): Float32Array {
  const { ta, tb, m, n, k, alpha, beta, pad, off } = c;
  const [ar, ac] = ta ? [k, m] : [m, k];
  const [br, bc] = tb ? [n, k] : [k, n];
  const lda = ac + pad, ldb = bc + pad, ldc = n + pad;
  const aBuf = rand(off + ar * lda, seed), bBuf = rand(off + br * ldb, seed + 1), cBuf = rand(off + m * ldc, seed + 2);
  if (beta === 0) cBuf.fill(NaN); // beta = 0 must ignore C's old contents, NaN included
  const c0 = cBuf.slice();
  const A = (i: number, p: number): number => aBuf[off + (ta ? p * lda + i : i * lda + p)];
  const B = (p: number, j: number): number => bBuf[off + (tb ? j * ldb + p : p * ldb + j)];
  kern.gemm(ta, tb, m, n, k, alpha, aBuf.subarray(off), lda, bBuf.subarray(off), ldb, beta, cBuf.subarray(off), ldc);
  // Worst-case float32 accumulation bound: ~k ulps of the sum of magnitudes (tolerance stated here, per DESIGN).
  const eps = 2 ** -23;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, mag = 0;
      for (let p = 0; p < k; p++) {
        s += A(i, p) * B(p, j);
        mag += Math.abs(A(i, p) * B(p, j));
      }
      const old = beta === 0 ? 0 : beta * c0[off + i * ldc + j];
      const want = alpha * s + old;
      const tol = 2 * (k + 2) * eps * (Math.abs(alpha) * mag + Math.abs(old)) + 1e-30;
      const got = cBuf[off + i * ldc + j];
      if (!(Math.abs(got - want) <= tol)) {
        throw new Error(`${kern.name} ${JSON.stringify(c)} C[${i},${j}] = ${got}, want ${want} (tol ${tol})`);
      }
    }
  }
  // Padding between rows and before the offset must be untouched.
  for (let i = 0; i < off; i++) expect(Object.is(cBuf[i], c0[i])).toBe(true);
  for (let i = 0; i < m; i++) for (let j = n; j < ldc && i * ldc + j < m * ldc; j++) {
    expect(Object.is(cBuf[off + i * ldc + j], c0[off + i * ldc + j])).toBe(true);
  }
  return cBuf.subarray(off);
}

const backends = availableBackends();
const combos: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [17, 9, 33], [64, 48, 100], [5, 130, 2], [60, 100, 784]];

if (!backends.includes('blas')) {
  const why = loadBlasKernels();
  console.warn(`BLAS backend tests skipped: ${'unavailable' in why ? why.unavailable : '?'}`);
}

describe.each(backends)('gemm on %s', (name) => {
  const kern = loadBackend(name) as Kernels;

  it.each(combos)('transA=%s transB=%s, all shapes, alpha=1 beta=0', (ta, tb) => {
    shapes.forEach(([m, n, k], s) => check(kern, { ta, tb, m, n, k, alpha: 1, beta: 0, pad: 0, off: 0 }, 100 + s));
  });

  it.each(combos)('transA=%s transB=%s, alpha/beta, strided rows and subarray offsets', (ta, tb) => {
    const ab: [number, number][] = [[0.5, 1], [-2, 0.25], [1.5, -1], [0, 0.5], [1, 0]];
    ab.forEach(([alpha, beta], s) => {
      check(kern, { ta, tb, m: 13, n: 11, k: 21, alpha, beta, pad: 3, off: 5 }, 200 + s);
      check(kern, { ta, tb, m: 4, n: 37, k: 8, alpha, beta, pad: 1, off: 1 }, 300 + s);
    });
  });

  it('k = 0 gives beta * C', () => {
    const c = new Float32Array([1, 2, 3, 4]);
    kern.gemm(false, false, 2, 2, 0, 1, new Float32Array(0), 1, new Float32Array(0), 2, 0.5, c, 2);
    expect(Array.from(c)).toEqual([0.5, 1, 1.5, 2]);
  });
});

describe.runIf(backends.includes('blas'))('blas backend specifics', () => {
  const blas = () => loadBackend('blas') as Kernels;

  it('agrees with the TypeScript backend on a training-sized product', () => {
    const c = { ta: false, tb: true, m: 128, n: 256, k: 784, alpha: 1, beta: 0, pad: 0, off: 0 };
    const x = check(loadBackend('ts') as Kernels, c, 7);
    const y = check(blas(), c, 7);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    expect(worst).toBeLessThan(1e-4); // |entries| ~ sqrt(784)/3 ~ 10; float32 summation-order noise
  });

  it('refuses arrays too short for the strides instead of touching memory past the end', () => {
    const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(4);
    expect(() => blas().gemm(false, false, 2, 2, 3, 1, a.subarray(1), 3, b, 2, 0, c, 2)).toThrow(ArgumentError);
    expect(() => blas().gemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2)).toThrow(/row stride/);
    expect(() => blas().gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c.subarray(1), 2)).toThrow(/needs 4/);
  });

  it('sets and reports threads, and still computes correctly with 2', () => {
    const k = blas();
    k.setThreads(2);
    expect(k.threads()).toBe(2);
    check(k, { ta: false, tb: false, m: 256, n: 256, k: 300, alpha: 1, beta: 0, pad: 0, off: 0 }, 9);
    k.setThreads(1);
    expect(k.threads()).toBe(1);
    expect(() => k.setThreads(0)).toThrow(ArgumentError);
  });
});

describe('blas loader', () => {
  it('reports what it tried when no library loads', () => {
    const r = loadBlas(['/nonexistent/libopenblas.so.0', 'libdefinitely-not-blas.so']);
    expect('unavailable' in r && r.unavailable).toMatch(/nonexistent.*not found.*not-blas/);
  });

  it('BNLAB_BLAS_LIB names the only library to try', () => {
    expect(candidateLibraries({ BNLAB_BLAS_LIB: '/opt/x/libcblas.so' })).toEqual(['/opt/x/libcblas.so']);
    expect(candidateLibraries({})[0]).toMatch(/openblas/);
  });

  it('a user-set OPENBLAS_CORETYPE is left alone', () => {
    const env = { OPENBLAS_CORETYPE: 'Haswell' };
    expect(preferCoreType(env)).toBeUndefined();
    expect(env.OPENBLAS_CORETYPE).toBe('Haswell');
  });

  it('BNLAB_THREADS defaults to 1 and rejects nonsense', () => {
    expect(threadsFromEnv({})).toBe(1);
    expect(threadsFromEnv({ BNLAB_THREADS: '2' })).toBe(2);
    expect(() => threadsFromEnv({ BNLAB_THREADS: 'two' })).toThrow(ArgumentError);
  });
});
