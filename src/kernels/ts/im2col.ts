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

/** col[(ci*kh + i)*kw + j, oy*wo + ox] = x[ci, oy*s + i - p, ox*s + j - p] (0 outside). */
export function im2col(x: Float32Array, xOff: number, g: ConvGeom, col: Float32Array): void {
  const { c, h, w, kh, kw, stride, pad, ho, wo } = g;
  const plane = ho * wo;
  for (let ci = 0; ci < c; ci++) {
    const xc = xOff + ci * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = ((ci * kh + i) * kw + j) * plane;
        for (let oy = 0; oy < ho; oy++) {
          const iy = oy * stride + i - pad;
          const dst = row + oy * wo;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + wo);
            continue;
          }
          const src = xc + iy * w;
          for (let ox = 0; ox < wo; ox++) {
            const ix = ox * stride + j - pad;
            col[dst + ox] = ix >= 0 && ix < w ? x[src + ix] : 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: dx[ci, iy, ix] += sum of the column entries that read it. */
export function col2im(col: Float32Array, g: ConvGeom, dx: Float32Array, dxOff: number): void {
  const { c, h, w, kh, kw, stride, pad, ho, wo } = g;
  const plane = ho * wo;
  for (let ci = 0; ci < c; ci++) {
    const xc = dxOff + ci * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = ((ci * kh + i) * kw + j) * plane;
        for (let oy = 0; oy < ho; oy++) {
          const iy = oy * stride + i - pad;
          if (iy < 0 || iy >= h) continue;
          const src = row + oy * wo;
          const dst = xc + iy * w;
          for (let ox = 0; ox < wo; ox++) {
            const ix = ox * stride + j - pad;
            if (ix >= 0 && ix < w) dx[dst + ix] += col[src + ox];
          }
        }
      }
    }
  }
}
