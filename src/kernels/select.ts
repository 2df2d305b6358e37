// Backend selection: the active Kernels, chosen once from BNLAB_BACKEND or by what loads, switchable for tests.
import type { BackendName, Kernels } from './kernels.js';
import { tsKernels } from './ts/index.js';
import { ArgumentError } from '../tensor/errors.js';

/** A loader for an optional backend; returns the kernels or the reason it is unavailable. */
export type BackendLoader = () => Kernels | { unavailable: string };

const loaders = new Map<BackendName, BackendLoader>();
let active: Kernels = tsKernels;
let reason = 'default: pure TypeScript';
let chosen = false;

/** Registers a loader for an optional backend (the BLAS module does this for Node). */
export function registerBackend(name: BackendName, loader: BackendLoader): void {
  loaders.set(name, loader);
  chosen = false;
}

/** Tries to load a backend; returns the kernels or why not. */
export function loadBackend(name: BackendName): Kernels | { unavailable: string } {
  if (name === 'ts') return tsKernels;
  const loader = loaders.get(name);
  if (!loader) return { unavailable: `backend '${name}' is not registered in this environment` };
  return loader();
}

function chooseDefault(): void {
  chosen = true;
  const env = typeof process !== 'undefined' ? process.env?.BNLAB_BACKEND : undefined;
  if (env !== undefined && env !== '') {
    if (env !== 'ts' && env !== 'blas') throw new ArgumentError(`BNLAB_BACKEND must be 'ts' or 'blas', got '${env}'`);
    const k = loadBackend(env);
    if ('unavailable' in k) throw new ArgumentError(`BNLAB_BACKEND=${env} was requested but ${k.unavailable}`);
    active = k;
    reason = `forced by BNLAB_BACKEND=${env}`;
    return;
  }
  const blas = loadBackend('blas');
  if ('unavailable' in blas) {
    active = tsKernels;
    reason = `BLAS not available (${blas.unavailable}); using pure TypeScript`;
  } else {
    active = blas;
    reason = 'BLAS library found';
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

/** Which backend is active and why. */
export function backendInfo(): { name: BackendName; description: string; reason: string; threads: number } {
  const k = kernels();
  return { name: k.name, description: k.description, reason, threads: k.threads() };
}

/** Names of the backends that load here (for running suites once per backend). */
export function availableBackends(): BackendName[] {
  const out: BackendName[] = ['ts'];
  const blas = loadBackend('blas');
  if (!('unavailable' in blas)) out.push('blas');
  return out;
}
