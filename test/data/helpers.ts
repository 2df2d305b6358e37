// Test helpers for data: temporary directories with small IDX datasets written by the test itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdxUint8 } from '../../src/data/idx.js';

/** A fresh temporary directory. */
export function tempDir(prefix = 'bnlab-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Pixels of image i, pixel p of a tiny dataset: a recognizable pattern. */
export function pixel(i: number, p: number): number {
  return (i * 31 + p * 7) % 256;
}

/** Images (n x rows x cols) and labels (i % 10) as IDX bytes. */
export function tinyIdx(n: number, rows = 4, cols = 3): { images: Uint8Array; labels: Uint8Array } {
  const px = new Uint8Array(n * rows * cols);
  for (let i = 0; i < n; i++) for (let p = 0; p < rows * cols; p++) px[i * rows * cols + p] = pixel(i, p);
  const lb = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return { images: encodeIdxUint8([n, rows, cols], px), labels: encodeIdxUint8([n], lb) };
}

/** Writes the four standard files (train n=nTrain, test n=nTest) into dir; gzip the train files if asked. */
export function writeTinyDataset(dir: string, nTrain = 30, nTest = 10, gz = true): void {
  const tr = tinyIdx(nTrain);
  const te = tinyIdx(nTest);
  const put = (name: string, b: Uint8Array, z: boolean) => writeFileSync(join(dir, z ? `${name}.gz` : name), z ? gzipSync(b) : b);
  put('train-images-idx3-ubyte', tr.images, gz);
  put('train-labels-idx1-ubyte', tr.labels, gz);
  put('t10k-images-idx3-ubyte', te.images, false);
  put('t10k-labels-idx1-ubyte', te.labels, false);
}

/** Bytewise equality of two typed arrays: expect().toEqual walks millions of elements far too slowly. */
export function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}
