// The peak-memory loop both memory children run (bnlab's rss.ts, TF.js's tfjs.ts): steps, the halfway peak, the end.
import { readFileSync } from 'node:fs';

/** What one memory run measured, in the JSON fields bench/memory.ts reads. */
export interface PeakRun {
  baseline_kb: number;
  baseline_rss_kb: number;
  peak_kb: number;
  mid_kb: number | null;
  mid_iters: number | null;
  iters: number;
  ms: number;
}

/**
 * This process image's peak RSS in KB: VmHWM from /proc/self/status where Linux has it, else getrusage's maxRSS.
 * Why not maxRSS alone: Linux carries it across fork and exec, so a child started by a parent that had grown
 * reported the parent's size as its own (every bnlab row read 147.8 MB once the runner had trained W4 in-process).
 */
export function peakKb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS;
}

/**
 * Builds the step after the baseline is read (so the baseline is the process after imports and backend load), then
 * runs `iters` steps (stopping early past maxMs once 20 have run). The event loop turns between steps, as in an
 * async training loop (a data loader, progress output): finalizers and timers run there, as between run.ts's reps.
 */
export async function peakRun(build: () => () => void, iters: number, maxMs: number): Promise<PeakRun> {
  const baselineKb = peakKb();
  const baselineRssKb = Math.round(process.memoryUsage().rss / 1024);
  const step = build();
  const t0 = performance.now();
  let n = 0;
  let mid: { kb: number; iters: number } | null = null;
  while (n < iters && (n < 20 || performance.now() - t0 < maxMs)) {
    step();
    n++;
    // Halfway (by iterations or by the time cap): a peak well above this one means memory still grows.
    if (!mid && n >= 10 && (n >= iters / 2 || performance.now() - t0 >= maxMs / 2)) mid = { kb: peakKb(), iters: n };
    await new Promise((res) => setImmediate(res));
  }
  return {
    baseline_kb: baselineKb, baseline_rss_kb: baselineRssKb, peak_kb: peakKb(),
    mid_kb: mid?.kb ?? null, mid_iters: mid?.iters ?? null, iters: n, ms: performance.now() - t0,
  };
}
