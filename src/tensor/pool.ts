// A size-keyed pool of float buffers: backward() hands back the intermediate gradients it consumed, later buffers reuse them.
//
// Why this is safe: an intermediate (non-leaf) gradient is created by a backward rule, read by the one rule of the
// node that owns it, and dropped by backward() right after (PyTorch semantics: non-leaf grads are not kept), so no
// user code can still hold it. Leaf gradients (parameters, inputs) are never returned: users and probes keep them.
// Only these return buffers: backward() (intermediate gradients), bnCore (its scratch gradient before a fused
// activation), and Sequential.forward in inference, for a tensor it made and consumed itself with no op recording
// (nobody else can hold it). Other forward outputs are never pooled, since models and probes may keep them.
// allocUninit takes from the pool first.

/** Pooled floats at most (64 Mi floats = 256 MB), so a sweep over many shapes cannot grow the pool without bound. */
const MAX_FLOATS = 64 * 1024 * 1024;
/** Buffers kept per size: more than a training step holds alive at once in the nets bnlab runs. */
const MAX_PER_SIZE = 16;

const free = new Map<number, Float32Array[]>();
let pooled = 0;

/** A pooled buffer of exactly n floats with arbitrary contents, or null when none is free. */
export function takeBuffer(n: number): Float32Array | null {
  const list = free.get(n);
  if (list === undefined || list.length === 0) return null;
  pooled -= n;
  return list.pop()!;
}

/** Returns a buffer nobody references any more; dropped (left to the GC) when the pool is full. */
export function releaseBuffer(buf: Float32Array): void {
  const n = buf.length;
  if (n === 0 || pooled + n > MAX_FLOATS) return;
  let list = free.get(n);
  if (list === undefined) free.set(n, (list = []));
  if (list.length >= MAX_PER_SIZE) return;
  list.push(buf);
  pooled += n;
}

/** Empties the pool (tests, or to give memory back after a large model). */
export function clearPool(): void {
  free.clear();
  pooled = 0;
}
