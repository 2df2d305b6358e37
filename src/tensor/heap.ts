// The heap: one WebAssembly.Memory that tensor data and every WebAssembly kernel share, with a size-class allocator.
//
// Why: a kernel in WebAssembly can only touch its module's memory. With tensors stored in JavaScript arrays every
// kernel call copied its operands in and its result out, and for memory-bound passes (BatchNorm, activations, the
// optimizer update) the copies cost as much as the work. Tensors whose data lives here are handed to kernels as
// byte addresses, with no copy.
//
// Mechanism, and why this one:
// - The memory is reserved whole at first use (initial = maximum = BNLAB_HEAP_MB, default 256 MiB) and never
//   grows, so a Float32Array view on it is never detached (growing a non-shared memory detaches every view). The
//   reservation is virtual: pages cost resident memory only once written (measured: creating a 1 GiB memory takes
//   0.6 ms and adds nothing to RSS). Shared memory (whose growth keeps old views valid) was rejected: a view on a
//   SharedArrayBuffer posted to a worker is shared, not copied, so a user's array would be silently aliased across
//   threads, and browsers allow it only on cross-origin-isolated pages.
// - Blocks are reused by size class (16-float steps up to 1024 floats, then four classes per power of two). A
//   block comes back (a) explicitly, from code that knows nobody else can read it (backward()'s intermediate
//   gradients, the containers' intermediates: see pool.ts), or (b) when the garbage collector has collected the
//   Float32Array view that was handed out (FinalizationRegistry on the view itself, so a user who still holds
//   `.data` keeps the block alive). A subarray of a view does not keep the block: hold the tensor or its `.data`.
// - FinalizationRegistry callbacks run only when the event loop turns; a synchronous loop that drops tensors the
//   engine cannot recycle fills the heap, and then allocations fall back to ordinary JavaScript arrays (kernels copy
//   those in and out, as they used to), so memory stays bounded and results stay the same, only slower.

/** Floats below which data stays in a plain JavaScript array: small tensors gain nothing and would fill the heap with slots only the GC frees. */
export const MIN_RESIDENT = 4096;
/** Alignment of every block, in bytes (a cache line; SIMD loads need 16). */
const ALIGN = 64;
const PAGE = 65536;
/** wasm32's limit: 65536 pages of 64 KiB. */
const MAX_MB = 4096;

/** The heap memory as a WebAssembly module imports it (buildModule's ImportedMemory). */
export interface HeapMemory {
  memory: WebAssembly.Memory;
  shared: false;
  initial: number;
  maximum: number;
}

interface State {
  mem: HeapMemory;
  buffer: ArrayBuffer;
  /** Bytes reserved. */
  limit: number;
  /** First byte never handed out. */
  top: number;
  /** Free blocks' addresses per size class, below the tensors' share of the heap. */
  free: number[][];
  /** Free blocks per size class in the quarter kept for temporaries (only temporaries take these). */
  freeHigh: number[][];
  /** First byte of that quarter. */
  cap: number;
  /** Size class of each live block handed out by alloc, by address. */
  live: Map<number, number>;
  /** Bytes in live blocks. */
  used: number;
  /** Allocations that fell back to JavaScript arrays because the heap was full or the fresh-page budget spent. */
  overflows: number;
  /** Bytes taken from never-used pages since the garbage collector last handed a block back (see FRESH_BUDGET). */
  fresh: number;
}

let state: State | null | undefined;
let reason = '';

/**
 * Heap size asked for through BNLAB_HEAP_MB (default 256 MiB). Why not more: in a synchronous loop a block whose
 * tensor the engine cannot recycle (an output the caller dropped) comes back only when the event loop turns, so
 * such a loop walks through the whole heap first, touching fresh pages; 256 MiB holds every workload bnlab runs
 * with room to spare, and past it allocations fall back to JavaScript arrays.
 */
export function heapMbFromEnv(): number {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.BNLAB_HEAP_MB;
  if (raw === undefined || raw === '') return 256;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 16 || v > MAX_MB) {
    throw new RangeError(`BNLAB_HEAP_MB must be an integer from 16 to ${MAX_MB} (MiB of WebAssembly memory), got '${raw}'`);
  }
  return v;
}

function create(): State | null {
  if (typeof WebAssembly === 'undefined') {
    reason = 'no WebAssembly in this runtime';
    return null;
  }
  // A browser under memory pressure may refuse a large reservation: ask for less until one is granted.
  for (let mb = heapMbFromEnv(); mb >= 16; mb >>= 1) {
    try {
      const pages = (mb * 1024 * 1024) / PAGE;
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      reason = `${mb} MiB of WebAssembly memory`;
      return {
        mem: { memory, shared: false, initial: pages, maximum: pages },
        buffer: memory.buffer,
        limit: pages * PAGE,
        // Address 0 stays unused, so that 0 is never a valid block and a null pointer shows up as such.
        top: ALIGN,
        free: [],
        freeHigh: [],
        cap: Math.floor((pages * PAGE * TENSOR_SHARE) / ALIGN) * ALIGN,
        live: new Map(),
        used: 0,
        overflows: 0,
        fresh: 0,
      };
    } catch {
      // try a smaller reservation
    }
  }
  reason = 'the runtime refused to reserve WebAssembly memory';
  return null;
}

function heap(): State | null {
  if (state === undefined) state = create();
  return state;
}

/** The shared memory for kernel modules to import, or null where there is none (then kernels run their loops). */
export function heapMemory(): HeapMemory | null {
  return heap()?.mem ?? null;
}

/** Size class of n floats, and the bytes a block of that class holds. */
export function sizeClass(n: number): { cls: number; bytes: number } {
  if (n <= 1024) {
    const cls = Math.max(1, Math.ceil(n / 16));
    return { cls, bytes: cls * 64 };
  }
  // Four classes per power of two: 1, 1.25, 1.5, 1.75 x 2^e floats (at most 25% slack).
  const e = Math.floor(Math.log2(n));
  const base = 2 ** e;
  const q = Math.ceil(((n - base) / base) * 4);
  const floats = base + (q * base) / 4;
  return { cls: 64 + 4 * (e - 10) + q, bytes: floats * 4 };
}

const registry =
  typeof FinalizationRegistry === 'undefined'
    ? null
    : new FinalizationRegistry<number>((addr) => {
        release(addr);
        // The collector is reclaiming dropped tensors: fresh pages may be taken again.
        if (state) state.fresh = 0;
      });

function release(addr: number): void {
  const s = state;
  if (!s) return;
  const cls = s.live.get(addr);
  if (cls === undefined) return;
  s.live.delete(addr);
  s.used -= blockBytes(cls);
  const lists = addr >= s.cap ? s.freeHigh : s.free;
  (lists[cls] ??= []).push(addr);
}

function blockBytes(cls: number): number {
  if (cls <= 64) return cls * 64;
  const k = cls - 64;
  const e = 10 + Math.floor(k / 4);
  const base = 2 ** e;
  return (base + ((k % 4) * base) / 4) * 4;
}

/**
 * The last quarter of the heap is kept for a kernel's own temporaries (the wasm GEMM's copies of operands that live
 * outside the heap), which are freed within the call: tensors that the engine could not hand back fill at most the
 * rest, so a kernel never loses its workspace to them. Without it a lab trial that dropped its evaluation outputs
 * filled the heap and every later GEMM fell back to the loops, 10x slower.
 */
const TENSOR_SHARE = 0.75;

/**
 * Bytes of never-touched pages tensors may take before the collector has handed any block back. Writing a fresh page
 * costs a page fault (measured: BatchNorm2d (64,64,28,28) forward+backward took 72 ms a step while its dropped
 * outputs walked through fresh heap, 6.5 ms once they came from reused memory), and blocks whose tensors the
 * caller dropped come back only after a full collection, which V8 does not start for WebAssembly memory. Past this
 * budget such a loop gets JavaScript arrays instead, which V8 counts as external memory and frees promptly, so
 * malloc reuses warm memory. Every bench workload's working set (W3's ~50 MB included) fits within it.
 */
const FRESH_BUDGET = 64 * 1024 * 1024;

/**
 * n floats in the heap, contents arbitrary (a reused block keeps old values), or null when the heap is missing or
 * full. The block returns to the heap when the view is garbage collected or handed to freeResident. `temporary`:
 * a kernel's scratch, freed before the kernel returns; it may use the quarter kept for such blocks.
 */
export function allocResident(n: number, temporary = false): Float32Array | null {
  const s = heap();
  if (s === null || n <= 0) return null;
  const { cls, bytes } = sizeClass(n);
  let addr = (temporary ? s.freeHigh[cls]?.pop() : undefined) ?? s.free[cls]?.pop();
  if (addr === undefined) {
    if (s.top + bytes > (temporary ? s.limit : s.cap) || (!temporary && s.fresh + bytes > FRESH_BUDGET)) {
      s.overflows++;
      return null;
    }
    // Temporaries are freed within their kernel call, so their pages are reused at once and spend no budget.
    if (!temporary) s.fresh += bytes;
    addr = s.top;
    s.top += Math.ceil(bytes / ALIGN) * ALIGN;
  }
  s.live.set(addr, cls);
  s.used += bytes;
  const view = new Float32Array(s.buffer, addr, n);
  registry?.register(view, addr, view);
  return view;
}

/**
 * Gives a view's block back for reuse at once. Only for a view nobody else can still read (the caller made it and
 * consumed it). Returns false for arrays not allocated by allocResident (subarrays included).
 */
export function freeResident(view: Float32Array): boolean {
  const s = state;
  if (!s || view.buffer !== s.buffer || !s.live.has(view.byteOffset)) return false;
  // The view is not garbage: drop its finalization so the block is not freed a second time once reused.
  if (registry && !registry.unregister(view)) return false;
  release(view.byteOffset);
  return true;
}

/** True when the array's data lives in the heap (kernels can take its address; subarrays included). */
export function isResident(a: Float32Array | Int32Array): boolean {
  return state !== null && state !== undefined && a.buffer === state.buffer;
}

/**
 * `bytes` of heap for a kernel module's own use for the life of the program (scratch regions, coefficient tables),
 * as a byte address; null without a heap. Taken from the top like a block but never freed.
 */
export function allocStatic(bytes: number): number | null {
  const s = heap();
  if (s === null) return null;
  const size = Math.ceil(bytes / ALIGN) * ALIGN;
  if (s.top + size > s.limit) return null;
  const addr = s.top;
  s.top += size;
  return addr;
}

/** What the heap holds: for `bnlab info`, tests and the bench. */
export function heapStats(): {
  available: boolean; reason: string; limitBytes: number; topBytes: number; liveBytes: number; liveBlocks: number; overflows: number;
} {
  const s = heap();
  if (s === null) return { available: false, reason, limitBytes: 0, topBytes: 0, liveBytes: 0, liveBlocks: 0, overflows: 0 };
  return { available: true, reason, limitBytes: s.limit, topBytes: s.top, liveBytes: s.used, liveBlocks: s.live.size, overflows: s.overflows };
}
