// `npm run bench`: each workload in bnlab and in PyTorch, alternated in one run; prints a table, --json writes results.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import '../src/kernels/blas/index.js';
import { backendInfo, kernels, setBackend } from '../src/kernels/select.js';
import { tsKernels } from '../src/kernels/ts/index.js';
import { gemmStep, memcpy, workloads, type Workload } from './workloads.js';

interface Options {
  threads: number;
  reps: number;
  json?: string;
  only?: string[];
  python: string;
  pytorch: boolean;
  backend?: 'ts' | 'blas';
  /** Milliseconds of work per repetition; iterations per rep are calibrated to it. */
  repMs: number;
  /** Milliseconds each side runs a workload before the measured reps (JIT tier-up, caches, allocator). */
  warmupMs: number;
  /** Pause between the two sides, so the other side's idle BLAS/OpenMP threads stop spinning first. */
  settleMs?: number;
}

const USAGE = `usage: npm run bench -- [--threads N] [--reps N] [--json FILE] [--only W1,W3] [--backend ts|blas]
                        [--python PATH] [--no-pytorch] [--rep-ms MS] [--warmup-ms MS] [--settle-ms MS]`;

function parseArgs(argv: string[]): Options {
  const o: Options = {
    threads: 1,
    reps: 7,
    python: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
    pytorch: true,
    repMs: 200,
    warmupMs: 1000,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const val = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const v = Number(val());
      if (!Number.isInteger(v) || v < min) fail(`${flag} must be an integer >= ${min}`);
      return v;
    };
    switch (flag) {
      case '--threads': o.threads = int(1); break;
      case '--reps': o.reps = int(1); break;
      case '--rep-ms': o.repMs = int(1); break;
      case '--warmup-ms': o.warmupMs = int(0); break;
      case '--settle-ms': o.settleMs = int(0); break;
      case '--json': o.json = val(); break;
      case '--only': o.only = val().split(',').map((s) => s.trim().toUpperCase()).filter(Boolean); break;
      case '--python': o.python = val(); break;
      case '--no-pytorch': o.pytorch = false; break;
      case '--backend': {
        const b = val();
        if (b !== 'ts' && b !== 'blas') fail('--backend must be ts or blas');
        o.backend = b;
        break;
      }
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: fail(`unknown option ${argv[i]}`);
    }
  }
  // OpenBLAS workers spin ~0.1 s after a call (THREAD_TIMEOUT 2^28 cycles) and so do OpenMP's; with 2 threads
  // on 2 cores, whichever side ran last would steal a core from the other. Measured: bnlab sgemm fell from
  // 230 to 138 GFLOP/s at 2 threads when run right after PyTorch.
  o.settleMs ??= o.threads > 1 ? 250 : 0;
  if (o.reps < 5) console.warn(`note: --reps ${o.reps} is below the 5 the bench protocol asks for; medians will be noisy`);
  return o;
}

function fail(msg: string): never {
  console.error(`bench: ${msg}\n${USAGE}`);
  process.exit(2);
}

/** Milliseconds per iteration over `iters` back-to-back calls. */
function timeIters(step: () => void, iters: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) step();
  return (performance.now() - t0) / iters;
}

/** Iterations that take about `repMs`, from a short trial after warm-up. */
function calibrate(msPerIter: number, repMs: number): number {
  return Math.max(1, Math.round(repMs / Math.max(msPerIter, 1e-4)));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** The PyTorch reference as a long-lived child: one JSON request per line, so models are built once. */
class Reference {
  private readonly lines: AsyncIterator<string>;
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly info: Record<string, unknown>,
    lines: AsyncIterator<string>,
  ) {
    this.lines = lines;
  }

  /** Starts the server and waits for its ready line; returns why not when PyTorch is missing. */
  static async start(python: string, threads: number): Promise<Reference | string> {
    // Compiled to dist/bench/run.js or run from source in bench/: the script lives in bench/reference either way.
    const script = ['../../bench/reference/workloads.py', './reference/workloads.py']
      .map((p) => fileURLToPath(new URL(p, import.meta.url)))
      .find((p) => existsSync(p));
    if (!script) return 'bench/reference/workloads.py not found';
    // The same OpenBLAS kernel family as bnlab (OPENBLAS_CORETYPE, set by the BLAS loader when it chose one).
    const env = { ...process.env, PYTHONUNBUFFERED: '1' };
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(python, [script, '--serve', '--threads', String(threads)], { env });
    } catch (err) {
      return `could not start ${python}: ${(err as Error).message}`;
    }
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const spawnError = new Promise<string>((resolve) => child.on('error', (e) => resolve(e.message)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    let spawnWhy = '';
    const first = await Promise.race([
      lines.next().then((r) => (r.done ? undefined : r.value)),
      spawnError.then((m) => void (spawnWhy = m)),
    ]);
    if (first === undefined) {
      child.kill();
      // Give stderr a moment to drain so the Python traceback's last line (e.g. No module named 'torch') is shown.
      await new Promise((res) => setTimeout(res, 50));
      const why = spawnWhy || stderr.trim().split('\n').pop() || 'no output';
      return `${python} ${script} did not start (${why})`;
    }
    return new Reference(child, JSON.parse(first) as Record<string, unknown>, lines);
  }

  /** Runs `iters` iterations of workload `id` in PyTorch; returns ms per iteration. */
  async run(id: string, iters: number): Promise<number> {
    this.child.stdin.write(JSON.stringify({ id, iters }) + '\n');
    const r = await this.lines.next();
    if (r.done) throw new Error(`PyTorch reference exited while running ${id}`);
    return (JSON.parse(r.value) as { ms: number }).ms;
  }

  close(): void {
    this.child.stdin.end();
  }
}

interface Row {
  id: string;
  title: string;
  bnlab_ms: number;
  pytorch_ms: number | null;
  ratio: number | null;
  target: number | null;
  bnlab_reps_ms: number[];
  pytorch_reps_ms: number[] | null;
  iters: { bnlab: number; pytorch: number | null };
  bnlab_gflops?: number;
  pytorch_gflops?: number | null;
  ts_gflops?: number;
  bnlab_gbs?: number;
  pytorch_gbs?: number | null;
  memcpy_gbs?: number;
  error?: string;
}

/**
 * Measures one workload: warm-up and calibration on both sides, then `reps` repetitions alternating
 * bnlab and PyTorch (the order flips every rep so slow drift from other load hits both equally).
 */
async function measure(w: Workload, o: Options, ref: Reference | null): Promise<Row> {
  const step = w.setup();
  // Warm-up of ~warmupMs per side: with 3 iterations only, W1's first reps still ran 1.1-1.7 ms against a steady
  // 0.49 ms (V8 was still optimizing), and PyTorch's first rep was 25% slow too.
  for (let i = 0; i < 3; i++) step();
  timeIters(step, calibrate(timeIters(step, 3), o.warmupMs));
  const itB = calibrate(timeIters(step, 3), o.repMs);
  let itP: number | null = null;
  const pid = ref ? w.reference : null;
  if (ref && pid) {
    await ref.run(pid, calibrate(await ref.run(pid, 3), o.warmupMs));
    itP = calibrate(await ref.run(pid, 3), o.repMs);
  }
  const bs: number[] = [];
  const ps: number[] = [];
  const settle = (): Promise<void> => new Promise((res) => setTimeout(res, ref && pid ? o.settleMs : 0));
  for (let r = 0; r < o.reps; r++) {
    if (r % 2 === 0) bs.push(timeIters(step, itB));
    if (ref && pid && itP) {
      await settle();
      ps.push(await ref.run(pid, itP));
      await settle();
    }
    if (r % 2 === 1) bs.push(timeIters(step, itB));
  }
  const b = median(bs);
  const p = ps.length ? median(ps) : null;
  const row: Row = {
    id: w.id, title: w.title, bnlab_ms: b, pytorch_ms: p, ratio: p ? b / p : null, target: w.target ?? null,
    bnlab_reps_ms: bs, pytorch_reps_ms: ps.length ? ps : null, iters: { bnlab: itB, pytorch: itP },
  };
  if (w.flops) {
    row.bnlab_gflops = w.flops / b / 1e6;
    row.pytorch_gflops = p ? w.flops / p / 1e6 : null;
  }
  if (w.bytes) {
    row.bnlab_gbs = w.bytes / b / 1e6;
    row.pytorch_gbs = p ? w.bytes / p / 1e6 : null;
  }
  return row;
}

/** Median ms of a bnlab-only step (no PyTorch side), with the same warm-up and calibration. */
function measureLocal(step: () => void, o: Options, repMs = o.repMs): number {
  for (let i = 0; i < 3; i++) step();
  timeIters(step, calibrate(timeIters(step, 2), o.warmupMs));
  const it = calibrate(timeIters(step, 2), repMs);
  return median(Array.from({ length: o.reps }, () => timeIters(step, it)));
}

/** max / min of the repetitions (1 for fewer than two). */
function spread(xs: number[]): number {
  return xs.length < 2 ? 1 : Math.max(...xs) / Math.min(...xs);
}

const f = (x: number | null | undefined, d = 2): string => (x === null || x === undefined ? '-' : x.toFixed(d));

function printTable(rows: Row[], memcpyGbs: number): void {
  const head = ['id', 'workload', 'bnlab ms', 'PyTorch ms', 'ratio', 'target', '', 'rate'];
  const body = rows.map((r) => {
    let rate = '';
    if (r.bnlab_gflops !== undefined) {
      rate = `${f(r.bnlab_gflops, 1)} vs ${f(r.pytorch_gflops, 1)} GFLOP/s` + (r.ts_gflops ? ` (ts ${f(r.ts_gflops, 1)})` : '');
    }
    if (r.bnlab_gbs !== undefined) rate = `${f(r.bnlab_gbs, 1)} vs ${f(r.pytorch_gbs, 1)} GB/s (memcpy ${f(memcpyGbs, 1)})`;
    let ok = r.ratio === null || r.target === null ? '' : r.ratio <= r.target ? 'ok' : 'MISS';
    // Reps that differ by more than 1.5x mean the machine was busy (or, at 2 threads, OpenMP spin-waits
    // lost their core): the median is then a weak figure, say so instead of printing it as if clean.
    if (spread(r.bnlab_reps_ms) > 1.5 || spread(r.pytorch_reps_ms ?? []) > 1.5) ok += ok ? ' noisy' : 'noisy';
    return r.error
      ? [r.id, r.title, 'error', '', '', '', '', r.error]
      : [r.id, r.title, f(r.bnlab_ms, 3), f(r.pytorch_ms, 3), f(r.ratio), f(r.target), ok, rate];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.backend) setBackend(o.backend);
  kernels().setThreads(o.threads);
  const info = backendInfo();
  console.log(`bnlab backend: ${info.name} — ${info.description} (${info.reason}); threads ${info.threads}`);
  if (info.name === 'ts' && o.backend !== 'ts') {
    console.log('  note: GEMMs run in pure TypeScript; install OpenBLAS for real numbers: apt-get install libopenblas0-pthread');
  }

  let ref: Reference | null = null;
  let refWhy = 'disabled by --no-pytorch';
  if (o.pytorch) {
    const r = await Reference.start(o.python, o.threads);
    if (typeof r === 'string') refWhy = r;
    else ref = r;
  }
  if (ref) {
    console.log(`PyTorch ${String(ref.info.torch)}: threads ${String(ref.info.threads)}, OpenBLAS core ${String(ref.info.openblas_core)}`);
  } else {
    console.log(`PyTorch reference not run: ${refWhy}`);
    if (o.pytorch) console.log('  to compare: apt-get install python3-torch libopenblas0-pthread, then run with /usr/bin/python3 (or --python PATH)');
  }

  const selected = o.only ? workloads.filter((w) => o.only!.includes(w.id)) : workloads;
  if (o.only) {
    const unknown = o.only.filter((id) => !workloads.some((w) => w.id === id));
    if (unknown.length) fail(`unknown workload ${unknown.join(', ')}; known: ${workloads.map((w) => w.id).join(', ')}`);
  }

  const memcpyMs = measureLocal(memcpy.setup(), o);
  const memcpyGbs = memcpy.bytes! / memcpyMs / 1e6;
  console.log(`${memcpy.title}: ${f(memcpyGbs, 1)} GB/s (read + write)\n`);

  const rows: Row[] = [];
  for (const w of selected) {
    try {
      const row = await measure(w, o, ref);
      if (w.id === 'GEMM' && kernels().name !== 'ts') {
        // The portable fallback for comparison; a shorter run, it is ~50x slower.
        row.ts_gflops = w.flops! / measureLocal(gemmStep(tsKernels), o, Math.min(o.repMs, 100)) / 1e6;
      }
      if (w.bytes) row.memcpy_gbs = memcpyGbs;
      rows.push(row);
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      rows.push({
        id: w.id, title: w.title, bnlab_ms: NaN, pytorch_ms: null, ratio: null, target: w.target ?? null,
        bnlab_reps_ms: [], pytorch_reps_ms: null, iters: { bnlab: 0, pytorch: null }, error: msg,
      });
    }
  }
  ref?.close();
  printTable(rows, memcpyGbs);
  console.log(`\nmedian of ${o.reps} reps of ~${o.repMs} ms after warm-up; ratio = bnlab / PyTorch (lower is better)`);

  if (o.json) {
    const cpus = os.cpus();
    const out = {
      machine: {
        cpu: cpus[0]?.model ?? 'unknown',
        cores: cpus.length,
        platform: `${process.platform}-${process.arch}`,
        node: process.version,
        date: new Date().toISOString(),
        threads: o.threads,
        reps: o.reps,
        backend: info.name,
        backend_description: info.description,
        openblas_coretype: process.env.OPENBLAS_CORETYPE ?? null,
        pytorch: ref ? ref.info : null,
        pytorch_missing_reason: ref ? null : refWhy,
        memcpy_gbs: memcpyGbs,
        loadavg: os.loadavg(),
      },
      workloads: rows.map((r) => ({ ...r, bnlab_ms: Number.isNaN(r.bnlab_ms) ? null : r.bnlab_ms })),
    };
    writeFileSync(o.json, JSON.stringify(out, null, 2) + '\n');
    console.log(`wrote ${o.json}`);
  }
}

await main();
