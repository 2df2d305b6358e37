// Buffers handed back by code that made and consumed them: heap blocks return to the heap, small arrays to a size-keyed list.
//
// Why this is safe: an intermediate (non-leaf) gradient is created by a backward rule, read by the one rule of the
// node that owns it, and dropped by backward() right after (PyTorch semantics: non-leaf grads are not kept), so no
// user code can still hold it. Leaf gradients (parameters, inputs) are never returned: users and probes keep them.
// Only these return buffers: backward() (intermediate gradients, and the data of tensors marked `recycle` by
// Sequential or a residual block), the containers' forward in inference (a tensor they made and consumed with no op
// recording: nobody else can hold it), and ops and kernels for their own scratch once nothing can read it (BN's
// gradient before a fused activation in kernels/batchnorm.ts, the ReLU+MaxPool indices in ops/pool.ts, the
// masked gradient in ops/residual.ts). Other forward outputs are never returned, since models and probes may keep
// them: their heap blocks come back when the GC collects them. docs/architecture.md has these rules in one place.
import { freeResident, isResident } from './heap.js';

/** Pooled floats at most (16 Mi floats = 64 MB) in the small-array lists. */
const MAX_FLOATS = 16 * 1024 * 1024;
/** Buffers kept per size: more than a training step holds alive at once in the nets bnlab runs. */
const MAX_PER_SIZE = 16;

const free = new Map<number, Float32Array[]>();
let pooled = 0;

/** A pooled JavaScript array of exactly n floats with arbitrary contents, or null when none is free. */
export function takeBuffer(n: number): Float32Array | null {
  const list = free.get(n);
  if (list === undefined || list.length === 0) return null;
  pooled -= n;
  return list.pop()!;
}

/**
 * Returns a buffer nobody references any more: a heap view goes back to the heap (see heap.ts), a JavaScript
 * array to the lists takeBuffer reads (dropped to the GC when they are full). Subarrays are ignored.
 */
export function releaseBuffer(buf: Float32Array): void {
  if (isResident(buf)) {
    freeResident(buf);
    return;
  }
  const n = buf.length;
  if (n === 0 || pooled + n > MAX_FLOATS || buf.byteLength !== buf.buffer.byteLength) return;
  let list = free.get(n);
  if (list === undefined) free.set(n, (list = []));
  if (list.length >= MAX_PER_SIZE) return;
  list.push(buf);
  pooled += n;
}

/** Empties the small-array lists (tests, or to give memory back after a large model). */
export function clearPool(): void {
  free.clear();
  pooled = 0;
}
