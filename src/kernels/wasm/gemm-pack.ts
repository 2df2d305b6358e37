// Packing for the SGEMM: a block of op(A) or op(B) copied into panels of w rows, k-major and zero-padded.
import {
  f32Const, f32Load, f32Store, I32, I32_ADD, I32_AND, I32_EQ, I32_LE_U, I32_LT_U, I32_SHL, i32Const, shuffle, v128Load, v128Store,
} from './asm.js';
import { floats, forRange, Frame, get, ifElse, inc, incBy, plus, set, times, whileBelow } from './gemm-frame.js';

/**
 * pack(src, si, sp, rows, kc, dst) for panels of `w` rows: element (i, p) of the block (i < rows, p < kc) is the f32
 * at src + i * si + p * sp (byte strides, so one function packs A or B, transposed or not); panel q holds rows
 * q*w .. q*w + w - 1 as kc groups of w floats (group p: the w rows at k step p), rows past `rows` being zeros.
 * So the microkernel reads both operands contiguously and never tests for a remainder.
 * Full panels take a vector path: a k step is a vector copy when the panel's rows are adjacent in memory (si = 4),
 * and 4 x 4 blocks are transposed with shuffles when each row runs along k (sp = 4; w a multiple of 4). Measured
 * per float (blocks of 256 x 784 x 256): 0.09 ns transposing (0.32 one float at a time), 0.14 ns copying B's
 * 8-float rows, 0.25 ns copying A's 4-float rows (the source rows 1 KiB apart fall in 4 of L1's 64 sets; unrolling
 * did not help). Packing is ~2-3% of that product.
 */
export function packFunction(name: string, w: number) {
  const [SRC, SI, SP, ROWS, KC, DST] = [0, 1, 2, 3, 4, 5];
  const f = new Frame([I32, I32, I32, I32, I32, I32]);
  const [q, r, s, d, end, panel] = [f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()];
  const contiguous = [
    ...set(s, plus(get(SRC), floats(q))),
    ...set(d, get(DST)),
    ...whileBelow(d, end, [...copyRow(w, s, d), ...inc(s, get(SP)), ...incBy(d, w * 4)]),
  ];
  const gather = forRange(r, i32Const(0), i32Const(w), i32Const(1), [
    ...set(d, plus(get(DST), floats(r))),
    ...ifElse(
      [...plus(get(q), get(r)), ...get(ROWS), ...I32_LT_U],
      [
        ...set(s, plus(get(SRC), times(plus(get(q), get(r)), get(SI)))),
        ...whileBelow(d, end, [...get(d), ...get(s), ...f32Load(0), ...f32Store(0), ...inc(s, get(SP)), ...incBy(d, w * 4)]),
      ],
      whileBelow(d, end, [...get(d), ...f32Const(0), ...f32Store(0), ...incBy(d, w * 4)]),
    ),
  ]);
  const full = [...get(q), ...i32Const(w), ...I32_ADD, ...get(ROWS), ...I32_LE_U];
  const strideIs4 = (x: number) => [...get(x), ...i32Const(4), ...I32_EQ];
  const transposed = w % 4 === 0 ? transposePanel(f, w, { SRC, SI, KC, DST }, q) : null;
  return f.fn(name, [
    ...set(panel, times(get(KC), i32Const(w * 4))),
    ...forRange(q, i32Const(0), get(ROWS), i32Const(w), [
      ...set(end, plus(get(DST), get(panel))),
      ...ifElse(
        [...strideIs4(SI), ...full, ...I32_AND],
        contiguous,
        transposed === null ? gather : ifElse([...strideIs4(SP), ...full, ...I32_AND], transposed, gather),
      ),
      ...inc(DST, get(panel)),
    ]),
  ]);
}

/** Copies w adjacent floats from local s to local d: v128 moves, then single floats. */
function copyRow(w: number, s: number, d: number): number[] {
  const out: number[] = [];
  let o = 0;
  for (; o + 4 <= w; o += 4) out.push(...get(d), ...get(s), ...v128Load(o * 4), ...v128Store(o * 4));
  for (; o < w; o++) out.push(...get(d), ...get(s), ...f32Load(o * 4), ...f32Store(o * 4));
  return out;
}

/** i8x16.shuffle byte indices taking i32 lanes `lanes` of the concatenation of two vectors (lanes 0-3: a, 4-7: b). */
const lanes = (l: number[]) => shuffle(l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]));
const LO_PAIRS = lanes([0, 4, 1, 5]);
const HI_PAIRS = lanes([2, 6, 3, 7]);
const LO_HALVES = lanes([0, 1, 4, 5]);
const HI_HALVES = lanes([2, 3, 6, 7]);

/**
 * A full panel whose rows each run along k (sp = 4): for each group of 4 rows, 4 k steps at a time, four v128 loads
 * (one per row), a 4 x 4 transpose in 8 shuffles (unpack low/high pairs, then halves) and four stores of 4 rows;
 * the k steps past a multiple of 4 one float at a time. Locals come from `f`; q is the panel's first row.
 */
function transposePanel(f: Frame, w: number, p: { SRC: number; SI: number; KC: number; DST: number }, q: number): number[] {
  const s = [f.i32(), f.i32(), f.i32(), f.i32()];
  const [d, vend, send] = [f.i32(), f.i32(), f.i32()];
  const v = [f.v128(), f.v128(), f.v128(), f.v128()];
  const t = [f.v128(), f.v128(), f.v128(), f.v128()];
  const pair = (a: number, b: number, which: number[]) => [...get(a), ...get(b), ...which];
  const block = [
    ...s.flatMap((sr, j) => set(v[j], [...get(sr), ...v128Load(0)])),
    ...set(t[0], pair(v[0], v[1], LO_PAIRS)), ...set(t[1], pair(v[0], v[1], HI_PAIRS)),
    ...set(t[2], pair(v[2], v[3], LO_PAIRS)), ...set(t[3], pair(v[2], v[3], HI_PAIRS)),
    ...get(d), ...pair(t[0], t[2], LO_HALVES), ...v128Store(0),
    ...get(d), ...pair(t[0], t[2], HI_HALVES), ...v128Store(w * 4),
    ...get(d), ...pair(t[1], t[3], LO_HALVES), ...v128Store(2 * w * 4),
    ...get(d), ...pair(t[1], t[3], HI_HALVES), ...v128Store(3 * w * 4),
    ...s.flatMap((sr) => incBy(sr, 16)),
    ...incBy(d, 4 * w * 4),
  ];
  const single = [
    ...s.flatMap((sr, j) => [...get(d), ...get(sr), ...f32Load(0), ...f32Store(4 * j)]),
    ...s.flatMap((sr) => incBy(sr, 4)),
    ...incBy(d, w * 4),
  ];
  return Array.from({ length: w / 4 }, (_, g) => [
    ...s.flatMap((sr, j) => set(sr, plus(get(p.SRC), times([...get(q), ...i32Const(4 * g + j), ...I32_ADD], get(p.SI))))),
    ...set(d, plus(get(p.DST), i32Const(16 * g))),
    ...set(vend, plus(get(s[0]), [...get(p.KC), ...i32Const(-4), ...I32_AND, ...i32Const(2), ...I32_SHL])),
    ...set(send, plus(get(s[0]), floats(p.KC))),
    ...whileBelow(s[0], vend, block),
    ...whileBelow(s[0], send, single),
  ]).flat();
}
