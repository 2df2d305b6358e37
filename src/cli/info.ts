// `bnlab info`: version, active backend and why, Node version.
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
      console.log(`backend: ${b.name} — ${b.description} (${b.reason}); threads: ${b.threads}`);
      if (b.name === 'ts' && !b.reason.includes(installHint())) {
        console.log(`  for faster training install OpenBLAS: ${installHint()}; bnlab picks it up automatically`);
      }
      console.log(`node: ${process.version}`);
    });
}
