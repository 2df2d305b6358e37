// The Tensor: float32 data, a row-major shape, an optional gradient, and the autograd node that made it.
import { backward as runBackward } from '../autograd/backward.js';
import { ArgumentError, ShapeError, fmtShape } from './errors.js';
import { allocCopy, allocJsArray, allocUninit, allocZeros } from './alloc.js';

/** Backward rule of the op that produced a tensor: reads the output gradient, accumulates into the inputs. */
export type BackwardFn = (grad: Float32Array) => void;

/** Product of the dimensions. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * An n-dimensional float32 array in row-major order (NCHW for images).
 * `grad` is filled by `backward()` for tensors with `requiresGrad`; leaves keep it, intermediates drop it.
 */
export class Tensor {
  data: Float32Array;
  readonly shape: readonly number[];
  grad: Float32Array | null = null;
  requiresGrad: boolean;
  /** Inputs of the op that made this tensor (empty for leaves). */
  parents: Tensor[] = [];
  /** Backward rule of that op, or null for leaves and tensors made without grad. */
  backwardFn: BackwardFn | null = null;
  /** Name of the op that made this tensor, for error messages and debugging. */
  op = 'leaf';
  /**
   * Set by Sequential (and a residual block) on a tensor that only it and the graph have seen (a layer's output
   * consumed by the next layer): once backward() has run this node's rule, nothing can read the data any more, so
   * it goes back to the pool for the next step's outputs. @internal
   */
  recycle = false;

  constructor(data: Float32Array, shape: readonly number[], requiresGrad = false) {
    // Checked here because every op reads .data as a Float32Array; a plain array would fail later with a TypeError.
    if (!(data instanceof Float32Array)) throw new ArgumentError('Tensor: data must be a Float32Array (use tensor() to build from arrays)');
    if (!Array.isArray(shape)) throw new ArgumentError('Tensor: shape must be an array of non-negative integers');
    const n = numel(shape);
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`tensor: shape ${fmtShape(shape)} must hold non-negative integers`);
    }
    if (data.length !== n) {
      throw new ShapeError(`tensor: ${data.length} values do not fill shape ${fmtShape(shape)} (needs ${n})`);
    }
    this.data = data;
    this.shape = shape;
    this.requiresGrad = requiresGrad;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** True for tensors not produced by a recorded op (parameters, inputs). */
  get isLeaf(): boolean {
    return this.backwardFn === null;
  }

  /** The gradient buffer, allocated as zeros on first use; backward rules accumulate into it. */
  gradBuffer(): Float32Array {
    if (this.grad === null) this.grad = this.isLeaf ? allocJsArray(this.data.length, true) : allocZeros(this.data.length);
    return this.grad;
  }

  /**
   * For a backward rule that writes every element of a gradient nobody has touched yet (`grad === null`):
   * installs a buffer with arbitrary contents (often a recycled one) and returns it, so the rule can assign
   * (a GEMM with beta = 0, `=` instead of `+=`) and skip zeroing. Rules check `grad === null` first and use
   * gradBuffer() to accumulate otherwise.
   */
  freshGrad(): Float32Array {
    // A leaf's gradient outlives the step (see allocJsArray); an intermediate one goes back to the heap in backward().
    this.grad = this.isLeaf ? allocJsArray(this.data.length, false) : allocUninit(this.data.length);
    return this.grad;
  }

  /** Clears the gradient (sets it to null, as PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    this.grad = null;
  }

  /**
   * Reverse-mode differentiation from this tensor. Without `grad` the tensor must hold one value
   * (a loss); then d(this)/d(this) = 1. Gradients accumulate into `.grad` of every leaf that requires grad.
   */
  backward(grad?: Float32Array): void {
    runBackward(this, grad);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new ShapeError(`item: needs a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return this.data[0];
  }

  /** A copy of the data as a plain number array. */
  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Value at a multi-index. */
  get(...index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new ArgumentError(`get: index has ${index.length} coordinates, tensor of shape ${fmtShape(this.shape)} needs ${this.shape.length}`);
    }
    let off = 0;
    for (let i = 0; i < index.length; i++) {
      const ix = index[i];
      if (!Number.isInteger(ix) || ix < 0 || ix >= this.shape[i]) {
        throw new ArgumentError(`get: index ${ix} out of range for dimension ${i} of size ${this.shape[i]}`);
      }
      off = off * this.shape[i] + ix;
    }
    return this.data[off];
  }

  /** A new leaf sharing nothing with this tensor's graph: same values, no history. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  /** A deep copy (new data), without history. */
  clone(): Tensor {
    return new Tensor(allocCopy(this.data), this.shape, this.requiresGrad);
  }

  toString(): string {
    const head = Array.from(this.data.subarray(0, 8), (v) => v.toPrecision(4)).join(', ');
    return `Tensor(${fmtShape(this.shape)}, [${head}${this.data.length > 8 ? ', ...' : ''}])`;
  }
}
