// Recording an op on the graph: attaches parents and a backward rule to its output when grad is on.
import type { BackwardFn, Tensor } from '../tensor/tensor.js';
import { isGradEnabled } from './grad-mode.js';

/** True when an op over these inputs must record a backward rule. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!isGradEnabled()) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Marks `out` as produced by `op` from `parents`. When grad is off or no parent requires grad
 * the rule is not attached (and its saved buffers are not kept alive).
 */
export function record(out: Tensor, op: string, parents: (Tensor | null | undefined)[], fn: BackwardFn): Tensor {
  out.op = op;
  if (!isGradEnabled()) return out;
  // Plain loops: this runs once per op, and filter/spread allocations showed up on small nets.
  let any = false;
  let all = true;
  for (let i = 0; i < parents.length; i++) {
    const p = parents[i];
    if (p) any ||= p.requiresGrad;
    else all = false;
  }
  if (any) {
    out.requiresGrad = true;
    out.parents = all ? (parents as Tensor[]) : parents.filter((p): p is Tensor => !!p);
    out.backwardFn = fn;
  }
  return out;
}
