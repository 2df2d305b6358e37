// Test arrays for the kernel families: the same values in the WebAssembly heap (kernels run in place) or in a plain array (the copy path).
import { afterEach } from 'vitest';
import { allocResident, freeResident, heapMemory, isResident } from '../../src/tensor/heap.js';
import { simdAllowed } from '../../src/kernels/simd-switch.js';

/** Where an operand lives: 'heap' (used in place by the SIMD kernels) or 'js' (copied through their scratch). */
export type Place = 'heap' | 'js';
export const PLACES: Place[] = ['heap', 'js'];

/** Whether SIMD families are expected to load here (not under BNLAB_SIMD=0, and a heap exists). */
export const simdExpected = simdAllowed() && heapMemory() !== null;

/**
 * Blocks this helper took, handed back after each test of the file that imports it. They are taken as temporaries
 * (which the heap's fresh-page budget for tensors does not limit): one test allocates up to ~100 MB synchronously.
 */
const placed: Float32Array[] = [];
afterEach(() => {
  for (const b of placed.splice(0)) freeResident(b);
});

function take(n: number): Float32Array {
  const r = allocResident(Math.max(1, n), true);
  if (r === null) throw new Error('test: the heap refused an allocation');
  placed.push(r);
  return r;
}

/** A copy of a in the heap or in a plain array (heap copies live until the end of the current test). */
export function place(a: Float32Array, where: Place): Float32Array {
  if (where === 'js') return a.slice();
  const r = take(a.length);
  const v = r.subarray(0, a.length);
  v.set(a);
  return v;
}

/** An Int32Array of n in the heap (its float storage kept alive by the returned pair) or in a plain array. */
export function placeInt(n: number, where: Place): { arr: Int32Array; keep: Float32Array | null } {
  if (where === 'js') return { arr: new Int32Array(n), keep: null };
  const r = take(n);
  return { arr: new Int32Array(r.buffer, r.byteOffset, n), keep: r };
}

/** Sentinel written around a guarded output. */
const SENTINEL = -12345.5;

/**
 * An output of n floats with `pad` sentinel values on each side inside one larger array (odd offsets, so that
 * vector stores are unaligned), in the heap or not; check() throws if a neighbour changed.
 */
export function guarded(n: number, where: Place, pad = 37): { out: Float32Array; check(what: string): void } {
  const whole = place(new Float32Array(n + 2 * pad).fill(SENTINEL), where);
  if (where === 'heap' && !isResident(whole)) throw new Error('test: not resident');
  const out = whole.subarray(pad, pad + n);
  return {
    out,
    check(what) {
      for (let i = 0; i < pad; i++) {
        if (whole[i] !== SENTINEL) throw new Error(`${what}: wrote ${pad - i} values before its output (${where})`);
        if (whole[pad + n + i] !== SENTINEL) throw new Error(`${what}: wrote ${i + 1} values past its output (${where})`);
      }
    },
  };
}

/** guarded() for an Int32Array output (the pooling indices): the same storage viewed as int32. */
export function guardedInt(n: number, where: Place, pad = 37): { out: Int32Array; check(what: string): void } {
  const g = guarded(n, where, pad);
  return { out: new Int32Array(g.out.buffer, g.out.byteOffset, n), check: g.check };
}

/** Float32 bits (a copy), for comparisons that must be exact (NaN and -0 included). */
export function bitsOf(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length).slice();
}

/** Throws at the first element where a and b differ (bits for Int32Array, Object.is for Float64Array); fast on long arrays. */
export function expectSame(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: length ${a.length} != ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) throw new Error(`${what}: element ${i} differs: ${a[i]} != ${b[i]}`);
  }
}
