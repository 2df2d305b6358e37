// Node edge of the IDX reader: reads plain or gzip files, finds the four MNIST-format files in a directory.
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { constants as zc, gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';
import { parseIdx, parseIdxHeader, parseIdxImages, parseIdxLabels, type IdxArray, type IdxHeader, type IdxImages } from './idx.js';

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function fsProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, expected a file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return `cannot read: ${(err as Error).message}`;
}

/** Decompresses gzip bytes, turning zlib's errors into a DataError naming the file. */
export function gunzipOrThrow(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return plain(gunzipSync(bytes));
  } catch (err) {
    const msg = (err as Error).message;
    if (msg === 'unexpected end of file') throw new DataError(file, 'truncated gzip data: the stream ends early (incomplete download?)');
    throw new DataError(file, `corrupt gzip data (${msg})`);
  }
}

/**
 * Reads a file's bytes, decompressing gzip (recognized by its magic 1f 8b, whatever the name says).
 * Throws DataError naming the file when it is missing, unreadable or a corrupt gzip stream.
 */
export function readMaybeGzip(file: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new DataError(file, fsProblem(err));
  }
  return plain(isGzip(raw) ? gunzipOrThrow(raw, file) : raw);
}

// A plain Uint8Array view of a Buffer: loops that see both Buffer and Uint8Array go polymorphic in V8,
// measured 3x slower converting Fashion-MNIST's 47M pixels.
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads and parses any IDX file (plain or .gz). */
export function readIdxFile(file: string): IdxArray {
  return parseIdx(readMaybeGzip(file), file);
}

/**
 * Reads only the header of an IDX file (plain or .gz) from its first 64 KiB: cheap enough for
 * `bnlab datasets` to show sizes without decompressing 26 MB. Does not check the data.
 */
export function readIdxFileHeader(file: string): IdxHeader {
  let head: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      head = Buffer.alloc(65536);
      head = head.subarray(0, readSync(fd, head, 0, head.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new DataError(file, fsProblem(err));
  }
  if (isGzip(head)) {
    try {
      // Z_SYNC_FLUSH returns what inflates from a prefix instead of failing on the missing end.
      head = gunzipSync(head, { finishFlush: zc.Z_SYNC_FLUSH });
    } catch (err) {
      throw new DataError(file, `corrupt gzip data (${(err as Error).message})`);
    }
  }
  return parseIdxHeader(head, file);
}

/** Paths of the four files of an MNIST-format dataset. */
export interface IdxFiles {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

const STEMS: Record<keyof IdxFiles, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** The standard file names (without .gz), in the order train images, train labels, test images, test labels. */
export const IDX_FILE_NAMES: readonly string[] = Object.values(STEMS);

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the four standard files in `dir`, plain or .gz, also under the dotted names some mirrors use
 * (train-images.idx3-ubyte). Returns the paths, or the names that are missing.
 */
export function findIdxFiles(dir: string): { files: IdxFiles; missing: [] } | { files: null; missing: string[] } {
  const found: Partial<IdxFiles> = {};
  const missing: string[] = [];
  for (const [key, stem] of Object.entries(STEMS) as [keyof IdxFiles, string][]) {
    const dotted = stem.replace(/-idx/, '.idx');
    const hit = [stem, `${stem}.gz`, dotted, `${dotted}.gz`].map((n) => join(dir, n)).find(isFile);
    if (hit === undefined) missing.push(`${stem}[.gz]`);
    else found[key] = hit;
  }
  return missing.length === 0 ? { files: found as IdxFiles, missing: [] } : { files: null, missing };
}

/**
 * Checks a directory holds the four files; throws DataError naming the directory and what is missing
 * (or that it does not exist), with `hint` appended (how to get the data).
 */
export function requireIdxFiles(dir: string, hint = ''): IdxFiles {
  if (!isDir(dir)) {
    throw new DataError(dir, `${isFile(dir) ? 'is a file, expected a directory' : 'directory does not exist'}${hint ? `; ${hint}` : ''}`);
  }
  const r = findIdxFiles(dir);
  if (r.files === null) throw new DataError(dir, `missing ${r.missing.join(', ')}${hint ? `; ${hint}` : ''}`);
  return r.files;
}

/** True when `dir` is a directory holding the four files. */
export function hasIdxFiles(dir: string): boolean {
  return isDir(dir) && findIdxFiles(dir).files !== null;
}

/** One decoded split of an MNIST-format dataset: uint8 pixels and labels. */
export interface IdxSplitRaw extends IdxImages {
  labels: Uint8Array;
}

// Decoded files by path, size and mtime: the lab loads the same dataset once per seed, and
// decompressing Fashion-MNIST's 26 MB costs ~0.5 s each time.
const memo = new Map<string, IdxSplitRaw>();

/**
 * Reads an images file and its labels file and checks they agree: the same count, labels in 0..numClasses-1.
 * Results are memoized per (path, size, mtime) for the life of the process; treat them as read-only.
 */
export function readIdxPair(imagesFile: string, labelsFile: string, numClasses = 10): IdxSplitRaw {
  const key = [imagesFile, labelsFile].map((f) => {
    try {
      const s = statSync(f);
      return `${f}:${s.size}:${s.mtimeMs}`;
    } catch {
      return f;
    }
  }).join('|');
  const hit = memo.get(key);
  if (hit) return hit;
  const images = parseIdxImages(readMaybeGzip(imagesFile), imagesFile);
  const labels = parseIdxLabels(readMaybeGzip(labelsFile), labelsFile, numClasses);
  if (labels.length !== images.n) {
    throw new DataError(labelsFile, `holds ${labels.length} labels but ${imagesFile} holds ${images.n} images`);
  }
  const out = { ...images, labels };
  memo.set(key, out);
  return out;
}

/** Forgets memoized files (tests that rewrite a file within one second of mtime resolution). */
export function clearIdxMemo(): void {
  memo.clear();
}
