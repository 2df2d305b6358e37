// The residual join y = act(alpha * branch + shortcut) as one op, forward and backward, on branch-free kernels.
import { record } from '../autograd/record.js';
import { Tensor } from '../tensor/tensor.js';
import { allocUninit } from '../tensor/alloc.js';
import { releaseBuffer } from '../tensor/pool.js';
import { kernels } from '../kernels/select.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { expectTensor, sameShape } from './util.js';

/** Options of residualAdd. */
export interface ResidualAddOptions {
  /** A learnable one-element scale of the branch (SkipInit, De & Smith 2020); null or absent: 1. */
  alpha?: Tensor | null;
  /** Activation after the sum: 'relu' (ResNet's BasicBlock, the default) or null (a plain sum). */
  act?: 'relu' | null;
}

/**
 * y = act(alpha * branch + shortcut), branch and shortcut of one shape (a shortcut that changes the shape needs a
 * projection first, e.g. conv1x1 stride 2 + BN). Defaults: alpha 1, act 'relu' (the relu op's kernel, so NaN and
 * -0 behave as relu(add(...))). alpha * branch + shortcut is rounded once (axpy), PyTorch rounds the product and
 * the sum: the same for alpha 1, within an ulp otherwise. With m = 1[y > 0] for relu (m = 1 without act):
 *   d shortcut = m g,   d branch = alpha m g,   d alpha = sum_i m_i g_i branch_i (float64 sum).
 * One op instead of add then relu (and mul for alpha): no sum tensor and m g computed once for both inputs; the
 * backward reads only y (and branch, for d alpha), so the caller may recycle the branch's buffer after its rule ran.
 */
export function residualAdd(branch: Tensor, shortcut: Tensor, opts: ResidualAddOptions = {}): Tensor {
  expectTensor('residualAdd', 'branch', branch);
  expectTensor('residualAdd', 'shortcut', shortcut);
  if (!sameShape(branch.shape, shortcut.shape)) {
    throw new ShapeError(`residualAdd: branch has shape ${fmtShape(branch.shape)} but shortcut has ${fmtShape(shortcut.shape)}; a shortcut ` +
      `that changes the shape needs a projection (conv1x1 with the block's stride, then a norm)`);
  }
  const alpha = opts.alpha ?? null;
  if (alpha !== null) {
    expectTensor('residualAdd', 'alpha', alpha);
    if (alpha.size !== 1) throw new ShapeError(`residualAdd: alpha must hold one value, got shape ${fmtShape(alpha.shape)}`);
  }
  const act = opts.act === undefined ? 'relu' : opts.act;
  if (act !== 'relu' && act !== null) throw new ArgumentError(`residualAdd: act must be 'relu' or null, got ${String(act)}`);
  const relu = act === 'relu';
  const a = alpha === null ? 1 : alpha.data[0];
  const bd = branch.data;
  const n = bd.length;
  const K = kernels();
  // out = shortcut + a * branch by axpy, then relu in place: both kernels are SIMD (or BLAS) and branch-free,
  // where a JavaScript loop with a compare per value mispredicts on half the values of a zero-mean sum (that
  // loop took a quarter of W6's step).
  const out = allocUninit(n);
  out.set(shortcut.data);
  K.axpy(n, a, bd, out);
  if (relu) K.activation.relu(out, out);
  return record(new Tensor(out, branch.shape), 'residualAdd', [branch, shortcut, alpha], (g) => {
    // m g once (relu's gradient kernel), then it goes to both inputs.
    const mg = relu ? allocUninit(n) : g;
    if (relu) K.activation.reluGrad(g, out, mg);
    // The shortcut first: when branch and shortcut are one tensor, the second write then sees a gradient and adds.
    if (shortcut.requiresGrad) addScaled(shortcut, mg, 1);
    if (branch.requiresGrad) addScaled(branch, mg, a);
    if (alpha !== null && alpha.requiresGrad) alpha.gradBuffer()[0] += dot(mg, bd);
    if (relu) releaseBuffer(mg);
  });
}

/** grad(t) += s * v, or = s * v when t has no gradient yet (no zero fill). */
function addScaled(t: Tensor, v: Float32Array, s: number): void {
  if (t.grad !== null) {
    kernels().axpy(v.length, s, v, t.grad);
    return;
  }
  const gt = t.freshGrad();
  if (s === 1) gt.set(v);
  else for (let i = 0; i < v.length; i++) gt[i] = s * v[i];
}

/** sum_i u_i v_i in float64. */
function dot(u: Float32Array, v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * v[i];
  return s;
}
