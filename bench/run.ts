// `npm run bench`: each workload in bnlab (active backend, and wasm beside it), PyTorch and TF.js, alternated in
// one run; then peak resident memory of W2 and W3 in fresh processes. Prints tables; --json writes every figure.
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { BackendName } from '../src/kernels/kernels.js';
import { backendInfo, kernels, setBackend } from '../src/kernels/select.js';
import { tsKernels } from '../src/kernels/ts/index.js';
import { benchScript, LineChild, pythonScript } from './child.js';
import { MEMORY_ITERS, MEMORY_MAX_MS, measureMemory, printMemoryTable, type MemoryRun } from './memory.js';
import { f, printTable, type Columns, type Row } from './table.js';
import { gemmStep, memcpy, workloads, type Workload } from './workloads.js';

/** The backends the bench knows; `wasm` is cast through BackendName so the bench builds before a backend lands. */
type Backend = 'ts' | 'blas' | 'wasm';
type SideKey = 'bnlab' | 'wasm' | 'pytorch' | 'tfjs';

interface Options {
  threads: number;
  reps: number;
  json?: string;
  only?: string[];
  python: string;
  pytorch: boolean;
  /** TF.js column (W1, W2, GEMM), in a child process. */
  tfjs: boolean;
  /** The extra bnlab-on-wasm column, when the main column is another backend. */
  wasm: boolean;
  /** The peak resident memory table. */
  memory: boolean;
  backend?: Backend;
  /** Milliseconds of work per repetition; iterations per rep are calibrated to it. */
  repMs: number;
  /** Milliseconds each side runs a workload before the measured reps (JIT tier-up, caches, allocator). */
  warmupMs: number;
  /** Pause between two sides, so the other side's idle BLAS/OpenMP threads stop spinning first. */
  settleMs: number;
}

const USAGE = `usage: npm run bench -- [--threads N] [--reps N] [--json FILE] [--only W1,W3] [--backend ts|blas|wasm]
                        [--no-wasm] [--no-tfjs] [--no-memory] [--python PATH] [--no-pytorch]
                        [--rep-ms MS] [--warmup-ms MS] [--settle-ms MS]`;

function parseArgs(argv: string[]): Options {
  const o: Options = {
    threads: 1,
    reps: 7,
    python: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
    pytorch: true,
    tfjs: true,
    wasm: true,
    memory: true,
    repMs: 200,
    warmupMs: 1000,
    settleMs: -1,
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
      case '--no-tfjs': o.tfjs = false; break;
      case '--no-wasm': o.wasm = false; break;
      case '--no-memory': o.memory = false; break;
      case '--backend': {
        const b = val();
        if (b !== 'ts' && b !== 'blas' && b !== 'wasm') fail('--backend must be ts, blas or wasm');
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
  if (o.settleMs < 0) o.settleMs = o.threads > 1 ? 250 : 0;
  if (o.reps < 5) console.warn(`note: --reps ${o.reps} is below the 5 the bench protocol asks for; medians will be noisy`);
  return o;
}

function fail(msg: string): never {
  console.error(`bench: ${msg}\n${USAGE}`);
  process.exit(2);
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0];

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

/** One contender for a workload: runs `iters` iterations and returns ms per iteration. */
interface Side {
  key: SideKey;
  run(iters: number): Promise<number>;
}

/**
 * bnlab on `backend`, in this process: the backend is switched in (setBackend) before the model is built and
 * before every rep, so two bnlab columns can alternate like the child processes do.
 */
function localSide(key: SideKey, w: Workload, backend: Backend): Side {
  const use = (): void => {
    if (kernels().name !== backend) setBackend(backend as BackendName);
  };
  use();
  const step = w.setup();
  return { key, run: async (iters) => (use(), timeIters(step, iters)) };
}

function childSide(key: SideKey, child: LineChild, id: string): Side {
  return { key, run: (iters) => child.run(id, iters) };
}

/** Warm-up of ~warmupMs, then the iterations per rep. */
async function prepare(s: Side, o: Options): Promise<number> {
  // With 3 warm-up iterations only, W1's first reps still ran 1.1-1.7 ms against a steady 0.49 ms (V8 was
  // still optimizing), and PyTorch's first rep was 25% slow too.
  await s.run(3);
  await s.run(calibrate(await s.run(3), o.warmupMs));
  return calibrate(await s.run(3), o.repMs);
}

/** What measure() runs against: the main backend, the wasm column, and the children that started. */
interface Context {
  main: Backend;
  /** The wasm column is shown and its backend loads. */
  wasm: boolean;
  ref: LineChild | null;
  tfjs: LineChild | null;
  tfjsIds: string[];
  tfjsApis: Record<string, string>;
}

/**
 * Measures one workload: warm-up and calibration on every side, then `reps` repetitions going through the sides in
 * turn (the order reverses every rep, so slow drift from other load hits all alike). A side other than the main
 * column that fails is recorded in its *_error field and dropped; the others go on.
 */
async function measure(w: Workload, o: Options, ctx: Context): Promise<Row> {
  const sides: Side[] = [localSide('bnlab', w, ctx.main)];
  const errors: Partial<Record<SideKey, string>> = {};
  if (ctx.wasm) {
    try {
      sides.push(localSide('wasm', w, 'wasm'));
    } catch (err) {
      errors.wasm = firstLine(err);
    }
  }
  if (ctx.ref && w.reference) sides.push(childSide('pytorch', ctx.ref, w.reference));
  if (ctx.tfjs && ctx.tfjsIds.includes(w.id)) sides.push(childSide('tfjs', ctx.tfjs, w.id));
  const live: { side: Side; iters: number; reps: number[] }[] = [];
  for (const side of sides) {
    try {
      live.push({ side, iters: await prepare(side, o), reps: [] });
    } catch (err) {
      if (side.key === 'bnlab') throw err;
      errors[side.key] = firstLine(err);
    }
  }
  const settle = (): Promise<void> => new Promise((res) => setTimeout(res, o.settleMs));
  for (let r = 0; r < o.reps; r++) {
    const order = r % 2 === 0 ? live : [...live].reverse();
    for (const [i, l] of order.entries()) {
      if (errors[l.side.key]) continue;
      if (i > 0 && o.settleMs > 0) await settle();
      try {
        l.reps.push(await l.side.run(l.iters));
      } catch (err) {
        if (l.side.key === 'bnlab') throw err;
        errors[l.side.key] = firstLine(err);
      }
    }
  }
  return toRow(w, ctx, live, errors);
}

/** Medians, ratios (time / PyTorch time) and rates from the reps of each side. */
function toRow(w: Workload, ctx: Context, live: { side: Side; iters: number; reps: number[] }[], errors: Partial<Record<SideKey, string>>): Row {
  const get = (k: SideKey) => live.find((l) => l.side.key === k && !errors[k] && l.reps.length > 0);
  const med = (k: SideKey): number | null => {
    const l = get(k);
    return l ? median(l.reps) : null;
  };
  const b = med('bnlab')!;
  const p = med('pytorch');
  const wm = med('wasm');
  const t = med('tfjs');
  const vs = (x: number | null): number | null => (x !== null && p ? x / p : null);
  const row: Row = {
    id: w.id, title: w.title, bnlab_ms: b, pytorch_ms: p, ratio: vs(b), target: w.target ?? null,
    bnlab_reps_ms: get('bnlab')!.reps, pytorch_reps_ms: get('pytorch')?.reps ?? null,
    wasm_ms: wm, wasm_ratio: vs(wm), wasm_reps_ms: get('wasm')?.reps ?? null,
    tfjs_ms: t, tfjs_ratio: vs(t), tfjs_reps_ms: get('tfjs')?.reps ?? null,
    iters: { bnlab: get('bnlab')!.iters, pytorch: get('pytorch')?.iters ?? null, wasm: get('wasm')?.iters ?? null, tfjs: get('tfjs')?.iters ?? null },
  };
  if (ctx.tfjs && ctx.tfjsIds.includes(w.id)) row.tfjs_api = ctx.tfjsApis[w.id] ?? 'ops';
  if (errors.pytorch) row.pytorch_error = errors.pytorch;
  if (errors.wasm) row.wasm_error = errors.wasm;
  if (errors.tfjs) row.tfjs_error = errors.tfjs;
  if (w.flops) {
    const gf = (ms: number | null): number | null => (ms ? w.flops! / ms / 1e6 : null);
    row.bnlab_gflops = gf(b)!;
    row.pytorch_gflops = gf(p);
    row.wasm_gflops = gf(wm);
    row.tfjs_gflops = gf(t);
  }
  if (w.bytes) {
    row.bnlab_gbs = w.bytes / b / 1e6;
    row.pytorch_gbs = p ? w.bytes / p / 1e6 : null;
    row.wasm_gbs = wm ? w.bytes / wm / 1e6 : null;
  }
  return row;
}

/** Median ms of a bnlab-only step (no other side), with the same warm-up and calibration. */
function measureLocal(step: () => void, o: Options, repMs = o.repMs): number {
  for (let i = 0; i < 3; i++) step();
  timeIters(step, calibrate(timeIters(step, 2), o.warmupMs));
  const it = calibrate(timeIters(step, 2), repMs);
  return median(Array.from({ length: o.reps }, () => timeIters(step, it)));
}

/** The main backend (forced or the default) with its threads; exits when a forced one does not load. */
function chooseMain(o: Options): ReturnType<typeof backendInfo> {
  if (o.backend) {
    try {
      setBackend(o.backend as BackendName);
    } catch (err) {
      fail(firstLine(err));
    }
  }
  kernels().setThreads(o.threads);
  return backendInfo();
}

/** Loads the wasm backend for its column and switches back; returns its description or why it cannot run. */
function probeWasm(o: Options, main: Backend): { description: string } | { unavailable: string } | null {
  if (!o.wasm || main === 'wasm') return null;
  try {
    const k = setBackend('wasm' as BackendName);
    k.setThreads(o.threads);
    return { description: k.description };
  } catch (err) {
    return { unavailable: firstLine(err) };
  } finally {
    setBackend(main as BackendName);
  }
}

async function startPyTorch(o: Options): Promise<LineChild | string> {
  if (!o.pytorch) return 'disabled by --no-pytorch';
  const script = pythonScript();
  if (!script) return 'bench/reference/workloads.py not found';
  // The same OpenBLAS kernel family as bnlab (OPENBLAS_CORETYPE, set by the BLAS loader when it chose one).
  return LineChild.start(o.python, [script, '--serve', '--threads', String(o.threads)], { ...process.env, PYTHONUNBUFFERED: '1' });
}

async function startTfjs(o: Options): Promise<LineChild | string> {
  if (!o.tfjs) return 'disabled by --no-tfjs';
  const s = benchScript('tfjs');
  if (!s) return 'bench/tfjs.ts is not built (npm run build)';
  return LineChild.start(s.cmd, [...s.args, '--serve']);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const info = chooseMain(o);
  const mainName = info.name as Backend;
  console.log(`bnlab backend: ${info.name} — ${info.description} (${info.reason}); threads ${info.threads}`);
  if (info.name === 'ts' && o.backend !== 'ts') {
    console.log('  note: GEMMs run in pure TypeScript; install OpenBLAS for real numbers: apt-get install libopenblas0-pthread');
  }
  const wasm = probeWasm(o, mainName);
  if (wasm) console.log('unavailable' in wasm ? `wasm column: n/a (${wasm.unavailable})` : `wasm column: bnlab on ${wasm.description}`);

  const r = await startPyTorch(o);
  const ref = typeof r === 'string' ? null : r;
  if (ref) {
    console.log(`PyTorch ${String(ref.info.torch)}: threads ${String(ref.info.threads)}, OpenBLAS core ${String(ref.info.openblas_core)}`);
  } else {
    console.log(`PyTorch reference not run: ${r as string}`);
    if (o.pytorch) console.log('  to compare: apt-get install python3-torch libopenblas0-pthread, then run with /usr/bin/python3 (or --python PATH)');
  }
  const t = await startTfjs(o);
  const tfjs = typeof t === 'string' ? null : t;
  if (tfjs) {
    const ti = tfjs.info;
    console.log(`TF.js ${String(ti.tfjs)}: ${String(ti.backend)} backend, threads ${String(ti.threads)}, SIMD ${String(ti.simd)} (child process)`);
  } else if (o.tfjs) {
    console.log(`TF.js not run: ${t as string}`);
  }

  const selected = o.only ? workloads.filter((w) => o.only!.includes(w.id)) : workloads;
  if (o.only) {
    const unknown = o.only.filter((id) => !workloads.some((w) => w.id === id));
    if (unknown.length) fail(`unknown workload ${unknown.join(', ')}; known: ${workloads.map((w) => w.id).join(', ')}`);
  }

  const memcpyMs = measureLocal(memcpy.setup(), o);
  const memcpyGbs = memcpy.bytes! / memcpyMs / 1e6;
  console.log(`${memcpy.title}: ${f(memcpyGbs, 1)} GB/s (read + write)\n`);

  const ctx: Context = {
    main: mainName,
    wasm: wasm !== null && !('unavailable' in wasm),
    ref,
    tfjs,
    tfjsIds: tfjs ? (tfjs.info.workloads as string[]) : [],
    tfjsApis: tfjs ? (tfjs.info.apis as Record<string, string>) : {},
  };
  const rows: Row[] = [];
  for (const w of selected) rows.push(await measureRow(w, o, ctx, memcpyGbs));
  ref?.close();
  tfjs?.close();

  const columns: Columns = {
    main: mainName,
    wasm: wasm ? { na: 'unavailable' in wasm } : null,
    tfjs: o.tfjs ? { na: tfjs === null, ids: tfjs ? ctx.tfjsIds : ['W1', 'W2', 'GEMM'] } : null,
  };
  printTable(rows, columns, memcpyGbs);
  console.log(`\nmedian of ${o.reps} reps of ~${o.repMs} ms after warm-up; ratio = time / PyTorch time (lower is better)`);
  if (wasm && 'unavailable' in wasm) console.log(`wasm: n/a (${wasm.unavailable})`);
  if (columns.tfjs) {
    console.log(tfjs
      ? `TF.js: W1 via ${ctx.tfjsApis.W1 ?? 'ops'}, W2 via ${ctx.tfjsApis.W2 ?? 'ops'}; W3 cannot train on its wasm backend (no ` +
        `Conv2DBackpropFilter kernel)`
      : `TF.js: n/a (${t as string})`);
  }

  const memory = o.memory ? await memoryTable(o, selected, ctx, mainName, ref ? null : (r as string)) : { runs: null,
    why: 'disabled by --no-memory' };
  if (o.json) {
    writeJson(o, { info, wasm, ref, refWhy: ref ? null : (r as string), tfjs, tfjsWhy: tfjs ? null : (t as string), memcpyGbs, rows, memory });
  }
}

/** measure() plus the GEMM row's TypeScript rate; a failure of the main column becomes an error row. */
async function measureRow(w: Workload, o: Options, ctx: Context, memcpyGbs: number): Promise<Row> {
  try {
    const row = await measure(w, o, ctx);
    if (w.id === 'GEMM' && ctx.main !== 'ts') {
      // The portable fallback for comparison; a shorter run, it is ~50x slower.
      setBackend(ctx.main as BackendName);
      row.ts_gflops = w.flops! / measureLocal(gemmStep(tsKernels), o, Math.min(o.repMs, 100)) / 1e6;
    }
    if (w.bytes) row.memcpy_gbs = memcpyGbs;
    return row;
  } catch (err) {
    return {
      id: w.id, title: w.title, bnlab_ms: NaN, pytorch_ms: null, ratio: null, target: w.target ?? null,
      bnlab_reps_ms: [], pytorch_reps_ms: null, wasm_ms: null, wasm_ratio: null, wasm_reps_ms: null,
      tfjs_ms: null, tfjs_ratio: null, tfjs_reps_ms: null, iters: { bnlab: 0, pytorch: null, wasm: null, tfjs: null },
      error: firstLine(err),
    };
  }
}

/** Peak RSS of W2 and W3 (those selected) for each side, in fresh processes; prints the second table. */
async function memoryTable(o: Options, selected: Workload[], ctx: Context, main: Backend,
  refWhy: string | null): Promise<{ runs: MemoryRun[] | null; why: string | null }> {
  const ids = selected.map((w) => w.id).filter((id) => id in MEMORY_ITERS);
  if (ids.length === 0) return { runs: null, why: `no workload of ${Object.keys(MEMORY_ITERS).join(', ')} selected` };
  const runs = await measureMemory({
    ids,
    backends: ctx.wasm ? [main, 'wasm'] : [main],
    threads: o.threads,
    python: refWhy === null ? o.python : null,
    tfjs: ctx.tfjs !== null,
  });
  console.log('\npeak resident memory (MB)');
  printMemoryTable(runs);
  console.log(
    `each row a fresh process: peak = peak RSS over its life, baseline = peak RSS after imports and backend load,\n` +
      `workload = peak - baseline, halfway = peak RSS half-way through the run ('growing': the end peak is clearly above it);\n` +
      `${ids.map((id) => `${id} ${MEMORY_ITERS[id]}`).join(', ')} iterations ` +
      `(a slower side stops after ${MEMORY_MAX_MS / 1000} s once 20 ran); MB = 2^20 bytes` +
      (refWhy ? `; PyTorch not measured: ${refWhy}` : ''),
  );
  return { runs, why: null };
}

interface Results {
  info: ReturnType<typeof backendInfo>;
  wasm: ReturnType<typeof probeWasm>;
  ref: LineChild | null;
  refWhy: string | null;
  tfjs: LineChild | null;
  tfjsWhy: string | null;
  memcpyGbs: number;
  rows: Row[];
  memory: { runs: MemoryRun[] | null; why: string | null };
}

function writeJson(o: Options, r: Results): void {
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
      backend: r.info.name,
      backend_description: r.info.description,
      backend_reason: r.info.reason,
      wasm_column: r.wasm === null ? null : { description: 'description' in r.wasm ? r.wasm.description : null,
        unavailable_reason: 'unavailable' in r.wasm ? r.wasm.unavailable : null },
      openblas_coretype: process.env.OPENBLAS_CORETYPE ?? null,
      pytorch: r.ref ? r.ref.info : null,
      pytorch_missing_reason: r.refWhy,
      tfjs: r.tfjs ? r.tfjs.info : null,
      tfjs_missing_reason: r.tfjsWhy,
      memcpy_gbs: r.memcpyGbs,
      loadavg: os.loadavg(),
    },
    workloads: r.rows.map((x) => ({ ...x, bnlab_ms: Number.isNaN(x.bnlab_ms) ? null : x.bnlab_ms })),
    memory: r.memory.runs ? { unit: 'KB', iters: MEMORY_ITERS, max_ms: MEMORY_MAX_MS, runs: r.memory.runs } : null,
    memory_skipped_reason: r.memory.why,
  };
  writeFileSync(o.json!, JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote ${o.json!}`);
}

await main();
