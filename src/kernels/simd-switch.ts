// Whether WebAssembly SIMD kernels may be used: BNLAB_SIMD=0 makes bnlab behave as a runtime without them.

/**
 * False when BNLAB_SIMD=0 (so that the plain loops browsers without SIMD run are tested on any machine) or when
 * the runtime has no WebAssembly; the kernel modules still check that their bytes validate.
 */
export function simdAllowed(): boolean {
  if (typeof WebAssembly === 'undefined') return false;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.BNLAB_SIMD;
  if (env === undefined || env === '' || env === '1') return true;
  if (env === '0') return false;
  throw new RangeError(`BNLAB_SIMD must be 0 or 1, got '${env}'`);
}
