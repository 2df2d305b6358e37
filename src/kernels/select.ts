// Backend selection: the active Kernels, chosen once from BNLAB_BACKEND or by what loads, switchable for tests.
import type { BackendName, Kernels } from './kernels.js';
import { tsKernels } from './ts/index.js';
import { loadBlasKernels } from './blas/index.js';
import { loadWasmKernels } from './wasm/index.js';
import { ArgumentError } from '../tensor/errors.js';
import { activationLoops } from './activation.js';
import { heapStats } from '../tensor/heap.js';

/**
 * How each backend loads: the kernels, or the reason they are unavailable. A loader runs only when its backend is
 * asked for (the BLAS one opens a shared library, the wasm one compiles its modules) and caches its answer.
 */
const loaders = {
  ts: () => tsKernels,
  wasm: loadWasmKernels,
  blas: loadBlasKernels,
} satisfies Record<BackendName, () => Kernels | { unavailable: string }>;

/** Preference order when nothing is forced: native BLAS, then WebAssembly SIMD, then plain loops. */
const ORDER: BackendName[] = ['blas', 'wasm', 'ts'];

let active: Kernels = tsKernels;
let reason = 'default: pure TypeScript';
let chosen = false;

function isName(s: string): s is BackendName {
  return s in loaders;
}

/** Tries to load a backend; returns the kernels or why not. */
export function loadBackend(name: BackendName): Kernels | { unavailable: string } {
  if (!isName(name)) return { unavailable: `unknown backend '${String(name)}' (expected ${ORDER.join(', ')})` };
  return loaders[name]();
}

function chooseDefault(): void {
  chosen = true;
  const env = typeof process !== 'undefined' ? process.env?.BNLAB_BACKEND : undefined;
  if (env !== undefined && env !== '') {
    if (!isName(env)) throw new ArgumentError(`BNLAB_BACKEND must be one of ${ORDER.join(', ')}, got '${env}'`);
    const k = loadBackend(env);
    if ('unavailable' in k) throw new ArgumentError(`BNLAB_BACKEND=${env} was requested but ${k.unavailable}`);
    active = k;
    reason = `forced by BNLAB_BACKEND=${env}`;
    return;
  }
  const missing: string[] = [];
  for (const name of ORDER) {
    const k = loadBackend(name);
    if ('unavailable' in k) {
      missing.push(`${name}: ${k.unavailable}`);
      continue;
    }
    active = k;
    reason = missing.length === 0 ? `the fastest backend here` : `${missing.join('; ')}`;
    return;
  }
}

/** The active kernels. */
export function kernels(): Kernels {
  if (!chosen) chooseDefault();
  return active;
}

/** Switches the backend (throws with the reason when it cannot load). */
export function setBackend(name: BackendName): Kernels {
  const k = loadBackend(name);
  if ('unavailable' in k) throw new ArgumentError(`backend '${name}' is unavailable: ${k.unavailable}`);
  active = k;
  chosen = true;
  reason = `set by setBackend('${name}')`;
  return k;
}

/** What backendInfo() reports. */
export interface BackendInfo {
  name: BackendName;
  /** The library or WebAssembly features in use (the wasm backend says whether relaxed SIMD FMA is on, and why). */
  description: string;
  /** Why this backend was chosen (and why faster ones were not). */
  reason: string;
  threads: number;
  /** Whether the BatchNorm, activation, pooling and reduction kernels run on WebAssembly SIMD or as plain loops. */
  simdKernels: boolean;
  /** The WebAssembly heap tensors live in: its size, or why there is none. */
  heap: string;
}

/** Which backend is active and why, the kernels it runs and where tensors live. */
export function backendInfo(): BackendInfo {
  const k = kernels();
  const h = heapStats();
  const heap = h.available
    ? `tensors of 4096 floats or more live in ${h.reason} (reserved; resident only as used; BNLAB_HEAP_MB sets it)`
    : `none (${h.reason}): tensors live in JavaScript arrays`;
  return { name: k.name, description: k.description, reason, threads: k.threads(), simdKernels: k.activation !== activationLoops, heap };
}

/** Names of the backends that load here (for running suites once per backend). */
export function availableBackends(): BackendName[] {
  return (['ts', 'wasm', 'blas'] as const).filter((n) => !('unavailable' in loadBackend(n)));
}
