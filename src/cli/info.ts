// `bnlab info`: version, active backend and why, the kernels and memory it uses, Node version.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { backendInfo } from '../kernels/select.js';
import { installHint } from '../kernels/blas/index.js';

/** The package version from package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print version, compute backend and Node version')
    .action(() => {
      const b = backendInfo();
      console.log(`bnlab ${packageVersion()}`);
      console.log(`backend: ${b.name} — ${b.description}; threads: ${b.threads}`);
      console.log(`  why: ${b.reason}`);
      console.log(`kernels: ${b.simdKernels ? 'WebAssembly SIMD' : 'plain loops'} for BatchNorm, activations, pooling and bias sums`);
      console.log(`memory: ${b.heap}`);
      if (b.name !== 'blas' && !b.reason.includes(installHint())) {
        console.log(`  for the fastest training install OpenBLAS: ${installHint()}; bnlab picks it up automatically`);
      }
      console.log(`node: ${process.version}`);
    });
}
