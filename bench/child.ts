// Child processes of the bench: a long-lived JSON-lines server (PyTorch, TF.js) and one-shot runs (peak memory).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * A bench script next to this file: dist/bench/<name>.js when compiled, bench/<name>.ts when run from source
 * (then through the same node flags, e.g. a TypeScript loader). Returns the command line, or null.
 */
export function benchScript(name: string): { cmd: string; args: string[] } | null {
  const js = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  if (existsSync(js)) return { cmd: process.execPath, args: [js] };
  const ts = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (existsSync(ts)) return { cmd: process.execPath, args: [...process.execArgv, ts] };
  return null;
}

/** The PyTorch reference script: bench/reference/workloads.py, found from dist/bench or from bench/. */
export function pythonScript(): string | null {
  return ['../../bench/reference/workloads.py', './reference/workloads.py']
    .map((p) => fileURLToPath(new URL(p, import.meta.url)))
    .find((p) => existsSync(p)) ?? null;
}

/** The last line of a child's stderr, the usual place for the reason it failed (a traceback's last line). */
function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/**
 * A child that answers one JSON line per JSON request line, so that models are built once and reps alternate
 * with bnlab. It prints a ready line first ({"ready": true, ...info}); lines that are not JSON objects (a library's
 * stray console output) are skipped.
 */
export class LineChild {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly info: Record<string, unknown>,
    private readonly lines: AsyncIterator<string>,
    private readonly stderr: () => string,
  ) {}

  /** Starts `cmd args` and waits for its ready line; returns why not when it fails to start. */
  static async start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<LineChild | string> {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(cmd, args, { env });
    } catch (err) {
      return `could not start ${cmd}: ${(err as Error).message}`;
    }
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const spawnError = new Promise<string>((resolve) => child.on('error', (e) => resolve(e.message)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    let spawnWhy = '';
    const next = async (): Promise<string | undefined> => {
      for (;;) {
        const r = await lines.next();
        if (r.done) return undefined;
        if (r.value.startsWith('{')) return r.value;
      }
    };
    const first = await Promise.race([next(), spawnError.then((m) => void (spawnWhy = m))]);
    const ready = first === undefined ? undefined : (JSON.parse(first) as Record<string, unknown>);
    if (!ready || ready.ready !== true) {
      child.kill();
      // Give stderr a moment to drain so the last line of a traceback (e.g. No module named 'torch') is shown.
      await new Promise((res) => setTimeout(res, 50));
      const why = spawnWhy || (typeof ready?.error === 'string' ? ready.error : '') || lastLine(stderr) || 'no output';
      return `${[cmd, ...args].join(' ')} did not start (${why})`;
    }
    return new LineChild(child, ready, { next: async () => {
      for (;;) {
        const r = await lines.next();
        if (r.done || r.value.startsWith('{')) return r;
      }
    } }, () => stderr);
  }

  /** Sends one request; returns the answer, throws on {"error"} or when the child has exited. */
  async request(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.child.stdin.write(JSON.stringify(req) + '\n');
    const r = await this.lines.next();
    if (r.done) throw new Error(`child exited during ${JSON.stringify(req)}: ${lastLine(this.stderr()) || 'no output'}`);
    const ans = JSON.parse(r.value) as Record<string, unknown>;
    if (typeof ans.error === 'string') throw new Error(ans.error);
    return ans;
  }

  /** Runs `iters` iterations of workload `id`; returns ms per iteration. */
  async run(id: string, iters: number): Promise<number> {
    return (await this.request({ id, iters })).ms as number;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/**
 * Runs a child to completion and returns the last JSON object line it printed, or throws with the reason (its
 * {"error"} field, its stderr's last line, or a timeout).
 */
export function runJson(cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(new Error(`could not start ${cmd}: ${(err as Error).message}`));
      return;
    }
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill(), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      const ans = line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
      if (ans && typeof ans.error === 'string') reject(new Error(ans.error));
      else if (ans && code === 0) resolve(ans);
      else if (signal) reject(new Error(`killed by ${signal}${signal === 'SIGTERM' ? ` after ${timeoutMs} ms` : ''}`));
      else reject(new Error(lastLine(err) || `exited with code ${code} and no result`));
    });
  });
}
