// `bnlab datasets`: what data is available, where it was found, sizes, classes, and how to get what is missing.
import type { Command } from 'commander';
import { classCounts, isDatasetName, listDatasets, loadDataset, type DatasetInfo } from '../data/index.js';

function classList(classes: string[]): string {
  const s = classes.join(', ');
  return s.length > 90 ? `${s.slice(0, 87)}...` : s;
}

function describe(d: DatasetInfo): string[] {
  const status = d.available ? (d.kind === 'synthetic' ? 'generated' : 'available') : d.broken ? 'BROKEN' : 'MISSING';
  const sizes = d.nTrain === null ? '' : `  train ${d.nTrain}, test ${d.nTest}${d.kind === 'synthetic' ? ' (default)' : ''}`;
  const lines = [`${d.name.padEnd(14)} ${status.padEnd(9)}${sizes}  input [${d.inputShape.join(', ')}]  ${d.classes.length} classes`];
  lines.push(`${''.padEnd(15)}${d.description}`);
  lines.push(`${''.padEnd(15)}classes: ${classList(d.classes)}`);
  if (d.location && d.kind !== 'synthetic') lines.push(`${''.padEnd(15)}from ${d.location}`);
  if (d.note) lines.push(`${''.padEnd(15)}${d.available ? '' : d.broken ? 'problem: ' : 'to get it: '}${d.note}`);
  return lines;
}

/** Registers `bnlab datasets [--data DIR] [--verify] [--json]`. */
export function registerDatasets(program: Command): void {
  program
    .command('datasets')
    .description('list the datasets bnlab can load, where they were found, their sizes and classes')
    .option('--data <dir>', 'a directory with MNIST-format IDX files (or with mnist/ and fashion-mnist/ inside)')
    .option('--verify', 'load every available dataset in full and check it (slower: reads all files)')
    .option('--json', 'print the listing as JSON')
    .action((opts: { data?: string; verify?: boolean; json?: boolean }) => {
      const infos = listDatasets({ dataDir: opts.data });
      if (opts.json) {
        console.log(JSON.stringify(infos, null, 2));
      } else {
        for (const d of infos) console.log(describe(d).join('\n'));
      }
      if (!opts.verify) return;
      let failed = 0;
      console.log('\nverifying (full load):');
      for (const d of infos) {
        if (d.broken) {
          failed++;
          console.log(`  ${d.name.padEnd(14)} FAILED: ${d.note ?? 'unreadable'}`);
        }
        if (!d.available || !isDatasetName(d.name)) continue;
        const t0 = performance.now();
        try {
          const ds = loadDataset(d.name, { dataDir: opts.data });
          const ms = performance.now() - t0;
          const counts = classCounts(ds.train.y, ds.classes.length);
          console.log(`  ${d.name.padEnd(14)} ok  ${ds.train.n}/${ds.test.n} samples in ${ms.toFixed(0)} ms; train per class ${counts.join('/')}`);
        } catch (err) {
          failed++;
          console.log(`  ${d.name.padEnd(14)} FAILED: ${(err as Error).message}`);
        }
      }
      // Broken data found under --verify is a failure a script should see.
      if (failed > 0) process.exitCode = 2;
    });
}
