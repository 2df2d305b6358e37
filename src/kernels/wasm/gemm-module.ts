// The SGEMM module: the blocked driver (cache blocks, packing calls, tile loop) around gemm-kernel.ts's microkernel.
import {
  buildModule, call, F32, f32Const, F32_EQ, I32, I32_ADD, I32_DIV_U, I32_SUB, I32_EQZ, I32_LE_U, I32_AND, I32_OR, i32Const, RETURN, SELECT,
  type ImportedMemory,
} from './asm.js';
import { floats, forRange, Frame, get, ifElse, inc, minU, plus, set, times } from './gemm-frame.js';
import { edgeFunction, NR, scaleFunction, tileFunction } from './gemm-kernel.js';
import { packFunction } from './gemm-pack.js';

/** Tile rows, and the cache blocks: KC k steps (panels in L1), MC rows of A (a packed block in L2), NC columns of B. */
export interface GemmShape {
  mr: number;
  kc: number;
  mc: number;
  nc: number;
}

/** Byte offsets in the work area: packed B (kc x nc), packed A (mc x kc), the edge tile (mr x 8); each 64-aligned. */
export function workLayout(s: GemmShape): { bp: number; ap: number; tile: number; bytes: number } {
  const up = (v: number) => Math.ceil(v / 64) * 64;
  const ap = up(s.kc * s.nc * 4);
  const tile = ap + up(s.mc * s.kc * 4);
  return { bp: 0, ap, tile, bytes: tile + up(s.mr * NR * 4) };
}

// The module's functions, numbered in the order buildModule receives them (call targets).
const MACRO = 1;
const TILE = 2;
const EDGE = 3;
const SCALE = 4;
const PACK_A = 5;
const PACK_B = 6;

/**
 * macro(ap, bp, mc, nc, kc, c, ldc, alpha, bet, tile): C[0:mc, 0:nc] = alpha * Ablock Bblock + bet * C from the packed
 * blocks, tile by tile: columns outside (a B panel of kc x 8 stays in L1), rows inside (the A block streams from L2).
 * Partial tiles go through the scratch tile and edge(), so C is written only inside its window.
 */
function macroFunction(mr: number) {
  const [AP, BP, MC, NC, KC, C, LDC, ALPHA, BET, TBUF] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const f = new Frame([I32, I32, I32, I32, I32, I32, I32, F32, F32, I32]);
  const [jr, ir, pa, pb, cij] = [f.i32(), f.i32(), f.i32(), f.i32(), f.i32()];
  const fits = (i: number, w: number, lim: number) => [...get(i), ...i32Const(w), ...I32_ADD, ...get(lim), ...I32_LE_U];
  const tile = [
    ...set(cij, plus(plus(get(C), times(get(ir), get(LDC))), floats(jr))),
    ...ifElse(
      [...fits(ir, mr, MC), ...fits(jr, NR, NC), ...I32_AND],
      [...get(pa), ...get(pb), ...get(KC), ...get(cij), ...get(LDC), ...get(ALPHA), ...get(BET), ...call(TILE)],
      [
        ...get(pa), ...get(pb), ...get(KC), ...get(TBUF), ...i32Const(NR * 4), ...get(ALPHA), ...f32Const(0), ...call(TILE),
        ...get(TBUF), ...get(cij), ...get(LDC),
        ...minU(i32Const(mr), [...get(MC), ...get(ir), ...I32_SUB]), ...minU(i32Const(NR), [...get(NC), ...get(jr), ...I32_SUB]),
        ...get(BET), ...call(EDGE),
      ],
    ),
    ...inc(pa, times(get(KC), i32Const(mr * 4))),
  ];
  return f.fn('macro', forRange(jr, i32Const(0), get(NC), i32Const(NR), [
    ...set(pb, plus(get(BP), times(get(jr), floats(KC)))),
    ...set(pa, get(AP)),
    ...forRange(ir, i32Const(0), get(MC), i32Const(mr), tile),
  ]));
}

/**
 * ceil(total / ceil(total / max)) rounded up to a multiple of `multiple`: equal blocks of at most `max` (a
 * multiple of `multiple`), so that k = 784 runs as 4 x 196 rather than 3 x 256 + 16 (a thin last block wastes
 * the microkernel's fixed cost of reading and writing its tile of C).
 */
const balanced = (total: number, max: number, multiple: number) => {
  const blocks = [...get(total), ...i32Const(max - 1), ...I32_ADD, ...i32Const(max), ...I32_DIV_U];
  const size = [...get(total), ...blocks, ...i32Const(1), ...I32_SUB, ...I32_ADD, ...blocks, ...I32_DIV_U];
  return multiple === 1 ? size : times([...size, ...i32Const(multiple - 1), ...I32_ADD, ...i32Const(multiple), ...I32_DIV_U], i32Const(multiple));
};

/**
 * sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, work): C = alpha op(A) op(B) + beta C, row-major
 * (cblas_sgemm), GotoBLAS's loop order: for each NC block of columns, for each KC block of k, pack B; for each MC
 * block of rows, pack A and run the tiles. beta applies with the first k block; later blocks add (bet = 1).
 */
function sgemmFunction(s: GemmShape) {
  const [TA, TB, M, N, K, ALPHA, A, LDA, B, LDB, BETA, C, LDC, WORK] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const f = new Frame([I32, I32, I32, I32, I32, F32, I32, I32, I32, I32, F32, I32, I32, I32]);
  const [kcMax, mcMax, ncMax, asi, asp, bsi, bsp] = [f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()];
  const [jc, pc, ic, kc, mc, nc] = [f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()];
  const bet = f.f32();
  const w = workLayout(s);
  const at = (base: number, i: number, si: number, p: number, sp: number) => plus(plus(get(base), times(get(i), get(si))), times(get(p), get(sp)));
  const rowBlock = [
    ...set(mc, minU(get(mcMax), [...get(M), ...get(ic), ...I32_SUB])),
    ...at(A, ic, asi, pc, asp), ...get(asi), ...get(asp), ...get(mc), ...get(kc), ...plus(get(WORK), i32Const(w.ap)), ...call(PACK_A),
    ...plus(get(WORK), i32Const(w.ap)), ...plus(get(WORK), i32Const(w.bp)), ...get(mc), ...get(nc), ...get(kc),
    ...plus(get(C), plus(times(get(ic), get(LDC)), floats(jc))), ...get(LDC), ...get(ALPHA), ...get(bet),
    ...plus(get(WORK), i32Const(w.tile)), ...call(MACRO),
  ];
  const kBlock = [
    ...set(kc, minU(get(kcMax), [...get(K), ...get(pc), ...I32_SUB])),
    ...set(bet, [...get(BETA), ...f32Const(1), ...get(pc), ...I32_EQZ, ...SELECT]),
    ...at(B, jc, bsi, pc, bsp), ...get(bsi), ...get(bsp), ...get(nc), ...get(kc), ...plus(get(WORK), i32Const(w.bp)), ...call(PACK_B),
    ...forRange(ic, i32Const(0), get(M), get(mcMax), rowBlock),
  ];
  return f.fn('sgemm', [
    ...ifElse([...get(M), ...I32_EQZ, ...get(N), ...I32_EQZ, ...I32_OR], RETURN),
    ...set(LDA, floats(LDA)), ...set(LDB, floats(LDB)), ...set(LDC, floats(LDC)),
    ...ifElse([...get(K), ...I32_EQZ, ...get(ALPHA), ...f32Const(0), ...F32_EQ, ...I32_OR], [
      ...get(C), ...get(LDC), ...get(M), ...get(N), ...get(BETA), ...call(SCALE), ...RETURN,
    ]),
    ...set(kcMax, balanced(K, s.kc, 1)), ...set(mcMax, balanced(M, s.mc, s.mr)), ...set(ncMax, balanced(N, s.nc, NR)),
    // Byte strides of op(A)(i, p) and op(B)(p, j) along the panel (i, j) and along k (p).
    ...set(asi, [...i32Const(4), ...get(LDA), ...get(TA), ...SELECT]), ...set(asp, [...get(LDA), ...i32Const(4), ...get(TA), ...SELECT]),
    ...set(bsi, [...get(LDB), ...i32Const(4), ...get(TB), ...SELECT]), ...set(bsp, [...i32Const(4), ...get(LDB), ...get(TB), ...SELECT]),
    ...forRange(jc, i32Const(0), get(N), get(ncMax), [
      ...set(nc, minU(get(ncMax), [...get(N), ...get(jc), ...I32_SUB])),
      ...forRange(pc, i32Const(0), get(K), get(kcMax), kBlock),
    ]),
  ]);
}

/** The module's bytes: sgemm (exported, with its helpers exported too as buildModule does) importing env.mem. */
export function gemmModuleBytes(s: GemmShape, relaxed: boolean, memory: ImportedMemory): Uint8Array<ArrayBuffer> {
  return buildModule([
    sgemmFunction(s),
    macroFunction(s.mr),
    tileFunction(s.mr, relaxed),
    edgeFunction(),
    scaleFunction(),
    packFunction('packA', s.mr),
    packFunction('packB', NR),
  ], memory);
}
