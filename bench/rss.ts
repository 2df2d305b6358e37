// Peak resident memory of one bnlab workload in a fresh process: node dist/bench/rss.js W2 --backend blas --iters 500.
/*
 * Prints one JSON line: {id, side, backend, baseline_kb, baseline_rss_kb, peak_kb, mid_kb, iters, ms, ...} (KB as Linux's
 * getrusage reports them), or {error}. The baseline is the peak after imports and loading the backend, before the
 * workload builds its model and data; bench/README.md says why and how to read the figures.
 */
import type { BackendName } from '../src/kernels/kernels.js';
import { backendInfo, kernels, setBackend } from '../src/kernels/select.js';
import { workloads } from './workloads.js';
import { peakRun } from './peak.js';

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
  const run = await peakRun(() => w.setup(), iters, maxMs);
  const mu = process.memoryUsage();
  out({
    id, side: 'bnlab', backend: info.name, description: info.description, threads: info.threads,
    ...run,
    end_rss_kb: Math.round(mu.rss / 1024), end_heap_used_kb: Math.round(mu.heapUsed / 1024),
    end_array_buffers_kb: Math.round(mu.arrayBuffers / 1024),
  });
}

await main(process.argv.slice(2));
