// im2col / col2im for one image: unfold (C, H, W) into columns (C*kh*kw, Ho*Wo) so conv2d is a GEMM.

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
 * The span of row (ci, i, j) of col that reads x in one piece when stride = 1 and wo = w ('same' convolutions):
 * then col[row + p] = x[ci plane + p + shift] for p in [p0, p1), shift = (i - pad) * w + j - pad, except at the
 * columns ox < lo[j] or ox >= hi[j] of each output row, where the piece wraps around the image edge and padding
 * belongs. One long copy plus a fix-up per output row is much cheaper than a short loop per output row.
 */
function sameSpan(g: ConvGeom, i: number, j: number, lo: Int32Array, hi: Int32Array) {
  const { h, w, pad, ho, wo } = g;
  const oy0 = Math.min(ho, Math.max(0, pad - i));
  const oy1 = Math.max(oy0, Math.min(ho, h + pad - i));
  const shift = (i - pad) * w + j - pad;
  // A row that reads only padding: an empty span, so the whole row is zeroed.
  if (oy0 === oy1 || lo[j] >= hi[j]) return { oy0, oy1, p0: 0, p1: 0, shift };
  return { oy0, oy1, p0: oy0 * wo + lo[j], p1: (oy1 - 1) * wo + hi[j], shift };
}

/** col[(ci*kh + i)*kw + j, oy*wo + ox] = x[ci, oy*s + i - p, ox*s + j - p] (0 outside). */
export function im2col(x: Float32Array, xOff: number, g: ConvGeom, col: Float32Array): void {
  const { c, h, w, kh, kw, stride, pad, ho, wo } = g;
  const plane = ho * wo;
  const { lo, hi } = validRanges(g);
  if (stride === 1 && wo === w) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const { oy0, oy1, p0, p1, shift } = sameSpan(g, i, j, lo, hi);
        const a = lo[j];
        const b = hi[j];
        for (let ci = 0; ci < c; ci++) {
          const row = ((ci * kh + i) * kw + j) * plane;
          const src = xOff + ci * h * w + shift;
          // set() and fill() are memmove/memset: measured 3.5x faster than a JavaScript copy loop on these rows.
          col.fill(0, row, row + p0);
          col.set(x.subarray(src + p0, src + p1), row + p0);
          col.fill(0, row + p1, row + plane);
          for (let oy = oy0; oy < oy1 && p0 < p1; oy++) {
            const r = row + oy * wo;
            for (let ox = 0; ox < a; ox++) col[r + ox] = 0;
            for (let ox = b; ox < wo; ox++) col[r + ox] = 0;
          }
        }
      }
    }
    return;
  }
  for (let ci = 0; ci < c; ci++) {
    const xc = xOff + ci * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = ((ci * kh + i) * kw + j) * plane;
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
          // Plain loops for the padding: the edges are one or two values, where a fill() call costs more.
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
 * The adjoint of im2col: dx[ci, iy, ix] += sum of the column entries that read it.
 * col is scratch: for stride 1 and wo = w its entries that read padding are set to 0 on the way.
 */
export function col2im(col: Float32Array, g: ConvGeom, dx: Float32Array, dxOff: number): void {
  const { c, h, w, kh, kw, stride, pad, ho, wo } = g;
  const plane = ho * wo;
  const { lo, hi } = validRanges(g);
  if (stride === 1 && wo === w) {
    // As in im2col: one long loop per row of col, after zeroing the wrapped entries so they add nothing.
    // Same (ci, i, j) order as the general loop below, so each dx sums its terms in the same order.
    for (let ci = 0; ci < c; ci++) {
      const dst = dxOff + ci * h * w;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const { oy0, oy1, p0, p1, shift } = sameSpan(g, i, j, lo, hi);
          const row = ((ci * kh + i) * kw + j) * plane;
          const a = lo[j];
          const b = hi[j];
          for (let oy = oy0; oy < oy1 && p0 < p1; oy++) {
            const r = row + oy * wo;
            for (let ox = 0; ox < a; ox++) col[r + ox] = 0;
            for (let ox = b; ox < wo; ox++) col[r + ox] = 0;
          }
          const d = dst + shift;
          for (let p = p0; p < p1; p++) dx[d + p] += col[row + p];
        }
      }
    }
    return;
  }
  for (let ci = 0; ci < c; ci++) {
    const xc = dxOff + ci * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = ((ci * kh + i) * kw + j) * plane;
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
