// Shared pieces of the queue suites: coordinator and worker processes, and reading a run's trials without wall-clock fields.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results, Trial } from '../../src/lab/results.js';
import { bnlab, type CliProcess } from '../helpers/cli-process.js';

/** `bnlab worker` on `url`; a short lock so that a killed worker's trial moves on within seconds. */
export function worker(url: string, name: string, lockMs = 1000): CliProcess {
  return bnlab(['worker', '--queue', url, '--name', name, '--lock-ms', String(lockMs), '--threads', '1']);
}

/** `bnlab <args> --queue url --progress plain --no-report`. */
export function coordinator(url: string, args: string[]): CliProcess {
  return bnlab([...args, '--queue', url, '--progress', 'plain', '--no-report']);
}

/** A run directory's results.json. */
export function results(dir: string): Results {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
}

/** Trials as compared between runs: everything but the wall-clock duration. */
export function comparable(trials: readonly Trial[]): Omit<Trial, 'durationMs'>[] {
  return trials.map(({ durationMs: _d, ...rest }) => rest);
}

/** Lines of a run's journal. */
export function journalIds(dir: string): string[] {
  const path = join(dir, 'journal.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { trial: Trial }).trial.id);
}

/** How many times each trial id was started in a worker's output (`start <exp>/<id>`). */
export function starts(output: string, experiment: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const [, id] of output.matchAll(new RegExp(`: start ${experiment}/(\\S+) \\(job`, 'g'))) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}
