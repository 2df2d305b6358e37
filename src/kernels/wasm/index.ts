// The 'wasm' backend: the WebAssembly SIMD GEMM on the shared heap, plus the SIMD kernel families; Node and browsers alike.
import type { Kernels } from '../kernels.js';
import { checkGemm } from '../gemm-args.js';
import { simdAllowed } from '../simd-switch.js';
import { gemmTs } from '../ts/gemm.js';
import { simdAxpy, simdFamilies } from '../simd-families.js';
import { allocResident, allocStatic, freeResident, heapMemory, isResident } from '../../tensor/heap.js';
import { createWasmGemm, GEMM_WORK_BYTES, type WasmGemm } from './gemm.js';
import { relaxedSimdSupported } from './features.js';

/** Floats a stored rows x cols matrix with row stride ld spans. */
const extent = (rows: number, cols: number, ld: number) => (rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols);

/**
 * An operand's byte address: its own when it lives in the heap, else that of a heap copy of its span (the one
 * copy at the edge for arrays made outside bnlab). Null when the heap has no room for the copy.
 */
function addressOf(arr: Float32Array, floats: number, temps: Float32Array[]): number | null {
  if (isResident(arr) || floats === 0) return arr.byteOffset;
  const t = allocResident(floats, true);
  if (t === null) return null;
  t.set(arr.subarray(0, floats));
  temps.push(t);
  return t.byteOffset;
}

/** Kernels.gemm on the WebAssembly SGEMM: checks, operand addresses (copies for non-heap arrays), the call. */
function heapGemm(g: WasmGemm, work: number): Kernels['gemm'] {
  return (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    if (m === 0 || n === 0) return;
    const temps: Float32Array[] = [];
    const ext = { a: extent(transA ? k : m, transA ? m : k, lda), b: extent(transB ? n : k, transB ? k : n, ldb), c: extent(m, n, ldc) };
    const pa = k === 0 ? 0 : addressOf(a, ext.a, temps);
    const pb = k === 0 ? 0 : addressOf(b, ext.b, temps);
    // C is copied in even when beta = 0: the copy goes back whole, and the values between rows (ldc > n) must survive.
    const pc = addressOf(c, ext.c, temps);
    try {
      if (pa === null || pb === null || pc === null) {
        // The heap is full: the loops give the same product, slower.
        gemmTs(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
      }
      g.sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, work);
      // A copied C is the last temporary.
      if (!isResident(c) && ext.c > 0) c.set(temps[temps.length - 1].subarray(0, ext.c));
    } finally {
      for (const t of temps) freeResident(t);
    }
  };
}

let cached: Kernels | { unavailable: string } | undefined;

/** Compiles the GEMM once; later calls return the same kernels (or the same reason). */
export function loadWasmKernels(): Kernels | { unavailable: string } {
  if (cached) return cached;
  cached = build();
  return cached;
}

function build(): Kernels | { unavailable: string } {
  if (!simdAllowed()) {
    return { unavailable: typeof WebAssembly === 'undefined' ? 'no WebAssembly in this runtime' : 'WebAssembly SIMD is switched off (BNLAB_SIMD=0)' };
  }
  const heap = heapMemory();
  if (heap === null) return { unavailable: 'no WebAssembly heap could be reserved' };
  const relaxed = relaxedSimdSupported();
  const g = createWasmGemm(heap.memory, heap, { relaxed: relaxed.available });
  if (g === null) return { unavailable: 'this runtime has no WebAssembly SIMD' };
  const work = allocStatic(GEMM_WORK_BYTES);
  if (work === null) return { unavailable: 'no room in the WebAssembly heap for the GEMM workspace' };
  const fma = g.relaxed ? `relaxed SIMD FMA (f32x4.relaxed_madd, ${relaxed.how})` : `mul + add, no FMA (relaxed SIMD ${relaxed.how})`;
  return {
    name: 'wasm',
    description: `WebAssembly SIMD GEMM, ${fma}`,
    gemm: heapGemm(g, work),
    axpy: simdAxpy(),
    ...simdFamilies(),
    setThreads: () => {},
    threads: () => 1,
  };
}
