// Float32Arrays with arbitrary contents, for buffers whose every element is written before anything reads it.

import { takeBuffer } from './pool.js';

type BufferLike = { allocUnsafeSlow(size: number): { buffer: ArrayBuffer } };
/** Node's Buffer when present (a browser has none): looked up, not imported, so this module runs anywhere. */
const nodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

/**
 * n floats, contents arbitrary: on Node from Buffer.allocUnsafeSlow (malloc, no zeroing, its own ArrayBuffer),
 * elsewhere `new Float32Array(n)`. Why: `new Float32Array(n)` zero-fills (calloc); for the 12.8 MB of W4's BN output
 * that was ~1.5-2 ms of a ~16 ms step, wasted on a buffer the caller overwrites in full.
 * Use only where every element is assigned before it is read.
 */
export function allocUninit(n: number): Float32Array {
  // A pooled buffer first (a gradient backward() gave back, or an inference intermediate Sequential did): its
  // memory is already mapped and often cached.
  const pooled = takeBuffer(n);
  if (pooled !== null) return pooled;
  // Below ~4096 floats the Buffer's own overhead costs more than the zeroing it saves (measured: 1024 floats
  // 1.1 us zeroed vs 2.3 us via Buffer; 6000 floats 4.3 vs 2.9 us, allocation plus one write).
  if (nodeBuffer === undefined || n < 4096) return new Float32Array(n);
  return new Float32Array(nodeBuffer.allocUnsafeSlow(n * 4).buffer, 0, n);
}
