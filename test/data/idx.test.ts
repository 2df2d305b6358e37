// IDX reader: known values from files the test writes, one clear DataError per kind of bad input, fuzzing.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { parseIdx, parseIdxHeader, parseIdxImages, parseIdxLabels, encodeIdxUint8 } from '../../src/data/idx.js';
import { gunzipOrThrow, readIdxFile, readIdxFileHeader, readIdxPair, requireIdxFiles, findIdxFiles } from '../../src/data/idx-file.js';
import { pixel, tempDir, tinyIdx } from './helpers.js';

/** Expects fn to throw a DataError whose message names `file` and matches `what`. */
function expectDataError(fn: () => unknown, file: string, what: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a DataError').toBeInstanceOf(DataError);
  const msg = (err as DataError).message;
  expect(msg.startsWith(`${file}: `), msg).toBe(true);
  expect(msg).toMatch(what);
  expect(msg.split('\n')).toHaveLength(1);
}

describe('parseIdx: known values', () => {
  it('reads the first image and label of a small file written here, plain and gzip', () => {
    const dir = tempDir();
    const { images, labels } = tinyIdx(5);
    writeFileSync(join(dir, 'img'), images);
    writeFileSync(join(dir, 'img.gz'), gzipSync(images));
    writeFileSync(join(dir, 'lab.gz'), gzipSync(labels));
    for (const f of ['img', 'img.gz']) {
      const a = readIdxFile(join(dir, f));
      expect(a.type).toBe('uint8');
      expect(a.dims).toEqual([5, 4, 3]);
      expect(Array.from(a.data.subarray(0, 12))).toEqual(Array.from({ length: 12 }, (_, p) => pixel(0, p)));
      expect(a.data[12]).toBe(pixel(1, 0));
    }
    const pair = readIdxPair(join(dir, 'img.gz'), join(dir, 'lab.gz'));
    expect(pair.n).toBe(5);
    expect([pair.rows, pair.cols]).toEqual([4, 3]);
    expect(Array.from(pair.labels)).toEqual([0, 1, 2, 3, 4]);
    expect(readIdxFileHeader(join(dir, 'img.gz'))).toMatchObject({ type: 'uint8', dims: [5, 4, 3], dataOffset: 16 });
  });

  it('hand-written bytes: header 00 00 08 03, big-endian dims', () => {
    const b = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 10, 20, 30, 40]);
    const im = parseIdxImages(b, 'hand');
    expect(im).toMatchObject({ n: 1, rows: 2, cols: 2 });
    expect(Array.from(im.pixels)).toEqual([10, 20, 30, 40]);
  });

  it('decodes the wider types big-endian', () => {
    const mk = (type: number, bytes: number[]) => Uint8Array.from([0, 0, type, 1, 0, 0, 0, 2, ...bytes]);
    expect(Array.from(parseIdx(mk(0x0b, [0x01, 0x02, 0xff, 0xfe]), 'x').data)).toEqual([258, -2]);
    expect(Array.from(parseIdx(mk(0x0c, [0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff]), 'x').data)).toEqual([256, -1]);
    expect(Array.from(parseIdx(mk(0x0d, [0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0]), 'x').data)).toEqual([1, -2]);
    expect(Array.from(parseIdx(mk(0x09, [0x7f, 0x80]), 'x').data)).toEqual([127, -128]);
    const f64 = Uint8Array.from([0, 0, 0x0e, 1, 0, 0, 0, 1, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(parseIdx(f64, 'x').data)).toEqual([1.5]);
  });

  it('encodeIdxUint8 round-trips', () => {
    const d = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const a = parseIdx(encodeIdxUint8([2, 3], d), 'x');
    expect(a.dims).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('bad input: one clear error naming the file', () => {
  const dir = tempDir();
  const { images, labels } = tinyIdx(6);
  const w = (name: string, b: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, b);
    return p;
  };

  it('truncated file', () => {
    const f = w('trunc', images.subarray(0, images.length - 5));
    expectDataError(() => readIdxFile(f), f, /truncated: header says uint8\[6x4x3\] = 72 data bytes, the file holds 67/);
    const g = w('trunc-header', images.subarray(0, 9));
    expectDataError(() => readIdxFile(g), g, /truncated: the header declares 3 dimensions/);
    const h = w('tiny', images.subarray(0, 2));
    expectDataError(() => readIdxFile(h), h, /truncated: 2 bytes/);
  });

  it('wrong magic number', () => {
    const bad = images.slice();
    bad[0] = 0x42;
    const f = w('magic', bad);
    expectDataError(() => readIdxFile(f), f, /wrong magic number 42 00 08 03/);
    const t = images.slice();
    t[2] = 0x07;
    const g = w('type', t);
    expectDataError(() => readIdxFile(g), g, /type byte 0x07 is not an IDX type/);
    expectDataError(() => parseIdxHeader(gzipSync(images), 'z'), 'z', /gzip-compressed/);
  });

  it('dimensions that disagree with the file size', () => {
    const f = w('extra', Uint8Array.from([...images, 1, 2, 3]));
    expectDataError(() => readIdxFile(f), f, /dimensions disagree with the file size: .* holds 75/);
  });

  it('an images file that is not images, a labels file that is not labels', () => {
    expectDataError(() => parseIdxImages(labels, 'L'), 'L', /not an image file/);
    expectDataError(() => parseIdxLabels(images, 'I'), 'I', /not a label file/);
  });

  it('label count different from the image count', () => {
    const fi = w('six-images', images);
    const fl = w('five-labels', tinyIdx(5).labels);
    expectDataError(() => readIdxPair(fi, fl), fl, /holds 5 labels but .*six-images holds 6 images/);
  });

  it('labels outside 0..9', () => {
    const f = w('label-12', encodeIdxUint8([4], Uint8Array.from([0, 3, 12, 1])));
    expectDataError(() => readIdxPair(w('four', tinyIdx(4).images), f), f, /label 12 at index 2 is outside 0\.\.9/);
  });

  it('corrupt and truncated .gz', () => {
    const gz = gzipSync(images);
    const c = gz.slice();
    for (let i = 12; i < c.length - 8; i++) c[i] ^= 0x5a;
    const f = w('corrupt.gz', c);
    expectDataError(() => readIdxFile(f), f, /corrupt gzip data/);
    const big = gzipSync(tinyIdx(300).images);
    const g = w('cut.gz', big.subarray(0, big.length - 30));
    expectDataError(() => readIdxFile(g), g, /truncated gzip data: the stream ends early/);
    const crc = gz.slice();
    crc[crc.length - 6] ^= 1;
    const h = w('crc.gz', crc);
    expectDataError(() => readIdxFile(h), h, /corrupt gzip data/);
  });

  it('missing file, missing directory, directory with files missing', () => {
    const f = join(dir, 'nope.gz');
    expectDataError(() => readIdxFile(f), f, /no such file/);
    expectDataError(() => readIdxFile(dir), dir, /is a directory/);
    const d = join(dir, 'no-such-dir');
    expectDataError(() => requireIdxFiles(d, 'get it somewhere'), d, /directory does not exist; get it somewhere/);
    const half = join(dir, 'half');
    mkdirSync(half);
    writeFileSync(join(half, 'train-images-idx3-ubyte.gz'), gzipSync(images));
    writeFileSync(join(half, 't10k-images.idx3-ubyte'), images);
    expectDataError(() => requireIdxFiles(half), half, /missing train-labels-idx1-ubyte\[\.gz\], t10k-labels-idx1-ubyte\[\.gz\]$/);
    expect(findIdxFiles(half).missing).toHaveLength(2);
  });
});

describe('fuzzing: only DataError, never a crash', () => {
  const valid = tinyIdx(3);
  const onlyDataError = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
    }
  };

  it('random bytes into every parser', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, idxPrefix) => {
        // Half the cases get a plausible magic so the fuzzer reaches past the first check.
        const b = idxPrefix && bytes.length >= 4 ? Uint8Array.from([0, 0, 8, (bytes[3] % 4) + 1, ...bytes.subarray(4)]) : bytes;
        onlyDataError(() => parseIdxHeader(b, 'f'));
        onlyDataError(() => parseIdx(b, 'f'));
        onlyDataError(() => parseIdxImages(b, 'f'));
        onlyDataError(() => parseIdxLabels(b, 'f'));
        onlyDataError(() => parseIdx(gunzipOrThrow(Uint8Array.from([0x1f, 0x8b, ...b]), 'f.gz'), 'f.gz'));
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid files: flipped bytes, truncation, appended bytes, also through gzip', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(valid.images, valid.labels),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 8 }),
        fc.boolean(),
        (src, flips, cut, extra, viaGzip) => {
          let b: Uint8Array = src.slice();
          if (viaGzip) b = gzipSync(b);
          for (const [pos, x] of flips) b[pos % b.length] ^= x;
          b = Uint8Array.from([...b.subarray(0, b.length - (cut % 3 === 0 ? cut % b.length : 0)), ...extra]);
          onlyDataError(() => {
            const plain = b[0] === 0x1f && b[1] === 0x8b ? gunzipOrThrow(b, 'm') : b;
            if (src === valid.images) parseIdxImages(plain, 'm');
            else parseIdxLabels(plain, 'm');
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
