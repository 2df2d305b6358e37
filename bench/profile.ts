// Runs one bench workload in a loop for profiling: node --cpu-prof dist/bench/profile.js W3 [seconds].
import '../src/kernels/blas/index.js';
import { backendInfo } from '../src/kernels/select.js';
import { memcpy, workloads } from './workloads.js';

const [id = 'W1', secs = '5'] = process.argv.slice(2);
const w = [...workloads, memcpy].find((x) => x.id === id.toUpperCase());
if (!w) {
  console.error(`usage: node --cpu-prof dist/bench/profile.js ${workloads.map((x) => x.id).join('|')} [seconds]`);
  process.exit(2);
}
const step = w.setup();
const end = performance.now() + Number(secs) * 1000;
let n = 0;
const t0 = performance.now();
while (performance.now() < end) {
  step();
  n++;
}
console.log(`${w.id} on ${backendInfo().name}: ${n} iterations, ${((performance.now() - t0) / n).toFixed(3)} ms each`);
