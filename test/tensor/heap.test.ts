// The WebAssembly heap: views never detach or alias while held, blocks are reused, a full heap falls back, errors say sizes.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { allocResident, freeResident, heapMemory, heapStats, isResident, MIN_RESIDENT, sizeClass } from '../../src/tensor/heap.js';
import { allocUninit } from '../../src/tensor/alloc.js';
import { releaseBuffer } from '../../src/tensor/pool.js';
import { randn, zeros } from '../../src/tensor/create.js';

/** Runs a module snippet against the compiled dist/ (built by the global setup) in a fresh Node process with its own heap. */
function runIsolated(code: string, env: Record<string, string> = {}, flags: string[] = []): string {
  return execFileSync(process.execPath, [...flags, '--input-type=module', '-e', code], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('size classes', () => {
  it('hold n floats with at most 25% slack (64 bytes for small blocks) and grow with n', () => {
    let last = 0;
    for (let n = 1; n < 5_000_000; n = Math.ceil(n * 1.07) + 1) {
      const { cls, bytes } = sizeClass(n);
      expect(bytes).toBeGreaterThanOrEqual(4 * n);
      expect(bytes).toBeLessThanOrEqual(Math.max(4 * n * 1.25, 4 * n + 64));
      expect(cls).toBeGreaterThanOrEqual(last);
      last = cls;
      // Every size of a class gets the same block size.
      expect(sizeClass(bytes / 4).cls).toBe(cls);
    }
  });
});

describe('heap blocks', () => {
  it('large tensors live in the heap, small ones in JavaScript arrays', () => {
    expect(heapMemory()).not.toBeNull();
    expect(isResident(zeros([MIN_RESIDENT]).data)).toBe(true);
    expect(isResident(randn([64, 128]).data)).toBe(true);
    expect(isResident(zeros([10]).data)).toBe(false);
  });

  it('reuses a freed block, never one still held, and never overlaps live views', () => {
    const held = allocResident(5000)!;
    held.fill(7);
    const a = allocResident(5000)!;
    const addr = a.byteOffset;
    expect(freeResident(a)).toBe(true);
    expect(freeResident(a)).toBe(false); // a second free is refused
    expect(freeResident(held.subarray(1))).toBe(false); // subarrays are not blocks
    const b = allocResident(5000)!;
    expect(b.byteOffset).toBe(addr);
    const live = [held, b, ...Array.from({ length: 50 }, (_, i) => allocResident(4096 + 97 * i)!)];
    const spans = live.map((v) => [v.byteOffset, v.byteOffset + v.byteLength]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    for (const v of live.slice(1)) v.fill(-1);
    expect(held.every((v) => v === 7)).toBe(true);
    for (const v of live.slice(1)) releaseBuffer(v);
  });

  it('keeps every view attached and at its length (the memory never grows)', () => {
    const v = allocResident(8192)!;
    const before = heapMemory()!.memory.buffer;
    for (let i = 0; i < 20; i++) allocResident(1 << 18);
    expect(heapMemory()!.memory.buffer).toBe(before);
    expect(v.length).toBe(8192);
    v[8191] = 3;
    expect(v[8191]).toBe(3);
  });

  it('allocUninit falls back to JavaScript arrays when the heap is full, and results stay the same', () => {
    const out = runIsolated(
      `import { matmul } from './dist/src/ops/matmul.js';
       import { randn } from './dist/src/tensor/create.js';
       import { heapStats, isResident } from './dist/src/tensor/heap.js';
       import { Rng } from './dist/src/tensor/rng.js';
       const rng = new Rng(3);
       const big = randn([2048, 2048], { rng }); // 16 MiB: does not fit a 16 MiB heap with anything else in it
       const a = randn([64, 300], { rng }), b = randn([300, 80], { rng });
       const c = matmul(a, b);
       console.log(JSON.stringify({ big: isResident(big.data), c: Array.from(c.data.subarray(0, 4)), overflows: heapStats().overflows }));`,
      { BNLAB_HEAP_MB: '16' },
    );
    const r = JSON.parse(out) as { big: boolean; c: number[]; overflows: number };
    expect(r.big).toBe(false);
    expect(r.overflows).toBeGreaterThan(0);
    expect(r.c.every(Number.isFinite)).toBe(true);
  });

  it('a synchronous loop dropping its outputs takes at most 64 MiB of fresh pages, then JavaScript arrays', () => {
    const out = runIsolated(
      `import { zeros } from './dist/src/tensor/create.js';
       import { heapStats, isResident } from './dist/src/tensor/heap.js';
       let last;
       for (let i = 0; i < 12; i++) last = zeros([2 ** 22]); // 16 MiB each, dropped at once; no event-loop turn
       const s = heapStats();
       console.log(JSON.stringify({ top: s.topBytes, overflows: s.overflows, resident: isResident(last.data), zero: last.data[12345] }));`,
      {},
    );
    const r = JSON.parse(out) as { top: number; overflows: number; resident: boolean; zero: number };
    // 12 x 16 MiB would fill 192 MiB of fresh pages; the budget stops it at 64 MiB (plus kernels' static scratch).
    expect(r.top).toBeLessThan(72 * 2 ** 20);
    expect(r.overflows).toBeGreaterThanOrEqual(8);
    expect(r.resident).toBe(false);
    expect(r.zero).toBe(0);
  });

  it('keeps a quarter of the heap for kernel temporaries, which tensors cannot take', () => {
    const out = runIsolated(
      `import { allocResident, freeResident, heapStats } from './dist/src/tensor/heap.js';
       const kept = [];
       for (let v; (v = allocResident(100000)) !== null; ) kept.push(v);
       const tensorTop = heapStats().topBytes;
       const temps = [allocResident(100000, true), allocResident(100000, true)];
       const high = temps[1].byteOffset;
       freeResident(temps[1]);
       const again = allocResident(100000); // a tensor: must not take a block in the kept quarter
       console.log(JSON.stringify({ tensorTop, limit: heapStats().limitBytes, temp: high,
         again: again === null || again.byteOffset < 0.75 * heapStats().limitBytes }));`,
      { BNLAB_HEAP_MB: '16' },
    );
    const r = JSON.parse(out) as { tensorTop: number; limit: number; temp: number; again: boolean };
    expect(r.tensorTop).toBeLessThanOrEqual(0.75 * r.limit);
    expect(r.temp).toBeGreaterThan(r.tensorTop);
    expect(r.again).toBe(true);
  });

  it('an impossible tensor gives an error with its size and the limit, not a crash', () => {
    expect(() => allocUninit(2 ** 33)).toThrow(/8589934592 floats \(32768 MiB\).*of 256 MiB in use; BNLAB_HEAP_MB sets the limit/);
  });

  it('a bad BNLAB_HEAP_MB is named', () => {
    expect(() => runIsolated(`import { zeros } from './dist/src/tensor/create.js'; zeros([8192]);`, { BNLAB_HEAP_MB: 'lots' }, [])).toThrow(
      /BNLAB_HEAP_MB must be an integer from 16 to 4096/,
    );
  });

  it('returns the block of a view the garbage collector has collected', () => {
    const out = runIsolated(
      `import { allocResident, heapStats } from './dist/src/tensor/heap.js';
       for (let i = 0; i < 100; i++) allocResident(10000);
       const before = heapStats().liveBlocks;
       globalThis.gc();
       await new Promise((r) => setTimeout(r, 50));
       globalThis.gc();
       await new Promise((r) => setTimeout(r, 50));
       console.log(JSON.stringify({ before, after: heapStats().liveBlocks }));`,
      {},
      ['--expose-gc'],
    );
    const r = JSON.parse(out) as { before: number; after: number };
    expect(r.before).toBeGreaterThanOrEqual(100);
    expect(r.after).toBeLessThan(10);
  });

  it('reports what it holds', () => {
    const s = heapStats();
    expect(s.available).toBe(true);
    expect(s.limitBytes).toBe(256 * 2 ** 20);
    expect(s.liveBytes).toBeGreaterThan(0);
  });
});
