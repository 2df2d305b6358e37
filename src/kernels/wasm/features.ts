// Feature probes for the WebAssembly kernels: SIMD, and relaxed SIMD's f32x4.relaxed_madd (enabled by flag on Node 20).
import { buildModule, F32X4_RELAXED_MADD, localGet, simd, V128 } from './asm.js';

const DROP = [0x1a];

/** A module with one function of `arity` v128 parameters whose body is `op` on them (result dropped). */
function probe(op: number[], arity: number): Uint8Array<ArrayBuffer> {
  const params = new Array<number>(arity).fill(V128);
  const body = [...params.flatMap((_, i) => localGet(i)), ...op, ...DROP, 0x0b];
  return buildModule([{ name: 'f', params, locals: [], body }], 0);
}

/** f32x4.add (core SIMD, 0xfd 0xe4). */
const SIMD_PROBE = probe(simd(0xe4), 2);
/** f32x4.relaxed_madd (0xfd 0x105, LEB128 0x85 0x02; V8's wasm-opcodes.h calls it F32x4Qfma). */
const RELAXED_PROBE = probe(F32X4_RELAXED_MADD, 3);

const validates = (bytes: Uint8Array<ArrayBuffer>): boolean => {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
};

/** True when the runtime has WebAssembly with the fixed-width SIMD proposal (128-bit vectors). */
export function simdSupported(): boolean {
  return typeof WebAssembly !== 'undefined' && validates(SIMD_PROBE);
}

interface V8Module {
  setFlagsFromString(flags: string): void;
}

/** node:v8 where the runtime is Node (process.getBuiltinModule: Node >= 20.16), without a static import, so browsers load this file unchanged. */
function nodeV8(): V8Module | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (proc?.getBuiltinModule?.('node:v8') as V8Module | undefined) ?? null;
  } catch {
    return null;
  }
}

/** BNLAB_RELAXED_SIMD: '0' switches relaxed SIMD off; unset, '' or '1' leave it to the runtime. */
function relaxedAllowed(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.BNLAB_RELAXED_SIMD;
  if (env === undefined || env === '' || env === '1') return true;
  if (env === '0') return false;
  throw new RangeError(`BNLAB_RELAXED_SIMD must be 0 or 1, got '${env}'`);
}

let relaxed: { available: boolean; how: string } | undefined;

/**
 * Whether f32x4.relaxed_madd validates, and how that came about. Node 20 (V8 11.3) implements relaxed SIMD behind
 * --experimental-wasm-relaxed-simd; the flag is set here through v8.setFlagsFromString when the first probe fails.
 * Measured on Node 20.20 (V8 11.3): setting it after other modules were compiled still takes effect for every later
 * validation and compilation (modules compiled earlier keep what they were built with). Cached after the first call.
 */
export function relaxedSimdSupported(): { available: boolean; how: string } {
  relaxed ??= probeRelaxed();
  return relaxed;
}

function probeRelaxed(): { available: boolean; how: string } {
  if (!relaxedAllowed()) return { available: false, how: 'disabled by BNLAB_RELAXED_SIMD=0' };
  if (!simdSupported()) return { available: false, how: 'not supported by this runtime (no WebAssembly SIMD)' };
  if (validates(RELAXED_PROBE)) return { available: true, how: 'validated natively' };
  const v8 = nodeV8();
  if (v8 === null) return { available: false, how: 'not supported by this runtime' };
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return { available: false, how: 'not supported by this runtime (setting --experimental-wasm-relaxed-simd failed)' };
  }
  if (!validates(RELAXED_PROBE)) return { available: false, how: 'not supported by this runtime, even with --experimental-wasm-relaxed-simd' };
  const major = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node?.split('.')[0];
  return { available: true, how: `enabled with --experimental-wasm-relaxed-simd on Node ${major ?? '?'}` };
}
