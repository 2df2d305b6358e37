// Pure TypeScript GEMM: register-blocked loops (4 rows of C at a time), the portable fallback.

/**
 * C = alpha * op(A) op(B) + beta * C, row-major (see Kernels.gemm).
 * NN and TN stream rows of B into 4 rows of C at once (4 loads of A per B element reuse);
 * NT uses dot products along k with two rows of A at a time; TT is rare and goes through a transpose.
 */
export function gemmTs(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
): void {
  scaleC(m, n, beta, c, ldc);
  if (alpha === 0 || k === 0) return;
  if (!transB) {
    // A(i,p) = a[i*sai + p*sap]
    const sai = transA ? 1 : lda;
    const sap = transA ? lda : 1;
    gemmRowsB(m, n, k, alpha, a, sai, sap, b, ldb, c, ldc);
  } else if (!transA) {
    gemmDot(m, n, k, alpha, a, lda, b, ldb, c, ldc);
  } else {
    // A^T B^T = (B A)^T: compute T = B A (n x m) and add its transpose.
    const t = new Float32Array(n * m);
    gemmRowsB(n, m, k, 1, b, ldb, 1, a, lda, t, m);
    for (let i = 0; i < m; i++) {
      const ci = i * ldc;
      for (let j = 0; j < n; j++) c[ci + j] += alpha * t[j * m + i];
    }
  }
}

function scaleC(m: number, n: number, beta: number, c: Float32Array, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const ci = i * ldc;
    if (beta === 0) c.fill(0, ci, ci + n);
    else for (let j = 0; j < n; j++) c[ci + j] *= beta;
  }
}

/** C += alpha * A B with B row-contiguous [k,n]; A addressed by strides. */
function gemmRowsB(
  m: number, n: number, k: number, alpha: number,
  a: Float32Array, sai: number, sap: number,
  b: Float32Array, ldb: number, c: Float32Array, ldc: number,
): void {
  // Block over j so the 4 C rows plus a B row stay in L1.
  const JB = 256;
  for (let j0 = 0; j0 < n; j0 += JB) {
    const j1 = Math.min(n, j0 + JB);
    let i = 0;
    for (; i + 3 < m; i += 4) {
      const c0 = i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
      for (let p = 0; p < k; p++) {
        const ap = i * sai + p * sap;
        const a0 = alpha * a[ap], a1 = alpha * a[ap + sai], a2 = alpha * a[ap + 2 * sai], a3 = alpha * a[ap + 3 * sai];
        if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
        const bp = p * ldb;
        for (let j = j0; j < j1; j++) {
          const bv = b[bp + j];
          c[c0 + j] += a0 * bv;
          c[c1 + j] += a1 * bv;
          c[c2 + j] += a2 * bv;
          c[c3 + j] += a3 * bv;
        }
      }
    }
    for (; i < m; i++) {
      const c0 = i * ldc;
      for (let p = 0; p < k; p++) {
        const a0 = alpha * a[i * sai + p * sap];
        if (a0 === 0) continue;
        const bp = p * ldb;
        for (let j = j0; j < j1; j++) c[c0 + j] += a0 * b[bp + j];
      }
    }
  }
}

/** C += alpha * A B^T: C[i,j] = dot(A row i, B row j), two rows of A and two of B per block. */
function gemmDot(
  m: number, n: number, k: number, alpha: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, c: Float32Array, ldc: number,
): void {
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const a0 = i * lda, a1 = a0 + lda;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const b0 = j * ldb, b1 = b0 + ldb;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[a0 + p], x1 = a[a1 + p], y0 = b[b0 + p], y1 = b[b1 + p];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      c[i * ldc + j] += alpha * s00;
      c[i * ldc + j + 1] += alpha * s01;
      c[(i + 1) * ldc + j] += alpha * s10;
      c[(i + 1) * ldc + j + 1] += alpha * s11;
    }
    for (; j < n; j++) {
      const b0 = j * ldb;
      let s0 = 0, s1 = 0;
      for (let p = 0; p < k; p++) {
        s0 += a[a0 + p] * b[b0 + p];
        s1 += a[a1 + p] * b[b0 + p];
      }
      c[i * ldc + j] += alpha * s0;
      c[(i + 1) * ldc + j] += alpha * s1;
    }
  }
  for (; i < m; i++) {
    const a0 = i * lda;
    for (let j = 0; j < n; j++) {
      const b0 = j * ldb;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[a0 + p] * b[b0 + p];
      c[i * ldc + j] += alpha * s;
    }
  }
}
