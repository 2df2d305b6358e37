// safetensors: round trips, the format's layout, dtype conversions, PyTorch-trained weights, and bad files (fuzzed).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors, duplicateKey, MAX_HEADER_BYTES } from '../../src/io/safetensors.js';
import { loadSafetensors, loadWeights, saveSafetensors } from '../../src/io/safetensors-file.js';
import { WeightsFileError } from '../../src/io/errors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { ArgumentError, ShapeError } from '../../src/tensor/errors.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { cnnNet, fig1Net, fixturePath, fromEnc, loadIoFixture, maxAbsDiff } from './helpers.js';

const io = loadIoFixture();

/** A file from a header (object or raw text), data bytes, and optionally a forged header length. */
function craft(header: object | string | Uint8Array, data: Uint8Array = new Uint8Array(0), length?: bigint): Uint8Array {
  const h = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function headerOf(bytes: Uint8Array): { n: number; text: string } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, text: new TextDecoder().decode(bytes.subarray(8, 8 + n)) };
}

describe('encode and decode', () => {
  it('round-trips a model state dict bit for bit, with num_batches_tracked as an I64 scalar', () => {
    const m = cnnNet(3);
    m.train();
    noGrad(() => m.forward(fromEnc(io.cnn.x)));
    const sd = m.stateDict();
    const bytes = encodeSafetensors(sd, { source: 'bnlab' });
    const { n, text } = headerOf(bytes);
    expect(n % 8).toBe(0);
    expect(text.endsWith(' ') || text.endsWith('}')).toBe(true);
    const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
    expect(header['1.num_batches_tracked']).toMatchObject({ dtype: 'I64', shape: [] });
    expect(header['1.num_batches_tracked'].data_offsets[0] % 8).toBe(0);
    expect(header['0.weight']).toMatchObject({ dtype: 'F32', shape: [4, 1, 3, 3] });
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ source: 'bnlab' });
    expect(Object.keys(back.tensors)).toEqual(Object.keys(sd));
    for (const [k, t] of Object.entries(sd)) {
      expect(back.tensors[k].shape, k).toEqual(t.shape);
      expect(Array.from(back.tensors[k].data), k).toEqual(Array.from(t.data));
    }
    expect(back.tensors['1.num_batches_tracked'].item()).toBe(1);
    expect(back.dtypes['1.running_var']).toBe('F32');
  });

  it('reads F16, BF16, F64 and the integer dtypes PyTorch wrote, converted to float32', () => {
    const { tensors, dtypes } = decodeSafetensors(readFileSync(fixturePath('io_dtypes.safetensors')));
    for (const [k, e] of Object.entries(io.dtypes)) {
      expect(dtypes[k], k).toBe(e.dtype);
      expect(tensors[k].shape, k).toEqual(e.shape);
      expect(Array.from(tensors[k].data), k).toEqual(Array.from(Float32Array.from(e.data)));
    }
  });

  it('refuses a non-tensor value and the reserved key __metadata__', () => {
    expect(() => encodeSafetensors({ a: [1, 2] as unknown as Tensor })).toThrow(ArgumentError);
    expect(() => encodeSafetensors({ __metadata__: new Tensor(new Float32Array(1), [1]) })).toThrow(/reserved/);
    expect(() => encodeSafetensors({}, { a: 1 as unknown as string })).toThrow(/metadata 'a'/);
  });
});

describe('PyTorch-trained weights (scripts/fixtures_io.py)', () => {
  const cases = [
    ['fig1', fig1Net, io.fig1],
    ['cnn', cnnNet, io.cnn],
  ] as const;
  for (const [name, make, c] of cases) {
    it(`${name}: the same eval and train-mode outputs as PyTorch (max abs diff <= 1e-5)`, () => {
      const m = make(7);
      const report = loadWeights(m, fixturePath(`io_${name}.safetensors`));
      expect(report).toEqual({ missing: [], unexpected: [] });
      const yEval = noGrad(() => m.eval().forward(fromEnc(c.x)));
      const dEval = maxAbsDiff(yEval.data, c.y_eval.data);
      const yTrain = noGrad(() => m.train().forward(fromEnc(c.x)));
      const dTrain = maxAbsDiff(yTrain.data, c.y_train.data);
      console.log(`${name}: bnlab vs PyTorch max abs diff, eval ${dEval.toExponential(2)}, train ${dTrain.toExponential(2)}`);
      expect(dEval).toBeLessThanOrEqual(1e-5);
      expect(dTrain).toBeLessThanOrEqual(1e-5);
    });
  }
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlab-st-'));

  it('saveSafetensors / loadSafetensors round-trip a module', () => {
    const m = fig1Net(2);
    const path = join(dir, 'fig1.safetensors');
    saveSafetensors(m, path, { arch: 'fig1' });
    const back = loadSafetensors(path);
    expect(back.metadata).toEqual({ arch: 'fig1' });
    const m2 = fig1Net(5);
    m2.loadStateDict(back.tensors);
    const x = fromEnc(io.fig1.x);
    expect(maxAbsDiff(noGrad(() => m2.eval().forward(x)).data, noGrad(() => m.eval().forward(x)).data)).toBe(0);
  });

  it('a missing file is a WeightsFileError naming it', () => {
    const path = join(dir, 'nope.safetensors');
    expect(() => loadSafetensors(path)).toThrow(WeightsFileError);
    expect(() => loadSafetensors(path)).toThrow(`${path}: cannot be read (ENOENT)`);
  });

  it('loading is all or nothing: a mis-shaped key names the key and changes nothing', () => {
    const sd = fig1Net(2).stateDict();
    sd['13.bias'] = new Tensor(new Float32Array(11), [11]);
    const path = join(dir, 'bad-shape.safetensors');
    writeFileSync(path, encodeSafetensors(sd));
    const m = fig1Net(3);
    const before = JSON.stringify(m.stateDict()['1.weight'].data.slice(0, 10));
    expect(() => loadWeights(m, path)).toThrow(ShapeError);
    expect(() => loadWeights(m, path)).toThrow("'13.bias' has shape [11], expected [10]");
    expect(JSON.stringify(m.stateDict()['1.weight'].data.slice(0, 10))).toBe(before);
  });

  it('missing and extra keys: named with strict (default), skipped and reported with strict: false', () => {
    const sd = cnnNet(2).stateDict();
    delete sd['5.running_var'];
    sd['10.weight'] = new Tensor(new Float32Array(2), [2]);
    const path = join(dir, 'keys.safetensors');
    writeFileSync(path, encodeSafetensors(sd));
    expect(() => loadWeights(cnnNet(), path)).toThrow(/missing keys: 5\.running_var; unexpected keys: 10\.weight/);
    const m = cnnNet(4);
    expect(loadWeights(m, path, { strict: false })).toEqual({ missing: ['5.running_var'], unexpected: ['10.weight'] });
    expect(Array.from(m.stateDict()['5.running_mean'].data)).toEqual(Array.from(sd['5.running_mean'].data));
  });
});

describe('bad files: one WeightsFileError naming the file and the problem', () => {
  const f32 = (n: number) => new Uint8Array(4 * n);
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array(5), /is 5 bytes, too short/],
    ['header length past the end', craft('{}', new Uint8Array(0), 50n), /header length 50 bytes runs past the end of the file \(10 bytes/],
    ['header over 100 MB', craft('{}', new Uint8Array(0), BigInt(MAX_HEADER_BYTES + 1)), /over the format's 100 MB limit/],
    ['header length 2^64-1', craft('{}', new Uint8Array(0), 2n ** 64n - 1n), /over the format's 100 MB limit/],
    ['header not JSON', craft('{"a": '), /header is not JSON/],
    ['header not UTF-8', craft(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), /header is not valid UTF-8/],
    ['header an array', craft('[1, 2]'), /header is not a JSON object \(got an array\)/],
    ['header null', craft('null'), /not a JSON object \(got null\)/],
    ['unknown dtype', craft({ w: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, f32(1)), /tensor 'w': unknown dtype "F17"/],
    ['entry not an object', craft({ w: 3 }), /tensor 'w': entry is not an object/],
    ['bad shape', craft({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), /tensor 'w': shape \[-1\] is not a list/],
    ['bad offsets', craft({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32(1)), /tensor 'w': data_offsets \[4,0\] is not \[begin, end\]/],
    ['shape vs byte count', craft({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, f32(5)), /tensor 'w': shape \[2, 3\] of F32 needs 24 bytes, but data_offsets \[0, 20\] hold 20/],
    ['offsets past the end', craft({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1)), /tensor 'w': data_offsets \[0, 8\] run past the end of the data \(4 bytes\)/],
    ['overlapping offsets', craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), /tensor 'b': data_offsets \[4, 8\] overlap 'a' \[0, 8\]/],
    ['a hole between tensors', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32(3)), /data bytes \[4, 8\) belong to no tensor \(a hole before 'b'\)/],
    ['a hole at the end', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)), /the last 4 data bytes belong to no tensor/],
    ['duplicate keys', craft('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32(1)), /header names 'a' twice/],
    ['metadata not strings', craft({ __metadata__: { a: 1 } }), /__metadata__ must be an object of strings/],
  ];
  for (const [what, bytes, re] of cases) {
    it(what, () => {
      let err: unknown = null;
      try {
        decodeSafetensors(bytes, 'bad.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WeightsFileError);
      expect((err as Error).message.startsWith('bad.safetensors: ')).toBe(true);
      expect((err as Error).message).toMatch(re);
    });
  }

  it('duplicateKey looks into nested objects and past escaped quotes, not into arrays or values', () => {
    expect(duplicateKey('{"a":{"x":1,"x":2}}')).toBe('x');
    expect(duplicateKey('{"a\\"b":1,"a\\"b":2}')).toBe('a"b');
    expect(duplicateKey('{"a":"a","b":["a","a"],"c":{"a":1}}')).toBeNull();
  });

  /** decode either succeeds with a consistent result or throws WeightsFileError; anything else fails the property. */
  function decodesOrRefuses(bytes: Uint8Array): void {
    try {
      const { tensors } = decodeSafetensors(bytes, 'fuzz.safetensors');
      for (const t of Object.values(tensors)) expect(t).toBeInstanceOf(Tensor);
    } catch (e) {
      if (!(e instanceof WeightsFileError) || !e.message.startsWith('fuzz.safetensors: ')) throw e;
    }
  }

  it('fuzz: arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => decodesOrRefuses(b)), { numRuns: 500 });
  });

  it('fuzz: a valid file with bytes overwritten, or truncated', () => {
    const good = encodeSafetensors(cnnNet(1).stateDict(), { a: 'b' });
    const edit = fc.record({ at: fc.nat({ max: good.length - 1 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      cut: fc.nat({ max: good.length }) });
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
      const b = good.slice();
      for (const e of edits) b.set(e.bytes.subarray(0, b.length - e.at), e.at);
      decodesOrRefuses(b);
      decodesOrRefuses(b.subarray(0, edits[0].cut));
    }), { numRuns: 400 });
  });

  it('fuzz: random headers (dtype, shape, offsets, extra keys) over random data', () => {
    const dtype = fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'U8', 'BOOL', 'F8_E4M3'), fc.string({ maxLength: 4 }), fc.integer());
    const dim = fc.oneof(fc.nat({ max: 4 }), fc.integer({ min: -2, max: 2 ** 40 }), fc.double());
    const entry = fc.oneof(
      fc.record({ dtype, shape: fc.array(dim, { maxLength: 3 }), data_offsets: fc.array(fc.oneof(fc.nat({ max: 40 }), fc.integer()),
        { maxLength: 3 }) }),
      fc.anything(),
    );
    const header = fc.dictionary(fc.oneof(fc.string({ maxLength: 3 }), fc.constant('__metadata__')), entry, { maxKeys: 4 });
    fc.assert(fc.property(header, fc.uint8Array({ maxLength: 48 }), fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), (h, data, len) => {
      decodesOrRefuses(craft(h, data, len ?? undefined));
    }), { numRuns: 1000 });
  });

  it('fuzz: a decoded file is exactly tiled by its tensors', () => {
    const sizes = fc.array(fc.tuple(fc.constantFrom('F32', 'F16', 'I64'), fc.nat({ max: 5 })), { minLength: 1, maxLength: 5 });
    fc.assert(fc.property(sizes, fc.nat({ max: 8 }), (ts, extra) => {
      const width = { F32: 4, F16: 2, I64: 8 } as const;
      let off = 0;
      const h: Record<string, object> = {};
      ts.forEach(([d, n], i) => {
        h[`t${i}`] = { dtype: d, shape: [n], data_offsets: [off, off + n * width[d]] };
        off += n * width[d];
      });
      const b = craft(h, new Uint8Array(off + extra));
      if (extra === 0) expect(Object.keys(decodeSafetensors(b).tensors)).toHaveLength(ts.length);
      else expect(() => decodeSafetensors(b)).toThrow(/belong to no tensor/);
    }), { numRuns: 200 });
  });
});
