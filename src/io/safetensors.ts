// safetensors as bytes (browser-safe, no file system): encode a state dict, decode and validate a file's bytes.
import { Tensor, numel } from '../tensor/tensor.js';
import { ArgumentError, fmtShape } from '../tensor/errors.js';
import { WeightsFileError } from './errors.js';

/** Every dtype the safetensors format defines; all of them are read (converted to float32). */
export const SAFETENSORS_DTYPES = [
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64',
] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

/** The reference implementation refuses larger headers (a guard against a hostile length field). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Tensors of a decoded file (float32, in header order), the dtype each had on disk, and `__metadata__` if present. */
export interface DecodedSafetensors {
  tensors: Record<string, Tensor>;
  dtypes: Record<string, SafetensorsDtype>;
  metadata: Record<string, string> | null;
}

interface Entry {
  key: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

type Fail = (problem: string) => never;
type Reader = (v: DataView, at: number) => number;

const scratch = new DataView(new ArrayBuffer(4));

/** IEEE half: sign, 5-bit exponent (bias 15), 10-bit mantissa; exponent 0 is subnormal, 31 is inf/NaN. */
function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** bfloat16 is the top half of a float32. */
function bf16(h: number): number {
  scratch.setUint32(0, h << 16);
  return scratch.getFloat32(0);
}

/** float8 e4m3fn (no infinities; S.1111.111 is NaN), exponent bias 7. */
function f8e4m3(b: number): number {
  const s = b & 0x80 ? -1 : 1;
  const e = (b >> 3) & 0xf;
  const m = b & 7;
  if (e === 15 && m === 7) return NaN;
  return e === 0 ? (s * m * 2 ** -6) / 8 : s * (1 + m / 8) * 2 ** (e - 7);
}

/** Bytes per element and how to read one (little-endian), per dtype; `satisfies` makes a missing dtype a compile error. */
const DTYPES = {
  BOOL: [1, (v, a) => (v.getUint8(a) ? 1 : 0)],
  U8: [1, (v, a) => v.getUint8(a)],
  I8: [1, (v, a) => v.getInt8(a)],
  F8_E5M2: [1, (v, a) => f16(v.getUint8(a) << 8)],
  F8_E4M3: [1, (v, a) => f8e4m3(v.getUint8(a))],
  I16: [2, (v, a) => v.getInt16(a, true)],
  U16: [2, (v, a) => v.getUint16(a, true)],
  F16: [2, (v, a) => f16(v.getUint16(a, true))],
  BF16: [2, (v, a) => bf16(v.getUint16(a, true))],
  I32: [4, (v, a) => v.getInt32(a, true)],
  U32: [4, (v, a) => v.getUint32(a, true)],
  F32: [4, (v, a) => v.getFloat32(a, true)],
  F64: [8, (v, a) => v.getFloat64(a, true)],
  I64: [8, (v, a) => Number(v.getBigInt64(a, true))],
  U64: [8, (v, a) => Number(v.getBigUint64(a, true))],
} satisfies Record<SafetensorsDtype, [number, Reader]>;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** True for PyTorch's BatchNorm step counter, which PyTorch keeps as an int64 scalar. */
function isCounter(key: string): boolean {
  return key === 'num_batches_tracked' || key.endsWith('.num_batches_tracked');
}

/**
 * A state dict as safetensors bytes: an 8-byte little-endian header length N, N bytes of JSON
 * `{key: {dtype, shape, data_offsets: [begin, end)}, __metadata__?}` padded with spaces so the data starts on an
 * 8-byte boundary, then the data. Keys are kept as given (PyTorch's, from Module.stateDict()); every tensor is F32
 * except `num_batches_tracked`, written as an I64 scalar (shape []) so that torch's load_state_dict(strict=True)
 * takes the file. The I64 values come first in the data so they stay 8-byte aligned.
 */
export function encodeSafetensors(stateDict: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  if (stateDict === null || typeof stateDict !== 'object') {
    throw new ArgumentError(`encodeSafetensors: expected an object of tensors, got ${String(stateDict)}`);
  }
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new ArgumentError(`encodeSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const keys = Object.keys(stateDict);
  for (const k of keys) {
    if (!(stateDict[k] instanceof Tensor)) throw new ArgumentError(`encodeSafetensors: '${k}' must be a Tensor`);
    if (k === '__metadata__') throw new ArgumentError("encodeSafetensors: '__metadata__' is reserved by the format and cannot name a tensor");
  }
  const counters = new Set(keys.filter((k) => isCounter(k) && stateDict[k].size === 1));
  const floats = keys.filter((k) => !counters.has(k));
  let offset = 0;
  const place: [string, number][] = [];
  for (const k of [...counters, ...floats]) {
    place.push([k, offset]);
    offset += counters.has(k) ? 8 : 4 * stateDict[k].size;
  }
  const at = new Map(place);
  for (const k of keys) {
    const t = stateDict[k];
    const counter = counters.has(k);
    const begin = at.get(k)!;
    header[k] = { dtype: counter ? 'I64' : 'F32', shape: counter ? [] : [...t.shape], data_offsets: [begin, begin + (counter ? 8 : 4 * t.size)] };
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  const base = 8 + n;
  for (const k of keys) {
    const data = stateDict[k].data;
    const start = base + at.get(k)!;
    if (counters.has(k)) {
      if (!Number.isFinite(data[0])) throw new ArgumentError(`encodeSafetensors: '${k}' is a step counter but holds ${data[0]}`);
      view.setBigInt64(start, BigInt(Math.round(data[0])), true);
    } else if (littleEndian) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), start);
    else for (let i = 0; i < data.length; i++) view.setFloat32(start + 4 * i, data[i], true);
  }
  return out;
}

/**
 * Reads safetensors bytes into float32 tensors (F16, BF16, F64, the integer types and float8 are converted).
 * Everything is checked before any tensor is made, so a bad file gives one WeightsFileError naming `name` and the
 * problem, never a partial result: header length past the end or over 100 MB, header not UTF-8 JSON or not an
 * object, duplicate keys, unknown dtype, bad shape or offsets, a byte count that does not match the shape, offsets
 * that overlap, leave holes or run past the end.
 */
export function decodeSafetensors(bytes: Uint8Array, name = '<bytes>'): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`decodeSafetensors: expected a Uint8Array, got ${String(bytes)}`);
  const fail: Fail = (problem) => {
    throw new WeightsFileError(name, problem);
  };
  const { header, dataStart } = readHeader(bytes, fail);
  const { entries, metadata } = parseEntries(header, fail);
  checkLayout(entries, bytes.length - dataStart, fail);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, Tensor> = {};
  const dtypes: Record<string, SafetensorsDtype> = {};
  for (const e of entries) {
    const [size, read] = DTYPES[e.dtype] as [number, Reader];
    const a = dataStart + e.begin;
    let data: Float32Array;
    if (e.dtype === 'F32' && littleEndian) {
      // A copy into a fresh (aligned) buffer; Node's Buffer.slice would return a view of a shared pool.
      const copy = new Uint8Array(e.end - e.begin);
      copy.set(bytes.subarray(a, dataStart + e.end));
      data = new Float32Array(copy.buffer);
    } else {
      data = new Float32Array((e.end - e.begin) / size);
      for (let i = 0; i < data.length; i++) data[i] = read(view, a + i * size);
    }
    tensors[e.key] = new Tensor(data, e.shape);
    dtypes[e.key] = e.dtype;
  }
  return { tensors, dtypes, metadata };
}

/** The header length field, the header parsed as a JSON object (no duplicate keys), and where the data begins. */
function readHeader(bytes: Uint8Array, fail: Fail): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) fail(`is ${bytes.length} bytes, too short for the 8-byte header length that starts a safetensors file`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} bytes is over the format's 100 MB limit (${MAX_HEADER_BYTES} bytes)`);
  if (n > BigInt(bytes.length - 8)) {
    fail(`header length ${n} bytes runs past the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8})`);
  }
  const end = 8 + Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, end));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail(`header is not a JSON object (got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header})`);
  }
  const dup = duplicateKey(text);
  if (dup !== null) fail(`header names '${dup}' twice (JSON.parse would keep only the last)`);
  return { header: header as Record<string, unknown>, dataStart: end };
}

/**
 * The first key that appears twice in one object of a valid JSON text, or null. JSON.parse silently keeps the
 * last duplicate, so a second tensor of the same name would vanish without this scan.
 */
export function duplicateKey(text: string): string | null {
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const top = stack[stack.length - 1];
      let j = i + 1;
      while (j < text.length && ' \t\n\r'.includes(text[j])) j++;
      if (top && text[j] === ':') {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.has(key)) return key;
        top.add(key);
      }
    }
  }
  return null;
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Each tensor entry checked field by field (dtype, shape, offsets, byte count), and the metadata map. */
function parseEntries(header: Record<string, unknown>, fail: Fail): { entries: Entry[]; metadata: Record<string, string> | null } {
  let metadata: Record<string, string> | null = null;
  const entries: Entry[] = [];
  for (const [key, v] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((s) => typeof s !== 'string')) {
        fail('__metadata__ must be an object of strings');
      }
      metadata = v as Record<string, string>;
      continue;
    }
    const what = `tensor '${key}'`;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${what}: entry is not an object {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: off } = v as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(SAFETENSORS_DTYPES as readonly string[]).includes(dtype)) {
      fail(`${what}: unknown dtype ${JSON.stringify(dtype) ?? 'undefined'} (expected one of ${SAFETENSORS_DTYPES.join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isIndex)) {
      fail(`${what}: shape ${JSON.stringify(shape) ?? 'undefined'} is not a list of non-negative integers`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isIndex) || off[0] > off[1]) {
      fail(`${what}: data_offsets ${JSON.stringify(off) ?? 'undefined'} is not [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = off as [number, number];
    const need = numel(shape as number[]) * DTYPES[dtype as SafetensorsDtype][0];
    if (need !== end - begin) {
      fail(`${what}: shape ${fmtShape(shape as number[])} of ${dtype} needs ${need} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ key, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  return { entries, metadata };
}

/** The data must be tiled exactly: in offset order each tensor starts where the previous ended, the last at the end. */
function checkLayout(entries: Entry[], dataLength: number, fail: Fail): void {
  for (const e of entries) {
    if (e.end > dataLength) fail(`tensor '${e.key}': data_offsets [${e.begin}, ${e.end}] run past the end of the data (${dataLength} bytes)`);
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev: Entry | null = null;
  for (const e of sorted) {
    if (e.begin > expected) fail(`data bytes [${expected}, ${e.begin}) belong to no tensor (a hole before '${e.key}')`);
    if (e.begin < expected) fail(`tensor '${e.key}': data_offsets [${e.begin}, ${e.end}] overlap '${prev!.key}' [${prev!.begin}, ${prev!.end}]`);
    expected = e.end;
    prev = e;
  }
  if (expected < dataLength) fail(`the last ${dataLength - expected} data bytes belong to no tensor (a hole at the end)`);
}
