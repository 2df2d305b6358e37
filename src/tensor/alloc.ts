// Float32Arrays for tensor data: in the WebAssembly heap when they are large enough and it has room, else plain arrays.
import { allocResident, heapStats, MIN_RESIDENT } from './heap.js';
import { takeBuffer } from './pool.js';

/**
 * n floats, contents arbitrary: a heap block (kernels then use it in place, see heap.ts) from MIN_RESIDENT floats
 * on, else a pooled or new JavaScript array. Why uninitialized: zero-filling W4's 12.8 MB BN output was ~1.5-2 ms
 * of a ~16 ms step, wasted on a buffer the caller overwrites in full. Use only where every element is assigned
 * before it is read.
 */
export function allocUninit(n: number): Float32Array {
  if (n >= MIN_RESIDENT) {
    const r = allocResident(n);
    if (r !== null) return r;
  }
  return takeBuffer(n) ?? allocJs(n);
}

/** n zeros, wherever allocUninit would put them. */
export function allocZeros(n: number): Float32Array {
  if (n >= MIN_RESIDENT) {
    const r = allocResident(n);
    if (r !== null) return r.fill(0);
  }
  return (takeBuffer(n) ?? allocJs(n)).fill(0);
}

/**
 * n floats in a plain JavaScript array (pooled when one is free), zeroed when asked: for leaf gradients. Why not
 * the heap: a parameter's gradient escapes to users and to zeroGrad(), which drops it for the garbage collector;
 * a heap block would come back only when the event loop turns, so a synchronous training loop would fill the heap
 * with one gradient set per step. BLAS reads these arrays in place; the wasm GEMM copies them once per call.
 */
export function allocJsArray(n: number, zero: boolean): Float32Array {
  const b = takeBuffer(n) ?? allocJs(n);
  return zero ? b.fill(0) : b;
}

/** A copy of `src` in fresh storage (resident when large). */
export function allocCopy(src: Float32Array): Float32Array {
  const out = allocUninit(src.length);
  out.set(src);
  return out;
}

type BufferLike = { allocUnsafeSlow(size: number): { buffer: ArrayBuffer } };
/** Node's Buffer when present (a browser has none): looked up, not imported, so this module runs anywhere. */
const nodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

/**
 * A JavaScript array, with an error that says how much was asked when the runtime refuses. Large ones come from
 * Buffer.allocUnsafeSlow on Node (malloc: no zero fill, and memory freed by the GC is reused at once; calloc's fresh
 * pages cost W4 ~50 ms a step once its outputs overflowed the heap). Callers that need zeros fill them.
 */
function allocJs(n: number): Float32Array {
  try {
    if (nodeBuffer !== undefined && n >= MIN_RESIDENT) return new Float32Array(nodeBuffer.allocUnsafeSlow(n * 4).buffer, 0, n);
    return new Float32Array(n);
  } catch (err) {
    const h = heapStats();
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    throw new RangeError(
      `out of memory: a tensor of ${n} floats (${mb(4 * n)}) fits neither the WebAssembly heap ` +
        `(${h.available ? `${mb(h.liveBytes)} of ${mb(h.limitBytes)} in use; BNLAB_HEAP_MB sets the limit` : h.reason}) ` +
        `nor the JavaScript heap (${(err as Error).message})`,
    );
  }
}
