// More seeds for a run or study that has run: `--resume DIR --seeds N` keeps every finished trial and runs the new seeds.
import { join } from 'node:path';
import { ConfigError, RunError, validateConfig } from './config.js';
import { writeAtomic } from './output.js';
import { CONFIG_FILE, experimentByName, readRunConfig, readStudyFile, type RunConfigFile } from './run.js';

/** A run's config.json rewritten to more seeds, not yet written. */
interface Planned {
  path: string;
  file: RunConfigFile;
  from: number;
}

/**
 * Why this is sound: a trial is named by its arm, seed and parameters and never reads how many seeds the run has
 * (seeds are 0..seeds-1, each trial seeded by its own), so seeds 0..from-1 of the larger grid are the trials already
 * in the journal, and only seeds from..to-1 run. Refused for --seeds auto runs (they choose their own seeds) and for
 * fewer seeds than the run has (that would drop finished trials).
 */
function plan(dir: string, seeds: number, expected?: string): Planned {
  const path = join(dir, CONFIG_FILE);
  const file = readRunConfig(dir, expected);
  if (file.seedsAuto) {
    throw new ConfigError(`${dir} was started with --seeds auto (it adds seeds itself, up to --max-seeds ${file.seedsAuto.maxSeeds}); `
      + 'resume it without --seeds');
  }
  const exp = experimentByName(file.experiment);
  const from = file.config.seeds;
  if (seeds < from) {
    throw new ConfigError(`${dir} already has ${from} seeds per arm; --seeds with --resume only adds seeds (give ${from} or more, `
      + 'or start a new run for fewer)');
  }
  let config;
  try {
    config = validateConfig(exp, { ...file.config, seeds });
  } catch (e) {
    throw new ConfigError(`--seeds ${seeds}: ${(e as Error).message}`);
  }
  return { path, file: { ...file, config }, from };
}

function write(p: Planned, seeds: number, command: string): void {
  if (seeds === p.from) return;
  const added = [...(p.file.seedsAdded ?? []), { from: p.from, to: seeds, at: new Date().toISOString(), command }];
  // Written before any new trial runs: a kill during the new seeds resumes with the new count.
  writeAtomic(p.path, JSON.stringify({ ...p.file, seedsAdded: added }, null, 2) + '\n');
}

/**
 * Raises a run directory's seeds per arm to `seeds` (config.json only; `resumeRun` then runs what is missing).
 * `expected` is the experiment named on the command line, checked before anything is written.
 */
export function addSeeds(dir: string, seeds: number, command: string, expected?: string): void {
  write(plan(dir, seeds, expected), seeds, command);
}

/** Raises every run of a study to `seeds` per arm; all are checked before any config.json changes. */
export function addSeedsToStudy(dir: string, seeds: number, command: string): void {
  const file = readStudyFile(dir);
  if (file.seedsAuto) throw new RunError(`${dir} was started with --seeds auto (it adds seeds itself); resume it without --seeds`);
  const planned = file.experiments.map((name) => plan(join(dir, name), seeds));
  for (const p of planned) write(p, seeds, command);
}
