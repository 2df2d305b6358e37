// A real results.json for the web tests: `bnlab run fig1 --tiny` with the compiled CLI (dist/, built by test/global-setup.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** The command the tiny run is made with (~1 s on one core); its figures are Figure 1's, the lab's flagship. */
export const TINY_RUN = ['run', 'fig1', '--tiny', '--jobs', '1', '--no-report', '--progress', 'silent'];

/** Runs the tiny experiment into `<root>/fig1` and returns the path of its results.json. */
export function tinyRun(root: string): string {
  const out = join(root, 'fig1');
  const r = spawnSync(process.execPath, [MAIN, ...TINY_RUN, '--out', out], { encoding: 'utf8', env: { ...process.env, CI: '1' }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`bnlab ${TINY_RUN.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return join(out, 'results.json');
}
