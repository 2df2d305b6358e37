// `node dist/bench/steady-memory.js [W2] [steps]`: a workload's training step in one synchronous loop, resident memory and heap use at checkpoints.
import { backendInfo } from '../src/kernels/select.js';
import { heapStats } from '../src/tensor/heap.js';
import { workloads } from './workloads.js';

const id = (process.argv[2] ?? 'W2').toUpperCase();
const steps = Number(process.argv[3] ?? 20000);
const w = workloads.find((x) => x.id === id);
if (!w || !Number.isInteger(steps) || steps < 1) {
  console.error(`usage: node dist/bench/steady-memory.js [${workloads.map((x) => x.id).join('|')}] [steps >= 1]`);
  process.exit(2);
}
const step = w.setup();
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`${id} on ${backendInfo().name}: ${steps} steps, no await between them (so no finalizer can run)`);
console.log('step      rss MB  heap top MB  heap live MB');
const t0 = performance.now();
for (let s = 1; s <= steps; s++) {
  step();
  if (s === 1 || s === 100 || s % Math.max(1, Math.floor(steps / 10)) === 0) {
    const h = heapStats();
    console.log(`${String(s).padEnd(8)}  ${mb(process.memoryUsage().rss).padStart(6)}  ${mb(h.topBytes).padStart(11)}  ` +
      `${mb(h.liveBytes).padStart(12)}`);
  }
}
console.log(`${((performance.now() - t0) / steps).toFixed(3)} ms per step`);
