// Vitest global setup: compiles the project once (tsc -p tsconfig.build.json) so CLI tests and runner workers run dist/.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Builds dist/ before any test file runs; a failed build fails the run with tsc's messages. */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`test/global-setup: \`tsc -p tsconfig.build.json\` failed, so the compiled CLI cannot be tested:\n${out}`);
  }
}
