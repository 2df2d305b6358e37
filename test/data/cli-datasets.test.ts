// `bnlab datasets` end to end through commander: listing, --data, --verify, --json.
import { describe, it, expect, vi } from 'vitest';
import { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { registerDatasets } from '../../src/cli/datasets.js';
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
    for (const name of ['mnist-10k', 'fashion-mnist', 'mnist', 'moons', 'spirals', 'blobs', 'xor', 'scales']) expect(out).toMatch(new RegExp(`^${name} `, 'm'));
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

  it('--json prints the listing as JSON', async () => {
    const out = await run(['--json', '--data', tempDir()]);
    const list = JSON.parse(out) as { name: string }[];
    expect(list.map((d) => d.name)[0]).toBe('mnist-10k');
  });
});
