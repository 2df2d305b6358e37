// `bnlab report <run-dir>...`: turns finished runs into report.html, one PNG per figure and summary.md.
import type { Command } from 'commander';
import { writeReport } from '../report/index.js';
import { ArgumentError } from '../tensor/errors.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { STUDY_FILE, studyRunDirs } from '../lab/runner/run.js';

/** Registers `bnlab report`. Errors in the input (missing dir, no results.json, bad JSON) are ReportErrors, printed by main. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .argument('<run-dir...>', 'run directories (written by bnlab run), or a study directory (bnlab study) standing for all its runs')
    .option('--out <dir>', 'where report.html, summary.md and figures/ go (default: <run-dir>/report, or <common parent>/report for several runs)')
    .option('--scale <n>', 'PNG pixels per SVG pixel (default 2)')
    .description('write report.html (self-contained, works offline), one PNG per figure, and summary.md for finished runs')
    .action(async (dirs: string[], f: { out?: string; scale?: string }) => {
      const scale = f.scale === undefined ? undefined : Number(f.scale);
      if (scale !== undefined && !(scale > 0 && scale <= 8)) throw new ArgumentError(`--scale expects a number in (0, 8], got '${f.scale}'`);
      const t0 = performance.now();
      // A study directory holds study.json and one run per experiment: expand it to those runs.
      const runs = dirs.flatMap((d) => (existsSync(join(d, STUDY_FILE)) && !existsSync(join(d, 'results.json')) ? studyRunDirs(d) : [d]));
      const files = await writeReport(runs, { outDir: f.out, scale });
      console.log(`report: ${files.html}`);
      console.log(`summary: ${files.summary}`);
      console.log(`figures: ${files.pngs.length} PNG${files.pngs.length === 1 ? '' : 's'} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    });
}
