// IDX format (the MNIST file format) parsed from bytes: pure, no Node APIs, so it runs in a browser too.
import { DataError } from './errors.js';

/** Element types an IDX file can declare (third magic byte). */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** A parsed IDX array: its element type, dimensions and row-major data. */
export interface IdxArray {
  type: IdxType;
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'uint8', bytes: 1 },
  0x09: { type: 'int8', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};

/** Header of an IDX file: type, dims and where the data starts. Reads only the first 4 + 4*ndims bytes. */
export interface IdxHeader {
  type: IdxType;
  dims: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
  /** Bytes of data the dims call for. */
  dataBytes: number;
}

/**
 * Parses an IDX header (magic 0x00 0x00 <type> <ndims>, then ndims big-endian uint32 sizes).
 * `name` is used in error messages (normally the file path). Throws DataError on a bad magic or a
 * header cut short; does not look at the data, so it also works on the first bytes of a large file.
 */
export function parseIdxHeader(bytes: Uint8Array, name: string): IdxHeader {
  if (bytes.length < 4) throw new DataError(name, `truncated: ${bytes.length} bytes, too short for the 4-byte IDX magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
    const notGz = name.endsWith('.gz') ? ' (and despite its name it is not gzip data either)' : '';
    const hint = gz ? ' (it is gzip-compressed: decompress it first)' : notGz;
    throw new DataError(name, `wrong magic number ${hex(bytes, 4)}: an IDX file starts with 00 00${hint}`);
  }
  const t = TYPES[bytes[2]];
  if (t === undefined) {
    throw new DataError(name, `wrong magic number ${hex(bytes, 4)}: type byte 0x${bytes[2].toString(16).padStart(2, '0')} is not an IDX type ` +
      `(08 uint8, 09 int8, 0b int16, 0c int32, 0d float32, 0e double)`);
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new DataError(name, `wrong magic number ${hex(bytes, 4)}: zero dimensions`);
  const dataOffset = 4 + 4 * ndims;
  if (bytes.length < dataOffset) {
    throw new DataError(name, `truncated: the header declares ${ndims} dimensions (${dataOffset} header bytes) but the file has only ` +
      `${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  // Float64 holds products up to 2^53 exactly: far past any file we could hold in memory.
  const dataBytes = dims.reduce((a, b) => a * b, 1) * t.bytes;
  return { type: t.type, dims, dataOffset, dataBytes };
}

/**
 * Parses a whole IDX file from its (already decompressed) bytes. The file size must match the
 * dimensions exactly: too few bytes is a truncated file, too many means the header is wrong.
 * uint8 data is returned as a view on `bytes` (no copy); other types are converted from big-endian.
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  const h = parseIdxHeader(bytes, name);
  const have = bytes.length - h.dataOffset;
  if (have !== h.dataBytes) {
    const what = have < h.dataBytes ? 'truncated' : 'dimensions disagree with the file size';
    throw new DataError(name, `${what}: header says ${h.type}[${h.dims.join('x')}] = ${h.dataBytes} data bytes, the file holds ${have} after ` +
      `the ${h.dataOffset}-byte header`);
  }
  const n = h.dims.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset + h.dataOffset, have);
  let data: IdxArray['data'];
  switch (h.type) {
    case 'uint8':
      data = bytes.subarray(h.dataOffset);
      break;
    case 'int8':
      data = new Int8Array(bytes.buffer, bytes.byteOffset + h.dataOffset, n);
      break;
    case 'int16':
      data = new Int16Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getInt16(2 * i, false);
      break;
    case 'int32':
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getInt32(4 * i, false);
      break;
    case 'float32':
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, false);
      break;
    case 'float64':
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat64(8 * i, false);
      break;
    default: {
      const never: never = h.type;
      throw new Error(`unreachable IDX type ${String(never)}`);
    }
  }
  return { type: h.type, dims: h.dims, data };
}

/** Images from an IDX3 uint8 file: count, rows, cols and the pixels (a view, values 0..255). */
export interface IdxImages {
  n: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
}

/** Parses an images file (idx3, uint8, N x rows x cols), as in train-images-idx3-ubyte. */
export function parseIdxImages(bytes: Uint8Array, name: string): IdxImages {
  const a = parseIdx(bytes, name);
  if (a.type !== 'uint8' || a.dims.length !== 3) {
    throw new DataError(name, `not an image file: expected uint8 with 3 dimensions (magic 00 00 08 03), got ${a.type} with ${a.dims.length} ` +
      `(magic ${hex(bytes, 4)})`);
  }
  const [n, rows, cols] = a.dims;
  if (rows === 0 || cols === 0) throw new DataError(name, `images of size ${rows}x${cols} hold no pixels`);
  return { n, rows, cols, pixels: a.data as Uint8Array };
}

/**
 * Parses a labels file (idx1, uint8), as in train-labels-idx1-ubyte, and checks every label is in
 * 0..numClasses-1, naming the first offender: a label of 10 would otherwise index past the logits.
 */
export function parseIdxLabels(bytes: Uint8Array, name: string, numClasses = 10): Uint8Array {
  const a = parseIdx(bytes, name);
  if (a.type !== 'uint8' || a.dims.length !== 1) {
    throw new DataError(name, `not a label file: expected uint8 with 1 dimension (magic 00 00 08 01), got ${a.type} with ${a.dims.length} ` +
      `(magic ${hex(bytes, 4)})`);
  }
  const labels = a.data as Uint8Array;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) throw new DataError(name, `label ${labels[i]} at index ${i} is outside 0..${numClasses - 1}`);
  }
  return labels;
}

/** Encodes a uint8 array as IDX bytes (for tests, fixtures and exporting); inverse of parseIdx. */
export function encodeIdxUint8(dims: readonly number[], data: Uint8Array): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new RangeError(`encodeIdxUint8: ${data.length} values for dims [${dims.join(', ')}] (needs ${n})`);
  const out = new Uint8Array(4 + 4 * dims.length + n);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function hex(bytes: Uint8Array, k: number): string {
  return Array.from(bytes.subarray(0, k), (b) => b.toString(16).padStart(2, '0')).join(' ');
}
