// Finds a CBLAS library at run time and binds cblas_sgemm and the thread controls through koffi. Node only.
// Node's modules are looked up at run time (process.getBuiltinModule, Node >= 20.16), not imported, so that select.ts
// can import this file in a browser, where loadBlas then reports 'not running in Node'.
type NodeBuiltins = {
  'node:fs': { readFileSync(path: string, enc: 'utf8'): string };
  'node:module': { createRequire(url: string): (id: string) => unknown };
};
function builtin<K extends keyof NodeBuiltins>(name: K): NodeBuiltins[K] | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return p?.getBuiltinModule?.(name) as NodeBuiltins[K] | undefined;
}

/** The subset of koffi this file uses (typed here so koffi's own types are not needed at compile time). */
interface KoffiLib {
  func(prototype: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
}

/** What the loader found: the bound functions and a description of the library. */
export interface BlasBinding {
  /** cblas_sgemm(order, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc). */
  sgemm: (...args: unknown[]) => unknown;
  /** cblas_saxpy(n, alpha, x, incx, y, incy), when the library has it. */
  saxpy?: (...args: unknown[]) => unknown;
  /** Sets the library's thread count, or undefined when the library has no such call. */
  setThreads?: (n: number) => void;
  /** Reads the library's thread count, when it has such a call. */
  getThreads?: () => number;
  /** The name it was loaded by. */
  library: string;
  /** e.g. 'OpenBLAS 0.3.21 ... Zen MAX_THREADS=64' (from openblas_get_config), or the vendor. */
  flavor: string;
}

/**
 * Library names to try, in order. OpenBLAS first (the fastest one we can rely on), then the system
 * BLAS (on Debian often OpenBLAS again behind the alternatives link), then Accelerate and MKL.
 * BNLAB_BLAS_LIB, when set, is the only one tried, so a user can point at any CBLAS (or at none, to test the fallback).
 */
export function candidateLibraries(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.BNLAB_BLAS_LIB) return [env.BNLAB_BLAS_LIB];
  const names: string[] = [];
  if (process.platform === 'win32') {
    names.push('libopenblas.dll', 'openblas.dll', 'mkl_rt.2.dll', 'mkl_rt.dll');
  } else if (process.platform === 'darwin') {
    names.push(
      'libopenblas.dylib',
      '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
      '/usr/local/opt/openblas/lib/libopenblas.dylib',
      '/System/Library/Frameworks/Accelerate.framework/Accelerate',
      'libmkl_rt.dylib',
    );
  } else {
    names.push('libopenblas.so.0', 'libopenblas.so', 'libblas.so.3', 'libmkl_rt.so.2', 'libmkl_rt.so');
  }
  return names;
}

/** How to get OpenBLAS on this platform (printed when the BLAS backend is missing). */
export function installHint(): string {
  switch ((globalThis as { process?: { platform?: string } }).process?.platform) {
    case 'darwin':
      return 'brew install openblas (or use the built-in Accelerate framework)';
    case 'win32':
      return 'download OpenBLAS from https://github.com/OpenMathLib/OpenBLAS/releases and put libopenblas.dll on PATH (or set BNLAB_BLAS_LIB)';
    default:
      return 'apt-get install libopenblas0-pthread (Debian/Ubuntu), dnf install openblas (Fedora), or set BNLAB_BLAS_LIB to a CBLAS library';
  }
}

/**
 * OpenBLAS picks its kernels from the CPU model at load time; an OpenBLAS older than the CPU (Debian 12's
 * 0.3.21 on an Emerald Rapids Xeon, model 207) falls back to 'Prescott' SSE3 kernels: 30 GFLOP/s instead of
 * 145 on sgemm 256x784x256, measured. On Intel CPUs we therefore name the kernel family from the CPU flags
 * (what OpenBLAS itself would choose for a model it knows). AMD and unknown vendors are left to OpenBLAS, and an
 * OPENBLAS_CORETYPE the user set always wins. Returns the core type set, if any.
 */
export function preferCoreType(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OPENBLAS_CORETYPE || process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  let info: string;
  try {
    info = builtin('node:fs')!.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
  if (!/^vendor_id\s*:\s*GenuineIntel$/m.test(info)) return undefined;
  const flags = new Set((/^flags\s*:(.*)$/m.exec(info)?.[1] ?? '').trim().split(/\s+/));
  let core: string | undefined;
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) core = 'SkylakeX';
  else if (flags.has('avx2') && flags.has('fma')) core = 'Haswell';
  // Setting process.env calls setenv(), so the library's getenv() at load time sees it.
  if (core) env.OPENBLAS_CORETYPE = core;
  return core;
}

/** Binds a function, or returns undefined when the symbol is missing (koffi throws then). */
function optional(lib: KoffiLib, prototype: string): ((...args: unknown[]) => unknown) | undefined {
  try {
    return lib.func(prototype);
  } catch {
    return undefined;
  }
}

/** Loads koffi lazily: importing this module must not fail where koffi's native part is absent. */
function loadKoffi(): Koffi | string {
  const mod = builtin('node:module');
  if (mod === undefined) return 'process.getBuiltinModule is missing (Node >= 20.16 is needed for the BLAS backend)';
  try {
    return mod.createRequire(import.meta.url)('koffi') as Koffi;
  } catch (err) {
    return `koffi could not be loaded (${(err as Error).message.split('\n')[0]})`;
  }
}

/** Tries each candidate library; returns the first with cblas_sgemm, or why none worked. */
export function loadBlas(names: string[] = candidateLibraries()): BlasBinding | { unavailable: string } {
  if (typeof process === 'undefined' || !process.versions?.node) return { unavailable: 'not running in Node' };
  const koffi = loadKoffi();
  if (typeof koffi === 'string') return { unavailable: koffi };
  const coreSet = preferCoreType();
  const tried: string[] = [];
  for (const name of names) {
    let lib: KoffiLib;
    try {
      lib = koffi.load(name);
    } catch {
      tried.push(`${name}: not found`);
      continue;
    }
    const sgemm = optional(
      lib,
      'void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, ' +
        'const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)',
    );
    if (!sgemm) {
      // A Fortran-only libblas.so.3 (no CBLAS layer) lands here.
      tried.push(`${name}: no cblas_sgemm symbol`);
      continue;
    }
    const saxpy = optional(lib, 'void cblas_saxpy(int n, float alpha, const float *x, int incx, float *y, int incy)');
    const controls = threadControls(lib, name);
    if (coreSet && controls.flavor.startsWith('OpenBLAS')) controls.flavor += ' (chosen by bnlab from the CPU flags; OPENBLAS_CORETYPE overrides)';
    return { sgemm, saxpy, library: name, ...controls };
  }
  return { unavailable: `no CBLAS library found (tried ${tried.join('; ')})` };
}

/** Thread-count calls and a description, per vendor. Accelerate has no call (VECLIB_MAXIMUM_THREADS only). */
function threadControls(lib: KoffiLib, name: string): Pick<BlasBinding, 'setThreads' | 'getThreads' | 'flavor'> {
  const config = optional(lib, 'const char *openblas_get_config()');
  if (config) {
    const set = optional(lib, 'void openblas_set_num_threads(int n)');
    const get = optional(lib, 'int openblas_get_num_threads()');
    // With DYNAMIC_ARCH the kernels are chosen at load time; the core name says which (the config's build target may not).
    const core = optional(lib, 'const char *openblas_get_corename()');
    const version = /OpenBLAS\s+([\d.]+)/.exec(String(config()))?.[1] ?? '';
    return {
      flavor: `OpenBLAS${version ? ` ${version}` : ''}${core ? `, ${String(core())} kernels` : ''}`,
      setThreads: set && ((n: number) => void set(n)),
      getThreads: get && (() => Number(get())),
    };
  }
  const mklSet = optional(lib, 'void MKL_Set_Num_Threads(int n)');
  if (mklSet) {
    const get = optional(lib, 'int MKL_Get_Max_Threads()');
    return { flavor: 'Intel MKL', setThreads: (n: number) => void mklSet(n), getThreads: get && (() => Number(get())) };
  }
  if (name.includes('Accelerate')) return { flavor: 'Apple Accelerate' };
  return { flavor: 'generic CBLAS' };
}
