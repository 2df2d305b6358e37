// im2col / col2im for one image: unfold (C, H, W) into columns (kh*kw*C, Ho*Wo) so conv2d is a GEMM (conv's own layout loops, no backend variant).

/** Geometry of a 2-d convolution or pooling window over one image. */
export interface ConvGeom {
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  ho: number;
  wo: number;
}

/**
 * For each kernel column j, the output columns [lo[j], hi[j]) whose input column ox*stride + j - pad lies inside
 * [0, w); the others read padding. Computed once per call so the inner loops carry no bounds tests.
 */
function validRanges(g: ConvGeom): { lo: Int32Array; hi: Int32Array } {
  const { w, kw, stride, pad, wo } = g;
  const lo = new Int32Array(kw);
  const hi = new Int32Array(kw);
  for (let j = 0; j < kw; j++) {
    lo[j] = Math.min(wo, Math.max(0, Math.ceil((pad - j) / stride)));
    hi[j] = Math.max(lo[j], Math.min(wo, Math.floor((w - 1 + pad - j) / stride) + 1));
  }
  return { lo, hi };
}

/**
 * Where a 'same' convolution (stride 1, output size = input size, so a channel's plane is as long as a row of col)
 * reads x in one piece: for tap (i, j), col[tap rows + t] = x[xOff + t + shift] for the flat index t = ci*plane + p
 * over [p0, (c-1)*plane + p1), shift = (i - pad) * w + j - pad, one copy for all channels. The copy also fills
 * places that belong to padding: per channel the first p0 and last plane - p1 entries (rows above or below the
 * image, or past its corners) and, in each output row oy in [oy0, oy1), the columns ox < lo[j] and ox >= hi[j]
 * where the run wraps around the image edge; those are then set to 0. One long copy and short fix-ups cost far
 * less than a short loop per output row.
 */
function sameSpan(g: ConvGeom, i: number, j: number, lo: Int32Array, hi: Int32Array) {
  const { h, w, pad, ho, wo } = g;
  const oy0 = Math.min(ho, Math.max(0, pad - i));
  const oy1 = Math.max(oy0, Math.min(ho, h + pad - i));
  const shift = (i - pad) * w + j - pad;
  // A tap that reads only padding: an empty span, so its rows are all zero.
  if (oy0 === oy1 || lo[j] >= hi[j]) return { oy0, oy1, p0: 0, p1: 0, shift };
  return { oy0, oy1, p0: oy0 * wo + lo[j], p1: (oy1 - 1) * wo + hi[j], shift };
}

/** True when im2col/col2im can use the one-copy-per-tap path (see sameSpan). */
function isSame(g: ConvGeom): boolean {
  return g.stride === 1 && g.wo === g.w && g.ho === g.h;
}

/**
 * Zeroes, in the rows of one tap (starting at `base`, c rows of `plane`), every entry that reads padding
 * or that a one-piece copy wrapped around an image edge (see sameSpan): the output rows above oy0 and from oy1
 * on, and the columns ox < a and ox >= b of every output row. The columns are zeroed by strided loops over all
 * c * ho output rows of the tap at once: per-row loops of one or two elements cost more than the copy itself.
 */
function zeroOutside(col: Float32Array, base: number, g: ConvGeom, span: ReturnType<typeof sameSpan>, a: number, b: number): void {
  const { c, ho, wo } = g;
  const plane = ho * wo;
  const { oy0, oy1, p0, p1 } = span;
  if (p0 >= p1) {
    col.fill(0, base, base + c * plane);
    return;
  }
  if (oy0 > 0 || oy1 < ho) {
    for (let ci = 0; ci < c; ci++) {
      const row = base + ci * plane;
      for (let p = 0; p < oy0 * wo; p++) col[row + p] = 0;
      for (let p = oy1 * wo; p < plane; p++) col[row + p] = 0;
    }
  }
  const rows = c * ho;
  for (let ox = 0; ox < a; ox++) for (let q = 0, at = base + ox; q < rows; q++, at += wo) col[at] = 0;
  for (let ox = b; ox < wo; ox++) for (let q = 0, at = base + ox; q < rows; q++, at += wo) col[at] = 0;
}

/**
 * col[(i*kw + j)*c + ci, oy*wo + ox] = x[ci, oy*s + i - p, ox*s + j - p] (0 outside). Rows are grouped by tap
 * (i, j), channels inside: the weights must be ordered (Cout, kh, kw, C) to match (conv2d reorders them).
 */
export function im2col(x: Float32Array, xOff: number, g: ConvGeom, col: Float32Array): void {
  const { c, h, w, kh, kw, stride, pad, ho, wo } = g;
  const plane = ho * wo;
  const { lo, hi } = validRanges(g);
  if (isSame(g)) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const span = sameSpan(g, i, j, lo, hi);
        const base = (i * kw + j) * c * plane;
        const src = xOff + span.shift;
        // set() is a memmove: measured 3.5x faster than a JavaScript copy loop, and one call serves all channels.
        if (span.p0 < span.p1) col.set(x.subarray(src + span.p0, src + (c - 1) * plane + span.p1), base + span.p0);
        zeroOutside(col, base, g, span, lo[j], hi[j]);
      }
    }
    return;
  }
  for (let ci = 0; ci < c; ci++) {
    const xc = xOff + ci * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = ((i * kw + j) * c + ci) * plane;
        const a = lo[j];
        const b = hi[j];
        for (let oy = 0; oy < ho; oy++) {
          const iy = oy * stride + i - pad;
          const dst = row + oy * wo;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + wo);
            continue;
          }
          const src = xc + iy * w + j - pad;
          for (let ox = 0; ox < a; ox++) col[dst + ox] = 0;
          if (stride === 1) for (let ox = a; ox < b; ox++) col[dst + ox] = x[src + ox];
          else for (let ox = a; ox < b; ox++) col[dst + ox] = x[src + ox * stride];
          for (let ox = b; ox < wo; ox++) col[dst + ox] = 0;
        }
      }
    }
  }
}

/**
 * The adjoint of im2col (same row order): dx[ci, iy, ix] += sum of the column entries that read it, in tap order.
 * col is scratch: for 'same' convolutions its entries that read padding are set to 0 on the way.
 */
export function col2im(col: Float32Array, g: ConvGeom, dx: Float32Array, dxOff: number): void {
  const { c, h, w, kh, kw, stride, pad, ho, wo } = g;
  const plane = ho * wo;
  const { lo, hi } = validRanges(g);
  if (isSame(g)) {
    // As in im2col: one long loop per tap over all channels, after zeroing the entries that read padding so the
    // wrapped places add nothing. Each dx still sums its terms in tap order.
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const span = sameSpan(g, i, j, lo, hi);
        const base = (i * kw + j) * c * plane;
        zeroOutside(col, base, g, span, lo[j], hi[j]);
        if (span.p0 >= span.p1) continue;
        const d = dxOff + span.shift - base;
        for (let t = base + span.p0, end = base + (c - 1) * plane + span.p1; t < end; t++) dx[d + t] += col[t];
      }
    }
    return;
  }
  for (let ci = 0; ci < c; ci++) {
    const xc = dxOff + ci * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = ((i * kw + j) * c + ci) * plane;
        const a = lo[j];
        const b = hi[j];
        for (let oy = 0; oy < ho; oy++) {
          const iy = oy * stride + i - pad;
          if (iy < 0 || iy >= h) continue;
          const src = row + oy * wo;
          const dst = xc + iy * w + j - pad;
          if (stride === 1) for (let ox = a; ox < b; ox++) dx[dst + ox] += col[src + ox];
          else for (let ox = a; ox < b; ox++) dx[dst + ox * stride] += col[src + ox];
        }
      }
    }
  }
}
