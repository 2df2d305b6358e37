// mnist-10k binary cache: written on first load, read back identical to decoding the JSON, rebuilt when corrupt.
import { describe, it, expect, vi } from 'vitest';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sameBytes as same, tempDir } from './helpers.js';

describe('mnist-10k cache', () => {
  it('writes the cache, reads it back bit-identical, survives a corrupt cache file', async () => {
    const dir = tempDir('bnlab-cache-');
    process.env.BNLAB_CACHE_DIR = dir;
    const { loadMnist10kRaw } = await import('../../src/data/mnist10k.js');
    const fresh = loadMnist10kRaw({ cache: false });
    expect(fresh.load.fromCache).toBe(false);
    expect(existsSync(join(dir, 'mnist-10k.bin'))).toBe(false);
    const first = loadMnist10kRaw({ cache: true });
    const file = join(dir, 'mnist-10k.bin');
    expect(first.load.cacheFile).toBe(file);
    expect(statSync(file).size).toBe(32 + 10000 + 2 * 10000 * 784);
    const bytes = readFileSync(file);
    // A new module instance has no in-process memo, so this reads the file.
    vi.resetModules();
    const { loadMnist10kRaw: again } = await import('../../src/data/mnist10k.js');
    const cached = again();
    expect(cached.load.fromCache).toBe(true);
    expect(same(cached.milli, fresh.milli)).toBe(true);
    expect(same(cached.labels, fresh.labels)).toBe(true);
    console.log(`mnist-10k: JSON decode ${fresh.load.ms.toFixed(0)} ms, from binary cache ${cached.load.ms.toFixed(0)} ms (${file})`);
    writeFileSync(file, bytes.subarray(0, 1000));
    vi.resetModules();
    const { loadMnist10kRaw: third } = await import('../../src/data/mnist10k.js');
    const rebuilt = third();
    expect(rebuilt.load.fromCache).toBe(false);
    expect(same(rebuilt.milli, fresh.milli)).toBe(true);
    expect(statSync(file).size).toBe(bytes.length);
    delete process.env.BNLAB_CACHE_DIR;
    rmSync(dir, { recursive: true, force: true });
  });
});
