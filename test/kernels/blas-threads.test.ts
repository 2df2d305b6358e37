// Per-GEMM thread choice of the blas backend: small GEMMs run on one thread, large ones on what was asked;
// results agree with one thread either way. Correctness only, never timings.
import { afterEach, describe, expect, it } from 'vitest';
import { PARALLEL_MIN_MACS, PARALLEL_MIN_DIM, gemmThreads, loadBlasKernels } from '../../src/kernels/blas/index.js';
import { loadBlas } from '../../src/kernels/blas/load.js';
import type { Kernels } from '../../src/kernels/kernels.js';
import { rand } from '../helpers/rand.js';

describe('gemmThreads (the per-call rule)', () => {
  it('gives one thread when one was asked, or the GEMM is small or thin', () => {
    expect(gemmThreads(1, 1024, 256, 784)).toBe(1);
    expect(gemmThreads(2, 60, 100, 784)).toBe(1); // W1's first layer: 4.7M MACs but 60 rows
    expect(gemmThreads(2, 64, 10, 3136)).toBe(1); // W3's head: 10 columns
    expect(gemmThreads(2, 100, 100, 60)).toBe(1); // 0.6M MACs
    expect(gemmThreads(2, 100, 784, 60)).toBe(1); // W1's dW: inner dimension = batch 60
    expect(gemmThreads(2, 64, 196, 289)).toBe(1); // W3's second conv, per image: 3.6M MACs
    expect(gemmThreads(2, PARALLEL_MIN_DIM, PARALLEL_MIN_DIM, Math.floor(PARALLEL_MIN_MACS / PARALLEL_MIN_DIM ** 2) - 1)).toBe(1);
  });

  it('gives what was asked for large GEMMs', () => {
    expect(gemmThreads(2, 128, 256, 784)).toBe(2);
    expect(gemmThreads(4, 1024, 256, 784)).toBe(4);
    expect(gemmThreads(2, 128, 256, 256)).toBe(2); // W2's hidden layers
    expect(gemmThreads(2, PARALLEL_MIN_DIM, PARALLEL_MIN_DIM, Math.ceil(PARALLEL_MIN_MACS / PARALLEL_MIN_DIM ** 2))).toBe(2);
  });
});

const loaded = loadBlasKernels();
if ('unavailable' in loaded) console.warn(`BLAS thread tests skipped: ${loaded.unavailable}`);

describe.runIf(!('unavailable' in loaded))('blas backend with 2 threads', () => {
  const k = loaded as Kernels;
  afterEach(() => k.setThreads(1));

  /** [transA, transB, m, n, k]: the W1/W2/W3/W5 shapes on both sides of the rule. */
  const cases: [boolean, boolean, number, number, number][] = [
    [false, true, 60, 100, 784], // below (thin): W1 forward
    [true, false, 100, 784, 60], // below (thin k): W1 dW
    [false, true, 60, 100, 100], // below (small)
    [false, true, 64, 10, 3136], // below (thin): W3 head
    [false, false, 64, 196, 289], // below (small): W3 conv forward
    [false, true, 128, 256, 784], // above: W2 forward
    [false, false, 128, 256, 256], // above: W2 dx
    [true, false, 256, 784, 128], // above: W2 dW
  ];

  function run(ta: boolean, tb: boolean, m: number, n: number, kk: number, threads: number, seed: number): Float32Array {
    k.setThreads(threads);
    const a = rand(m * kk, seed), b = rand(kk * n, seed + 1);
    const c = rand(m * n, seed + 2);
    k.gemm(ta, tb, m, n, kk, 0.75, a, ta ? m : kk, b, tb ? kk : n, 0.5, c, n);
    return c;
  }

  it.each(cases)('transA=%s transB=%s %ix%ix%i agrees with 1 thread', (ta, tb, m, n, kk) => {
    const one = run(ta, tb, m, n, kk, 1, 40);
    const two = run(ta, tb, m, n, kk, 2, 40);
    expect(k.threads()).toBe(2);
    // Entries ~ sqrt(k)/3 * 0.75; a different split may only change float32 summation order: k ulps of sqrt(k).
    const tol = 2 * kk * 2 ** -23 * Math.sqrt(kk);
    let worst = 0;
    for (let i = 0; i < one.length; i++) worst = Math.max(worst, Math.abs(one[i] - two[i]));
    expect(worst).toBeLessThanOrEqual(tol);
  });

  it('threads() reports what was asked while the library follows each GEMM, small and large', () => {
    // The same library handle: koffi's dlopen of the same name returns the already loaded library.
    const lib = loadBlas();
    const libThreads = 'unavailable' in lib ? undefined : lib.getThreads;
    k.setThreads(2);
    for (const [ta, tb, m, n, kk] of [cases[0], cases[4], cases[2], cases[5]]) {
      run(ta, tb, m, n, kk, 2, 50);
      expect(k.threads()).toBe(2);
      if (libThreads && k.description.startsWith('OpenBLAS')) expect(libThreads()).toBe(gemmThreads(2, m, n, kk));
    }
  });
});
