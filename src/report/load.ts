// Reads a run directory's results.json and checks it enough that figure builders can trust its shape.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Results } from '../lab/results.js';
import { ReportError } from './errors.js';
import { checkResults } from './check.js';

export { checkResults };

/** One run, as the report sees it: where it lives and what it measured. */
export interface RunData {
  /** Absolute path of the run directory. */
  dir: string;
  results: Results;
}

/**
 * Loads `<dir>/results.json`. Throws ReportError naming the directory or file when the directory is
 * missing, the file is absent, the JSON is corrupt, or required fields are missing.
 */
export function loadRun(dir: string): RunData {
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new ReportError(dir, 'no such run directory');
  }
  if (!isDir) throw new ReportError(dir, 'not a directory (expected a run directory holding results.json)');
  const file = join(abs, 'results.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ReportError(file, 'missing: is this a finished bnlab run directory? (`bnlab run <experiment>` writes it at the end)');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ReportError(file, `corrupt JSON (${(err as Error).message})`);
  }
  return { dir: abs, results: checkResults(raw, file) };
}
