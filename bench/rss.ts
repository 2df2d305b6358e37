// Peak resident memory of one bnlab workload in a fresh process: node dist/bench/rss.js W2 --backend blas --iters 500.
/*
 * Prints one JSON line: {id, side, backend, baseline_kb, baseline_rss_kb, peak_kb, mid_kb, iters, ms, ...} (KB as Linux's
 * getrusage reports them), or {error}. The baseline is the peak after imports and loading the backend, before the
 * workload builds its model and data; bench/README.md says why and how to read the figures.
 */
import type { BackendName } from '../src/kernels/kernels.js';
import { backendInfo, kernels, setBackend } from '../src/kernels/select.js';
import { workloads } from './workloads.js';

const out = (obj: unknown): void => void process.stdout.write(JSON.stringify(obj) + '\n');

async function main(argv: string[]): Promise<void> {
  const flag = (name: string, dflt: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
  };
  const id = (argv.find((a) => !a.startsWith('--') && /^W\d$/i.test(a)) ?? 'W2').toUpperCase();
  const w = workloads.find((x) => x.id === id);
  if (!w) return out({ error: `unknown workload ${id}` });
  const iters = Number(flag('--iters', '500'));
  const maxMs = Number(flag('--max-ms', '3000'));
  try {
    const b = flag('--backend', '');
    if (b) setBackend(b as BackendName);
    kernels().setThreads(Number(flag('--threads', '1')));
  } catch (err) {
    return out({ error: (err as Error).message.split('\n')[0] });
  }
  const info = backendInfo();
  const baselineKb = process.resourceUsage().maxRSS;
  const baselineRssKb = Math.round(process.memoryUsage().rss / 1024);
  const step = w.setup();
  const t0 = performance.now();
  let n = 0;
  let mid: { kb: number; iters: number } | null = null;
  while (n < iters && (n < 20 || performance.now() - t0 < maxMs)) {
    step();
    n++;
    // Halfway (by iterations or by the time cap): a peak well above this one means memory still grows.
    if (!mid && n >= 10 && (n >= iters / 2 || performance.now() - t0 >= maxMs / 2)) mid = { kb: process.resourceUsage().maxRSS, iters: n };
    // As an async training loop (a data loader, progress output) lets the event loop turn: finalizers and
    // timers run there, as they do between the timing reps of run.ts.
    await new Promise((res) => setImmediate(res));
  }
  const ms = performance.now() - t0;
  const mu = process.memoryUsage();
  out({
    id, side: 'bnlab', backend: info.name, description: info.description, threads: info.threads,
    baseline_kb: baselineKb, baseline_rss_kb: baselineRssKb, peak_kb: process.resourceUsage().maxRSS, iters: n, ms,
    mid_kb: mid?.kb ?? null, mid_iters: mid?.iters ?? null,
    end_rss_kb: Math.round(mu.rss / 1024), end_heap_used_kb: Math.round(mu.heapUsed / 1024),
    end_array_buffers_kb: Math.round(mu.arrayBuffers / 1024),
  });
}

await main(process.argv.slice(2));
