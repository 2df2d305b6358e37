// Argument checks every GEMM backend runs first: native and WebAssembly code would write out of bounds where loops would not.
import { ArgumentError } from '../tensor/errors.js';

/**
 * Throws an ArgumentError naming the operand unless a stored rows x cols matrix with row stride ld fits in `arr`.
 * Why every backend checks: OpenBLAS would read or write past the array, and the WebAssembly GEMM past the view
 * into a neighbouring tensor's block of the heap; the TypeScript loops would only produce NaN or drop writes.
 */
export function checkFits(what: string, arr: Float32Array, rows: number, cols: number, ld: number): void {
  if (!(arr instanceof Float32Array)) throw new ArgumentError(`gemm: ${what} must be a Float32Array`);
  if (!Number.isInteger(ld) || ld < Math.max(1, cols)) {
    throw new ArgumentError(`gemm: ${what} row stride ${ld} must be an integer >= ${Math.max(1, cols)}`);
  }
  const need = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
  if (arr.length < need) {
    throw new ArgumentError(`gemm: ${what} holds ${arr.length} floats, needs ${need} (${rows}x${cols}, stride ${ld})`);
  }
}

/** Checks sizes and all three operands of C[m,n] = alpha op(A)[m,k] op(B)[k,n] + beta C (see Kernels.gemm). */
export function checkGemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, c: Float32Array, ldc: number,
): void {
  for (const [name, v] of [['m', m], ['n', n], ['k', k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ArgumentError(`gemm: ${name} must be a non-negative integer, got ${v}`);
  }
  checkFits('C', c, m, n, ldc);
  if (k === 0 || m === 0 || n === 0) return;
  checkFits('A', a, transA ? k : m, transA ? m : k, lda);
  checkFits('B', b, transB ? n : k, transB ? k : n, ldb);
}
