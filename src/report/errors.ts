// ReportError: a run directory or results file that cannot be turned into a report, naming the file.
import { BnlabError } from '../tensor/errors.js';

/** A run directory is missing, or its results.json is absent, unreadable or not a bnlab results file. */
export class ReportError extends BnlabError {
  /** The file or directory the problem is about, for programs (the message starts with it for people). */
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.file = file;
  }
}
