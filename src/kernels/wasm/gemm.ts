// WebAssembly SIMD SGEMM on an imported memory: packed panels, cache blocking, a 4 x 8 register tile, relaxed FMA where validated.
//
// Why: the plain TypeScript GEMM runs at ~1.6-2 GFLOP/s, since V8 compiles its float32 loops to scalar code, and
// GEMM is most of a training step; this one runs at ~40-50. The module is assembled at load by asm.ts from gemm-module.ts,
// gemm-kernel.ts and gemm-pack.ts (no toolchain, no binary blob) and works on byte addresses in the memory it
// imports, so tensors living in that memory are multiplied in place. The whole product, packing included, runs in
// WebAssembly; this file compiles it, warms it up and wraps the call.
import type { ImportedMemory } from './asm.js';
import { relaxedSimdSupported, simdSupported } from './features.js';
import { gemmModuleBytes, type GemmShape, workLayout } from './gemm-module.js';

/**
 * Tile and blocks. Tile 4 x 8 (faster than 5 x 8 and 6 x 8 under V8: see tileFunction). KC = 256 k steps keep a B
 * panel (8 KiB) and an A panel (4 KiB) in L1; MC = 128 rows of A (128 KiB packed) stay in L2; NC = 1024 columns of
 * B (1 MiB packed) cover every width bnlab uses in one block, so that A is packed once per k block. Measured on an
 * idle machine (EPYC, 48 KiB L1, 1 MiB L2): KC 128 or 512 and MC 64 or 256 are within 2% of these at bnlab's
 * shapes, which all fit in L2; these are the textbook sizes for smaller caches. Work area: 1 MiB + 128 KiB + 128 B.
 */
const SHAPE: GemmShape = { mr: 4, kc: 256, mc: 128, nc: 1024 };

/** Bytes of scratch the sgemm needs at `work` (packed panels of A and B, an edge tile); 64-byte aligned pointer. */
export const GEMM_WORK_BYTES: number = workLayout(SHAPE).bytes;

export interface WasmGemm {
  /**
   * C[m,n] = alpha op(A) op(B) + beta C, row-major, cblas_sgemm semantics; a, b, c, work are BYTE addresses in the
   * memory; beta = 0 ignores C's old contents (even NaN). Works for all four (transA, transB) combinations.
   */
  sgemm(
    transA: number, transB: number, m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number,
  ): void;
  /** True when f32x4.relaxed_madd (FMA) is in use. */
  readonly relaxed: boolean;
}

type SgemmExport = WasmGemm['sgemm'];

/** The sgemm export of `module` instantiated against `memory`. */
const instantiate = (module: WebAssembly.Module, memory: WebAssembly.Memory): SgemmExport =>
  new WebAssembly.Instance(module, { env: { mem: memory } }).exports.sgemm as SgemmExport;

/**
 * The products warmUp runs, [m, n, k, calls]: square-ish ones for the microkernel, a tall one with k = 8 for the
 * tile loop (macro) and the edge tiles, a wide and a tall one for packing B and A. Measured with
 * --trace-wasm-compilation-times on Node 20: one 32 x 32 x 32 product 40 times optimized only the microkernel, and
 * the first 256 x 784 x 256 product after it took 3.7-4.6 ms instead of 2.2 (packing and tile loop were optimized
 * during it); with these (~5-8 ms in all) the microkernel, both packings and the tile loop are optimized at
 * creation and the first product runs at full speed (the scalar edge merge tiers up later; it is a sliver).
 */
const WARM: [number, number, number, number][] = [[32, 36, 64, 20], [256, 72, 8, 20], [64, 256, 64, 10], [256, 32, 64, 10]];
/** Floats of the largest operand warmUp uses. */
const WARM_FLOATS = Math.max(...WARM.map(([m, n, k]) => Math.max(m * k, k * n, m * n)));
/** Pages of warmUp's private memory: the work area, then A, B and C. */
const warmPages = (workBytes: number) => Math.ceil((64 + workBytes + 3 * WARM_FLOATS * 4) / 65536);

/**
 * Compiles and instantiates against `memory` (described by `type`); null when WebAssembly SIMD is unavailable.
 * `relaxed`: use relaxed_madd when the runtime validates it (default true). Options beyond the contract
 * (`shape`) exist for benchmarks that compare tiles and blocks; the work area must then be workLayout(shape).bytes.
 * The module declares min(type.initial, warm-up pages) as its memory's minimum, so that it also links to the
 * small private memory warmUp uses; `memory` itself must be at least type.initial pages, as usual.
 */
export function createWasmGemm(
  memory: WebAssembly.Memory, type: ImportedMemory, opts: { relaxed?: boolean; shape?: GemmShape } = {},
): WasmGemm | null {
  if (!simdSupported()) return null;
  const shape = opts.shape ?? SHAPE;
  const work = workLayout(shape).bytes;
  const declared = { ...type, initial: Math.min(type.initial, warmPages(work)) };
  // relaxedSimdSupported() sets V8's flag on Node 20 before the relaxed module is compiled.
  let relaxed = (opts.relaxed ?? true) && relaxedSimdSupported().available;
  let bytes = gemmModuleBytes(shape, relaxed, declared);
  if (relaxed && !WebAssembly.validate(bytes)) {
    relaxed = false;
    bytes = gemmModuleBytes(shape, false, declared);
  }
  if (!WebAssembly.validate(bytes)) return null;
  const module = new WebAssembly.Module(bytes);
  warmUp(module, type, work);
  return { sgemm: instantiate(module, memory), relaxed };
}

/**
 * Runs the module's functions until V8's optimizing tier has them. V8 first compiles wasm with Liftoff (a baseline
 * tier, several times slower on this kernel) and tiers a function up in the background once it has spent its
 * budget; a call already running keeps its baseline code. Optimized code belongs to the module, so the products
 * run on an instance of it over a private memory: nothing the caller owns is touched. Skipped (the first real
 * calls then warm it) when the memory type is too small for the private memory.
 */
function warmUp(module: WebAssembly.Module, type: ImportedMemory, workBytes: number): void {
  const pages = warmPages(workBytes);
  if (type.maximum < pages) return;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: type.shared } as WebAssembly.MemoryDescriptor);
  const sgemm = instantiate(module, memory);
  const work = 64;
  const [a, b, c] = [0, 1, 2].map((i) => work + workBytes + i * WARM_FLOATS * 4);
  for (const [m, n, k, calls] of WARM) {
    for (let i = 0; i < calls; i++) {
      const [ta, tb] = [i & 1, (i >> 1) & 1];
      sgemm(ta, tb, m, n, k, 1, a, ta ? m : k, b, tb ? k : n, i & 1, c, n, work);
    }
  }
}
