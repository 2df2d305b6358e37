// `bnlab datasets` end to end through commander: listing, --data, --verify, --json.
import { describe, it, expect, vi } from 'vitest';
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerDatasets } from '../../src/cli/datasets.js';
import { encodeIdxUint8 } from '../../src/data/idx.js';
import { tempDir, writeTinyDataset } from './helpers.js';

async function run(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerDatasets(program);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await program.parseAsync(['node', 'bnlab', 'datasets', ...args]);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

describe('bnlab datasets', () => {
  it('lists every dataset with sizes and classes, and how to get what is missing', async () => {
    const out = await run(['--data', join(tempDir(), 'none')]);
    for (const name of ['mnist-10k', 'fashion-mnist', 'mnist', 'moons', 'spirals', 'blobs', 'xor', 'scales']) expect(out).toMatch(new RegExp(
      `^${name} `, 'm'));
    expect(out).toMatch(/mnist-10k\s+available\s+train 8000, test 2000/);
    expect(out).toMatch(/fashion-mnist\s+MISSING/);
    expect(out).toMatch(/to get it: .*apt-get install dataset-fashion-mnist/);
    expect(out).toMatch(/classes: T-shirt\/top, Trouser/);
  });

  it('finds IDX files under --data and verifies them with --verify', async () => {
    const parent = tempDir();
    mkdirSync(join(parent, 'mnist'));
    writeTinyDataset(join(parent, 'mnist'), 30, 10);
    const out = await run(['--data', parent, '--verify']);
    expect(out).toMatch(/^mnist\s+available\s+train 30, test 10\s+input \[1, 4, 3\]/m);
    expect(out).toContain(`from ${join(parent, 'mnist')}`);
    expect(out).toMatch(/^ {2}mnist\s+ok {2}30\/10 samples/m);
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('shows a broken dataset as BROKEN with the file and problem; --verify fails with exit code 2', async () => {
    const dir = tempDir();
    writeTinyDataset(dir, 30, 10);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdxUint8([10], Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 10])));
    const listing = await run(['--data', dir]);
    expect(listing).toMatch(/^mnist\s+available/m); // the listing reads headers only
    const verified = await run(['--data', dir, '--verify']);
    expect(verified).toContain(`mnist          FAILED: ${join(dir, 't10k-labels-idx1-ubyte')}: label 10 at index 9 is outside 0..9`);
    expect(process.exitCode).toBe(2);
    process.exitCode = 0;
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), 'garbage');
    const broken = await run(['--data', dir]);
    expect(broken).toMatch(/^mnist\s+BROKEN/m);
    expect(broken).toContain(`problem: ${join(dir, 'train-images-idx3-ubyte.gz')}: wrong magic number 67 61 72 62: an IDX file starts with 00 ` +
      `00 (and despite its name it is not gzip data either)`);
  });

  it('--json prints the listing as JSON', async () => {
    const out = await run(['--json', '--data', tempDir()]);
    const list = JSON.parse(out) as { name: string }[];
    expect(list.map((d) => d.name)[0]).toBe('mnist-10k');
  });
});
