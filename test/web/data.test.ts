// The browser lab's data: deterministic 2-D sets with balanced classes, the digits asset's format and its errors.
import { describe, expect, it } from 'vitest';
import { makeData, digitsData } from '../../web/src/data/index.js';
import { decodeDigits, encodeDigits } from '../../web/src/data/digits-format.js';
import { PLANAR_NAMES, makePlanar } from '../../web/src/data/planar.js';
import { DEFAULTS } from '../../web/src/settings.js';

describe('web data', () => {
  it('makes each 2-D set deterministically, balanced, inside its plot range', async () => {
    for (const name of PLANAR_NAMES) {
      const a = makePlanar(name, 100, 0.1, 3);
      expect(makePlanar(name, 100, 0.1, 3), name).toEqual(a);
      expect(makePlanar(name, 100, 0.1, 4).x, name).not.toEqual(a.x);
      expect(a.y.reduce((s, v) => s + v, 0), name).toBe(50);
      const d = await makeData({ ...DEFAULTS, dataset: name, trainShare: 0.6 }, () => Promise.reject(new Error('unused')));
      expect(d.train.n + d.test.n).toBe(500);
      expect(d.train.n).toBe(300);
      const r = d.range!;
      for (let i = 0; i < 500;
        i++) expect(d.points!.x[i] >= r.x0 && d.points!.x[i] <= r.x1 && d.points!.y[i] >= r.y0 && d.points!.y[i] <= r.y1).toBe(true);
    }
  });

  it('puts the scales features on ranges 1 ... 10^4', async () => {
    const d = await makeData({ ...DEFAULTS, dataset: 'scales' }, () => Promise.reject(new Error('unused')));
    expect(d.inputs).toBe(10);
    const maxAbs = (j: number) => Math.max(...Array.from({ length: d.train.n }, (_, i) => Math.abs(d.train.x[i * 10 + j])));
    expect(maxAbs(4) / maxAbs(0)).toBeGreaterThan(1000);
  });

  it('round-trips the digits asset and rejects what is not one', () => {
    const n = 20;
    const pixels = Uint8Array.from({ length: n * 784 }, (_, i) => i % 256);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const bytes = encodeDigits({ n, pixels, labels });
    const back = decodeDigits(bytes.buffer as ArrayBuffer);
    expect(back).toEqual({ n, pixels, labels });
    const d = digitsData(back, { ...DEFAULTS, trainShare: 0.5 });
    expect([d.train.n, d.test.n, d.inputs, d.classes]).toEqual([10, 10, 784, 10]);
    expect(Math.max(...d.train.x)).toBeLessThanOrEqual(1);
    expect(() => decodeDigits(new TextEncoder().encode('<!doctype html>').buffer as ArrayBuffer)).toThrow(/not a bnlab digits file/);
    expect(() => decodeDigits(bytes.slice(0, 1000).buffer as ArrayBuffer)).toThrow(/truncated or corrupt/);
  });
});
