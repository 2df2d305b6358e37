// backward(): walks the recorded graph in reverse topological order and runs each op's backward rule.
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, fmtShape } from '../tensor/errors.js';
import { releaseBuffer } from '../tensor/pool.js';

/**
 * Reverse-mode sweep from `root`. The graph is freed as it is consumed (as PyTorch without retain_graph):
 * intermediate gradients and backward closures are dropped, and the gradient buffers (and the data of tensors
 * Sequential or a residual block marked `recycle`) go back to the pool (src/tensor/pool.ts) for the next step.
 */
export function backward(root: Tensor, grad?: Float32Array): void {
  if (!root.requiresGrad) {
    throw new ArgumentError(`backward: tensor of shape ${fmtShape(root.shape)} does not require grad (was it computed inside noGrad, or from ` +
      `inputs without requiresGrad?)`);
  }
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new ArgumentError(`backward: without a gradient argument the tensor must hold one value, got shape ${fmtShape(root.shape)}`);
    }
    grad = new Float32Array([1]);
  } else if (grad === null || typeof grad !== 'object' || typeof grad.length !== 'number') {
    throw new ArgumentError(`backward: gradient must be a Float32Array of ${root.size} values, got ${grad === null ? 'null' : typeof grad}`);
  } else if (grad.length !== root.size) {
    throw new ArgumentError(`backward: gradient has ${grad.length} values, tensor of shape ${fmtShape(root.shape)} has ${root.size}`);
  }
  const order = topoOrder(root);
  // The caller's array is handed to the root's rule as is (rules only read their gradient) instead of being copied;
  // it must then not go to the pool. A leaf root keeps and accumulates its gradient as any leaf.
  let callers: Float32Array | null = null;
  if (root.isLeaf || root.grad !== null || !(grad instanceof Float32Array)) {
    const g = root.gradBuffer();
    for (let i = 0; i < g.length; i++) g[i] += grad[i];
  } else {
    root.grad = callers = grad;
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const fn = t.backwardFn;
    if (fn === null) continue;
    const g = t.grad;
    if (g !== null) {
      fn(g);
      if (g !== callers) releaseBuffer(g);
    }
    // Free the consumed node: non-leaf grads are not kept (PyTorch semantics) and the closure holds saved buffers.
    // Its rule becomes one that throws, so a second backward through it fails loudly instead of silently doing nothing.
    t.grad = null;
    t.backwardFn = freed;
    t.parents = [];
    // Its consumers' rules ran before this one (reverse topological order) and this one has run: a tensor only
    // its container and the graph have seen is now dead, and its buffer serves the next step's forward.
    if (t.recycle) releaseBuffer(t.data);
  }
}

/** The rule left on a consumed node (as PyTorch's 'Trying to backward through the graph a second time'). */
function freed(): void {
  throw new ArgumentError('backward: this graph was already consumed by an earlier backward(); recompute the forward pass (graphs are freed ' +
    'after backward)');
}

/** Iterative DFS post-order over nodes that require grad (recursion would overflow on deep nets). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    if (i < t.parents.length) {
      top[1] = i + 1;
      const p = t.parents[i];
      if (p.requiresGrad && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}
