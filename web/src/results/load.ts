// From a File the reader chose or dropped to everything the results panel shows: parsed, checked, figures built.
import type { Results } from '../../../src/lab/results.js';
import type { ExperimentInfo } from '../../../src/report/model.js';
import { checkCompatible } from './compat.js';
import { ResultsFileError } from './errors.js';
import { MAX_BYTES, parseResults } from './parse.js';
import { runFigures, type RunFigures } from './figures.js';
import { PAGE_VERSION } from './version.js';

/** One run as the panel shows it. */
export interface LoadedRun extends RunFigures {
  file: string;
  results: Results;
  info: ExperimentInfo;
  notes: string[];
}

/** Checks text already read from a file; the async part is the lazy import of the experiment registry. */
export async function loadResultsText(text: string, file: string, pageVersion = PAGE_VERSION): Promise<LoadedRun> {
  const parsed = parseResults(text, file);
  const { info, notes } = await checkCompatible(parsed, pageVersion);
  return { file, results: parsed.results, info, notes, ...runFigures(parsed.results) };
}

/** Reads and checks one file. Throws ResultsFileError for anything the panel cannot show. */
export async function loadResultsFile(f: Blob & { name: string }): Promise<LoadedRun> {
  if (f.size > MAX_BYTES) {
    throw new ResultsFileError(f.name, `the file is ${(f.size / 2 ** 20).toFixed(0)} MB, larger than any results.json bnlab writes`);
  }
  if (f.size === 0) throw new ResultsFileError(f.name, 'the file is empty');
  return loadResultsText(await f.text(), f.name);
}
