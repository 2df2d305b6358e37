// DataError: a dataset file or directory that cannot be read, always naming the file and what is wrong.
import { BnlabError } from '../tensor/errors.js';

/**
 * A data source is missing, truncated, corrupt or inconsistent. The message starts with the file
 * (or directory) it is about, so one line tells the user what to fix; `file` holds it for programs.
 */
export class DataError extends BnlabError {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.file = file;
  }
}
