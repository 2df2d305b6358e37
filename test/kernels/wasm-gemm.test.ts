// The WebAssembly SGEMM on its own: every transpose combo, edge sizes, strides, alpha/beta, NaN in C, no stray writes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { relaxedSimdSupported, simdSupported } from '../../src/kernels/wasm/features.js';
import { createWasmGemm, GEMM_WORK_BYTES, type WasmGemm } from '../../src/kernels/wasm/gemm.js';
import { Rng } from '../../src/tensor/rng.js';

/** 32 MiB: operands up to ~1.5M floats each, past every block size of the kernel. */
const PAGES = 512;
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17, 31, 33, 67];
/** A float that no product writes: any change outside C's window shows up bit for bit. */
const SENTINEL = -7777.25;

interface Case {
  ta: number; tb: number; m: number; n: number; k: number; alpha: number; beta: number;
  /** Extra stride beyond the minimum for A, B, C (in floats). */
  pad: [number, number, number];
  /** C's old contents are NaN (only with beta = 0: they must not be read). */
  nanC?: boolean;
}

/** A memory and its floats; the work area is at byte 64, the operands after it (see runCase). */
class Arena {
  readonly f32: Float32Array;
  readonly work = 64;
  constructor(readonly memory: WebAssembly.Memory) {
    this.f32 = new Float32Array(memory.buffer);
  }
}

/** Fills A, B, C, runs the case, and checks C against a float64 reference and every other float against its old value. */
function runCase(g: WasmGemm, arena: Arena, c: Case, rng: Rng, skew = 0): void {
  const { ta, tb, m, n, k, alpha, beta, pad } = c;
  const [ar, ac] = ta ? [k, m] : [m, k];
  const [br, bc] = tb ? [n, k] : [k, n];
  const lda = Math.max(1, ac) + pad[0], ldb = Math.max(1, bc) + pad[1], ldc = Math.max(1, n) + pad[2];
  const f = arena.f32;
  const align = (x: number) => Math.ceil(x / 16) * 16 + skew;
  const first = (arena.work + GEMM_WORK_BYTES) / 4;
  const A = align(first + 64);
  const B = align(A + ar * lda + 64);
  const C = align(B + br * ldb + 64);
  const end = C + m * ldc + 64;
  // Everything but the work area starts as sentinels (the floats before it too); then the operands' values go in.
  f.fill(SENTINEL, 0, arena.work / 4);
  f.fill(SENTINEL, first, end);
  for (let i = 0; i < ar; i++) for (let p = 0; p < ac; p++) f[A + i * lda + p] = rng.uniform() * 2 - 1;
  for (let i = 0; i < br; i++) for (let p = 0; p < bc; p++) f[B + i * ldb + p] = rng.uniform() * 2 - 1;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) f[C + i * ldc + j] = c.nanC ? NaN : rng.uniform() * 2 - 1;
  const before = f.slice(0, end);
  // op(A) by rows and op(B) by columns, each row of length k, for the reference's dot products.
  const opA = new Float64Array(m * k), opBt = new Float64Array(n * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) opA[i * k + p] = f[A + (ta ? p * lda + i : i * lda + p)];
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) opBt[j * k + p] = f[B + (tb ? j * ldb + p : p * ldb + j)];

  g.sgemm(ta, tb, m, n, k, alpha, A * 4, lda, B * 4, ldb, beta, C * 4, ldc, arena.work);

  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, mag = 0;
      for (let p = 0; p < k; p++) {
        const x = opA[i * k + p] * opBt[j * k + p];
        s += x;
        mag += Math.abs(x);
      }
      const old = beta === 0 ? 0 : beta * before[C + i * ldc + j];
      const want = alpha * s + old;
      // float32 accumulation in k order (tolerance stated here, per DESIGN): 1e-5 of the magnitudes summed.
      const tol = 1e-5 * (Math.abs(alpha) * mag + Math.abs(old)) + 1e-30;
      const got = f[C + i * ldc + j];
      if (!(Math.abs(got - want) <= tol)) throw new Error(`${JSON.stringify(c)} C[${i},${j}] = ${got}, want ${want} (tol ${tol})`);
    }
  }
  const inC = (x: number) => x >= C && x < C + m * ldc && (x - C) % ldc < n;
  for (let x = 0; x < end; x++) {
    if ((x < arena.work / 4 || x >= first) && !inC(x) && !Object.is(f[x], before[x])) {
      throw new Error(`${JSON.stringify(c)}: float ${x} (C starts at ${C}) changed from ${before[x]} to ${f[x]}`);
    }
  }
}

/** Random cases over SIZES: all four transposes, strides with gaps, the alpha and beta values that matter. */
function randomCases(rng: Rng, count: number): Case[] {
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
  return Array.from({ length: count }, (_, i) => {
    const beta = pick([0, 1, 0.25]);
    return {
      ta: i & 1, tb: (i >> 1) & 1,
      m: pick(SIZES), n: pick(SIZES), k: pick(SIZES),
      alpha: pick([1, 0.5, -1]), beta,
      pad: [pick([0, 0, 1, 3, 8]), pick([0, 0, 2, 5]), pick([0, 0, 1, 7])],
      nanC: beta === 0 && rng.uniform() < 0.5,
    };
  });
}

const memories: { kind: string; shared: boolean }[] = [{ kind: 'non-shared', shared: false }, { kind: 'shared', shared: true }];

function makeGemm(shared: boolean, relaxed: boolean): { g: WasmGemm; arena: Arena } | null {
  const memory = new WebAssembly.Memory({ initial: PAGES, maximum: PAGES, shared } as WebAssembly.MemoryDescriptor);
  const g = createWasmGemm(memory, { shared, initial: PAGES, maximum: PAGES }, { relaxed });
  return g === null ? null : { g, arena: new Arena(memory) };
}

describe.runIf(simdSupported())('WebAssembly SGEMM', () => {
  it('needs a 64-byte multiple of work area', () => {
    expect(GEMM_WORK_BYTES % 64).toBe(0);
    expect(GEMM_WORK_BYTES).toBeGreaterThan(0);
  });

  for (const { kind, shared } of memories) {
    for (const relaxed of [false, true]) {
      const label = `${kind} memory, ${relaxed ? 'relaxed FMA' : 'mul + add'}`;
      const made = makeGemm(shared, relaxed);
      const skip = made === null || made.g.relaxed !== relaxed;
      if (skip) console.warn(`wasm-gemm: skipping "${label}": ${relaxed ? `relaxed SIMD ${relaxedSimdSupported().how}` : 'no SIMD'}`);

      describe.skipIf(skip)(label, () => {
        const { g, arena } = made!;

        it('matches a float64 reference on random shapes, transposes, strides, alpha and beta', () => {
          const rng = new Rng(relaxed ? 11 : 7);
          for (const c of randomCases(rng, 160)) runCase(g, arena, c, rng, rng.int(4));
        });

        it('crosses every cache block (k, m and n past KC, MC and NC) with beta applied once', () => {
          const rng = new Rng(3);
          for (const [ta, tb] of [[0, 0], [1, 1]]) runCase(g, arena, { ta, tb, m: 133, n: 1031, k: 300, alpha: -1, beta: 0.25, pad: [1, 2, 3] },
            rng, 1);
          runCase(g, arena, { ta: 0, tb: 1, m: 261, n: 19, k: 300, alpha: 0.5, beta: 1, pad: [0, 0, 0] }, rng);
          runCase(g, arena, { ta: 1, tb: 0, m: 5, n: 2100, k: 3, alpha: 1, beta: 0, pad: [0, 5, 0], nanC: true }, rng);
        });

        it('k = 0 and alpha = 0 scale C by beta (beta = 0 clears NaN); m or n = 0 writes nothing', () => {
          const rng = new Rng(5);
          for (const beta of [0, 0.25, 1]) {
            runCase(g, arena, { ta: 0, tb: 0, m: 7, n: 9, k: 0, alpha: 1, beta, pad: [0, 0, 3], nanC: beta === 0 }, rng);
            runCase(g, arena, { ta: 1, tb: 0, m: 9, n: 13, k: 17, alpha: 0, beta, pad: [1, 0, 2], nanC: beta === 0 }, rng);
          }
          runCase(g, arena, { ta: 0, tb: 0, m: 0, n: 9, k: 4, alpha: 1, beta: 0, pad: [0, 0, 0] }, rng);
          runCase(g, arena, { ta: 0, tb: 1, m: 5, n: 0, k: 4, alpha: 1, beta: 0, pad: [0, 0, 0] }, rng);
        });

        it('alpha = 0 does not read A or B (NaN there leaves beta * C)', () => {
          const f = arena.f32;
          const A = 4096 + GEMM_WORK_BYTES / 4, B = A + 64, C = B + 64;
          f.fill(NaN, A, C);
          f.fill(2, C, C + 16);
          g.sgemm(0, 0, 4, 4, 4, 0, A * 4, 4, B * 4, 4, 0.5, C * 4, 4, arena.work);
          expect(Array.from(f.subarray(C, C + 16))).toEqual(new Array(16).fill(1));
        });
      });
    }
  }
});

describe('feature probes', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('reports WebAssembly SIMD and how relaxed SIMD came to be available or not', () => {
    expect(typeof simdSupported()).toBe('boolean');
    const r = relaxedSimdSupported();
    expect(r.how).toMatch(/validated natively|enabled with --experimental-wasm-relaxed-simd|not supported|disabled/);
    expect(r.available).toBe(/validated|enabled/.test(r.how));
  });

  it('BNLAB_RELAXED_SIMD=0 switches relaxed SIMD off, and the GEMM falls back to mul + add', async () => {
    vi.stubEnv('BNLAB_RELAXED_SIMD', '0');
    vi.resetModules();
    const features = await import('../../src/kernels/wasm/features.js');
    expect(features.relaxedSimdSupported()).toEqual({ available: false, how: 'disabled by BNLAB_RELAXED_SIMD=0' });
    const { createWasmGemm: create } = await import('../../src/kernels/wasm/gemm.js');
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 64 });
    expect(create(memory, { shared: false, initial: 64, maximum: 64 })?.relaxed ?? false).toBe(false);
  });

  it('rejects a BNLAB_RELAXED_SIMD that is neither 0 nor 1', async () => {
    vi.stubEnv('BNLAB_RELAXED_SIMD', 'yes');
    vi.resetModules();
    const features = await import('../../src/kernels/wasm/features.js');
    expect(() => features.relaxedSimdSupported()).toThrow(RangeError);
  });
});
