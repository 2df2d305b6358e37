// The run journal: journal.jsonl, one finished trial per line, appended and fsync'd per trial, read back to resume.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import type { Trial } from '../results.js';
import { RunError } from './config.js';

/** File name of the journal inside a run directory. */
export const JOURNAL_FILE = 'journal.jsonl';

/** One journal line. `v` versions the format so a later bnlab can tell old journals apart. */
interface JournalLine {
  v: 1;
  trial: Trial;
}

/**
 * Reads a journal: the trials in the order they finished. A last line cut short by a kill (no
 * newline, or not JSON) is dropped and its length reported, so the caller can truncate it away;
 * a bad line in the middle means the file was edited or corrupted, and is an error.
 */
export function readJournal(path: string): { trials: Trial[]; validBytes: number } {
  if (!existsSync(path)) return { trials: [], validBytes: 0 };
  const buf = readFileSync(path);
  const text = buf.toString('utf8');
  const trials: Trial[] = [];
  let pos = 0;
  let validBytes = 0;
  let lineNo = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    lineNo++;
    if (nl < 0) break; // an unterminated last line: a write cut short
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (line.trim() === '') {
      validBytes = Buffer.byteLength(text.slice(0, pos));
      continue;
    }
    let parsed: JournalLine;
    try {
      parsed = JSON.parse(line) as JournalLine;
    } catch {
      if (pos >= text.length) break; // the last line, torn
      throw new RunError(`${path}: line ${lineNo} is not valid JSON; the journal is corrupted (remove that line to resume)`);
    }
    if (parsed.v !== 1 || typeof parsed.trial?.id !== 'string') {
      throw new RunError(`${path}: line ${lineNo} is not a bnlab journal entry (expected {"v":1,"trial":{...}})`);
    }
    trials.push(parsed.trial);
    validBytes = Buffer.byteLength(text.slice(0, pos));
  }
  return { trials, validBytes };
}

/** Appends trials to a journal, each line written in one call and fsync'd before `append` returns. */
export class Journal {
  private readonly fd: number;

  /** Opens (creating if needed) the journal at `path`, cutting off a torn last line first. */
  constructor(readonly path: string) {
    if (existsSync(path)) truncateSync(path, readJournal(path).validBytes);
    // Append mode: every write lands at the end of the file.
    this.fd = openSync(path, 'a');
  }

  /** Records a finished trial durably: after this returns a kill cannot lose it. */
  append(trial: Trial): void {
    const line: JournalLine = { v: 1, trial };
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
