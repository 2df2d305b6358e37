// Test helper: the compiled bnlab CLI as a child process, with its output collected and waits on what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** dist/src/cli/main.js (built by test/global-setup.ts). */
export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** A running bnlab command. */
export interface CliProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves when the output matches `re` (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Starts `node dist/src/cli/main.js ...args` with the given extra environment. */
export function bnlab(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { re: RegExp; resolve(m: RegExpMatchArray): void }[] = [];
  const feed = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', feed);
  child.stderr!.on('data', feed);
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (re, ms = 60_000) => new Promise((resolve, reject) => {
      const m = out.match(re);
      if (m) return resolve(m);
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${re} in:\n${out.slice(-3000)}`)), ms);
      waiters.push({ re, resolve: (x) => {
        clearTimeout(timer);
        resolve(x);
      } });
    }),
  };
}

/** Stops a child with SIGTERM (if still running) and waits for it. */
export async function stopCli(p: CliProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await p.exited;
}
