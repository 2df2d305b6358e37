// Loader: every sample exactly once per epoch for any batch size, seeded reproducible order, buffer reuse.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Loader } from '../../src/data/loader.js';
import type { Split } from '../../src/data/dataset.js';
import { ArgumentError } from '../../src/tensor/errors.js';

/** A split whose sample i holds the values i*F + j and label i (so content identifies the sample). */
function numbered(n: number, f: number): Split {
  return { x: Float32Array.from({ length: n * f }, (_, k) => k), y: Int32Array.from({ length: n }, (_, i) => i), n };
}

function epochOrder(loader: Loader, epoch?: number): number[] {
  const seen: number[] = [];
  for (const b of epoch === undefined ? loader.batches() : loader.batches(epoch)) seen.push(...b.y);
  return seen;
}

describe('Loader', () => {
  it('visits every sample exactly once per epoch, contents matching labels, for any batch size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 70 }), fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 5 }), (n,
        bs, shuffle, seed, f) => {
        const split = numbered(n, f);
        const loader = new Loader(split, [f], { batchSize: bs, shuffle, seed });
        expect(loader.numBatches).toBe(Math.ceil(n / bs));
        for (let e = 0; e < 2; e++) {
          const seen: number[] = [];
          let batches = 0;
          for (const b of loader.batches()) {
            batches++;
            expect(b.n).toBe(Math.min(bs, n - (batches - 1) * bs));
            expect(b.x.length).toBe(b.n * f);
            expect(b.y.length).toBe(b.n);
            let wrong = 0; // counted by hand: an expect() per value makes the property 10x slower
            for (let k = 0; k < b.n; k++) {
              if (b.indices[k] !== b.y[k]) wrong++;
              for (let j = 0; j < f; j++) if (b.x[k * f + j] !== b.y[k] * f + j) wrong++;
            }
            expect(wrong).toBe(0);
            seen.push(...b.y);
          }
          expect(batches).toBe(loader.numBatches);
          expect([...seen].sort((a, c) => a - c)).toEqual(Array.from({ length: n }, (_, i) => i));
          if (!shuffle) expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('dropLast: only full batches, all distinct', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 50 }), fc.nat(), (n, bs, seed) => {
        fc.pre(bs <= n);
        const loader = new Loader(numbered(n, 1), [1], { batchSize: bs, seed, dropLast: true });
        const seen = epochOrder(loader);
        expect(loader.numBatches).toBe(Math.floor(n / bs));
        expect(seen.length).toBe(Math.floor(n / bs) * bs);
        expect(new Set(seen).size).toBe(seen.length);
      }),
      { numRuns: 200 },
    );
  });

  it('the same seed gives the same order; epochs differ; epoch e can be replayed alone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 300 }), fc.integer({ min: 1, max: 64 }), fc.nat(), (n, bs, seed) => {
        const a = new Loader(numbered(n, 2), [2], { batchSize: bs, seed });
        const b = new Loader(numbered(n, 2), [2], { batchSize: 7, seed });
        const a0 = epochOrder(a);
        const a1 = epochOrder(a);
        expect(epochOrder(b)).toEqual(a0); // order does not depend on batch size
        expect(a1).not.toEqual(a0);
        expect(epochOrder(new Loader(numbered(n, 2), [2], { batchSize: bs, seed }), 1)).toEqual(a1);
        expect(Array.from(a.epochOrder(0))).toEqual(a0);
      }),
      { numRuns: 100 },
    );
    const c = epochOrder(new Loader(numbered(100, 1), [1], { batchSize: 10, seed: 1 }));
    const d = epochOrder(new Loader(numbered(100, 1), [1], { batchSize: 10, seed: 2 }));
    expect(c).not.toEqual(d);
  });

  it('reuses one buffer for shuffled batches; unshuffled batches are views of the split', () => {
    const split = numbered(50, 4);
    const shuffled = new Loader(split, [4], { batchSize: 16 });
    const bufs = new Set<ArrayBuffer>();
    for (const b of shuffled.batches()) bufs.add(b.x.buffer as ArrayBuffer);
    expect(bufs.size).toBe(1);
    expect(bufs.has(split.x.buffer as ArrayBuffer)).toBe(false);
    const plain = new Loader(split, [4], { batchSize: 16, shuffle: false });
    for (const b of plain.batches()) expect(b.x.buffer).toBe(split.x.buffer);
  });

  it('gives a batch as a Tensor of shape [n, ...sampleShape]', () => {
    const split = numbered(10, 12);
    const loader = new Loader(split, [3, 2, 2], { batchSize: 4 });
    const shapes = [...loader].map((b) => loader.tensor(b).shape);
    expect(shapes).toEqual([[4, 3, 2, 2], [4, 3, 2, 2], [2, 3, 2, 2]]);
  });

  it('rejects bad arguments with ArgumentError', () => {
    const split = numbered(10, 2);
    expect(() => new Loader(split, [2], { batchSize: 0 })).toThrow(ArgumentError);
    expect(() => new Loader(split, [2], { batchSize: 2.5 })).toThrow(ArgumentError);
    expect(() => new Loader(split, [3], { batchSize: 2 })).toThrow(/split has 20 values/);
    expect(() => new Loader(split, [2], { batchSize: 11, dropLast: true })).toThrow(/leaves no batch/);
  });
});
