// Peak resident memory of W2 and W3: each side in a fresh child process (rss.ts, tfjs.ts, workloads.py --memory).
import { benchScript, pythonScript, runJson } from './child.js';
import { f, printGrid } from './table.js';

/**
 * Iterations per workload, the same for every side (~1-3 s for bnlab and PyTorch here). Measured: bnlab's W2
 * peak stops rising after ~100-200 iterations (blas 20: +34 MB, 200: +47, 1000: +46).
 */
export const MEMORY_ITERS: Record<string, number> = { W2: 300, W3: 40 };
/** A side slower than that stops after this long, once it has run at least 20 iterations (TF.js's W2 runs ~50). */
export const MEMORY_MAX_MS = 4000;
/** A peak this much above the halfway peak (and > 5 MB) is flagged 'growing': the figure depends on the run's length. */
const GROWTH = 0.1;

/** One measurement; KB as getrusage gives them, MB = 2^20 bytes in the table. */
export interface MemoryRun {
  id: string;
  /** bnlab/<backend>, PyTorch or TF.js. */
  side: string;
  /** Peak RSS of the whole process over its life. */
  peak_kb: number | null;
  /** Peak RSS after imports and loading the backend (torch, the BLAS library, the wasm modules), before the workload. */
  baseline_kb: number | null;
  /** peak - baseline: what building and training the workload added. */
  workload_kb: number | null;
  /** Peak RSS halfway through the run (by iterations, or by time when the time cap stops it). */
  mid_kb: number | null;
  /** peak clearly above the halfway peak: memory was still growing when the run stopped. */
  growing: boolean | null;
  iters: number | null;
  ms: number | null;
  detail?: Record<string, unknown>;
  error?: string;
}

export interface MemoryPlan {
  ids: string[];
  /** bnlab backends to measure (the main one, and wasm when its column is shown and it loads). */
  backends: string[];
  threads: number;
  /** Python interpreter, or null with the reason PyTorch is not measured. */
  python: string | null;
  /** Whether TF.js runs (W2 only). */
  tfjs: boolean;
}

const TIMEOUT_MS = 60_000;

async function one(id: string, side: string, cmd: { cmd: string; args: string[] } | null): Promise<MemoryRun> {
  const base: MemoryRun = { id, side, peak_kb: null, baseline_kb: null, workload_kb: null, mid_kb: null, growing: null, iters: null, ms: null };
  if (!cmd) return { ...base, error: 'script not found' };
  try {
    const r = await runJson(cmd.cmd, cmd.args, TIMEOUT_MS);
    // id and side are known here; the rest is detail.
    const { peak_kb, baseline_kb, mid_kb, iters, ms, id: _id, side: _side, ...detail } = r as Record<string, number> & Record<string, unknown>;
    const workload = peak_kb - baseline_kb;
    const growing = mid_kb === null ? null : peak_kb - mid_kb > Math.max(5 * 1024, GROWTH * workload);
    return { id, side, peak_kb, baseline_kb, workload_kb: workload, mid_kb, growing, iters, ms, detail };
  } catch (err) {
    return { ...base, error: (err as Error).message.split('\n')[0] };
  }
}

/** Runs every (workload, side) of the plan, one child at a time so that they never compete. */
export async function measureMemory(p: MemoryPlan): Promise<MemoryRun[]> {
  const runs: MemoryRun[] = [];
  for (const id of p.ids) {
    const common = [id, '--iters', String(MEMORY_ITERS[id]), '--max-ms', String(MEMORY_MAX_MS)];
    for (const b of p.backends) {
      const s = benchScript('rss');
      runs.push(await one(id, `bnlab/${b}`, s && { cmd: s.cmd, args: [...s.args, ...common, '--backend', b, '--threads', String(p.threads)] }));
    }
    const py = pythonScript();
    if (p.python && py) {
      runs.push(await one(id, 'PyTorch', { cmd: p.python, args: [py, '--memory', ...common, '--threads', String(p.threads)] }));
    }
    if (p.tfjs && id === 'W2') {
      const s = benchScript('tfjs');
      runs.push(await one(id, 'TF.js', s && { cmd: s.cmd, args: [...s.args, '--memory', ...common] }));
    }
  }
  return runs;
}

export function printMemoryTable(runs: MemoryRun[]): void {
  const mb = (kb: number | null): string => f(kb === null ? null : kb / 1024, 1);
  const head = ['id', 'side', 'peak', 'baseline', 'workload', 'halfway', 'iters'];
  const notes = runs.some((r) => r.error || r.growing);
  if (notes) head.push('');
  const body = runs.map((r) => {
    const cells = r.error
      ? [r.id, r.side, 'error', '', '', '', '']
      : [r.id, r.side, mb(r.peak_kb), mb(r.baseline_kb), mb(r.workload_kb), mb(r.mid_kb), String(r.iters)];
    if (notes) cells.push(r.error ?? (r.growing ? 'growing' : ''));
    return cells;
  });
  printGrid(head, body, new Set([2, 3, 4, 5, 6]));
}
