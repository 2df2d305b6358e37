// Loader speed: one shuffled epoch over 60,000 28x28 samples at batch 128, measured and printed (never asserted).
import { describe, it, expect } from 'vitest';
import { Loader } from '../../src/data/loader.js';

describe('loader speed (measured, not asserted)', () => {
  it('one epoch of 60,000 x [1, 28, 28] at batch 128', () => {
    const n = 60000;
    const f = 784;
    const x = new Float32Array(n * f);
    for (let i = 0; i < x.length; i += 13) x[i] = (i % 255) / 255;
    const loader = new Loader({ x, y: new Int32Array(n), n }, [1, 28, 28], { batchSize: 128, seed: 1 });
    const times: number[] = [];
    let check = 0;
    for (let e = 0; e < 6; e++) {
      const t0 = performance.now();
      for (const b of loader.batches()) check += b.x[0] + b.n;
      times.push(performance.now() - t0);
    }
    const warm = times.slice(1).sort((a, b) => a - b);
    console.log(`loader: ${warm[0].toFixed(1)} ms/epoch best, ${warm[Math.floor(warm.length / 2)].toFixed(1)} ms median (60,000 x 784 float32, ` +
      `batch 128, shuffled; first epoch ${times[0].toFixed(1)} ms)`);
    expect(check).toBeGreaterThan(0);
  });
});
