// Parses a results.json given to the page: JSON, then the report's own structural check, with messages a person can act on.
import type { Results } from '../../../src/lab/results.js';
import { checkResults } from '../../../src/report/check.js';
import { ReportError } from '../../../src/report/errors.js';
import { ResultsFileError } from './errors.js';

/** A results file that parsed and passed the structural check. */
export interface ParsedResults {
  file: string;
  results: Results;
  /** The config exactly as written (checkResults keeps it, but the compatibility check wants the raw object). */
  rawConfig: unknown;
}

/** Files larger than this are refused before parsing: a full study's results.json is a few MB. */
export const MAX_BYTES = 200 * 1024 * 1024;

/**
 * Parses and checks the text of a results.json. Throws ResultsFileError naming what is wrong: empty,
 * truncated or otherwise invalid JSON, another bnlab file (a study's study.json, a run's config.json),
 * or JSON missing the fields of a results file.
 */
export function parseResults(text: string, file: string): ParsedResults {
  if (text.trim() === '') throw new ResultsFileError(file, 'the file is empty');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ResultsFileError(file, jsonProblem(text, (err as Error).message));
  }
  otherBnlabFile(raw, file);
  let results: Results;
  try {
    results = checkResults(raw, file);
  } catch (err) {
    // ReportError's message starts with the file name; the problem is the rest.
    if (err instanceof ReportError) throw new ResultsFileError(file, err.message.slice(file.length + 2));
    throw err;
  }
  const meta = (raw as { meta?: { version?: unknown } }).meta;
  if (typeof meta?.version !== 'string') {
    throw new ResultsFileError(file, 'not a bnlab results file: "meta.version" (the bnlab version that wrote it) is missing');
  }
  return { file, results, rawConfig: (raw as { config?: unknown }).config };
}

/** Says whether invalid JSON looks cut off (a copy or download that stopped early) or is simply not JSON. */
function jsonProblem(text: string, message: string): string {
  const t = text.trimEnd();
  const opened = t.startsWith('{') || t.startsWith('[');
  // Engines word the error differently and a cut can fall right after a complete value ("...1.5]"), so the
  // text decides: cut off means a string or a bracket is still open at the end.
  if (opened && leftOpen(t)) {
    return `the JSON is truncated: it stops after ${t.length} characters before the data is complete (${message}); was the run still writing ` +
      `it, or the copy cut short?`;
  }
  if (!opened) return `this is not JSON (it starts with "${t.slice(0, 24).replace(/\s+/g, ' ')}${t.length > 24 ? '…' : ''}")`;
  return `the JSON is invalid (${message})`;
}

/** The other JSON files bnlab writes, recognized so the message can point at the right one. */
function otherBnlabFile(raw: unknown, file: string): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return;
  const r = raw as Record<string, unknown>;
  if (Array.isArray(r.experiments) && !('trials' in r)) {
    const names = (r.experiments as unknown[]).filter((e) => typeof e === 'string').join(', ');
    throw new ResultsFileError(file, `this is a study's study.json (the list of its experiments: ${names}), not the results of one`,
      "one of the study's results.json files, in <study directory>/<experiment>/results.json (choose several at once to see them together)");
  }
  if (typeof r.experiment === 'string' && 'createdAt' in r && !('trials' in r)) {
    throw new ResultsFileError(file, `this is the config.json of a '${r.experiment}' run, not its results (results.json is written next to it ` +
      `when the run finishes)`);
  }
}

/** True when JSON text ends inside a string or with a bracket not yet closed (brackets inside strings do not count). */
function leftOpen(t: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return inString || depth > 0;
}
