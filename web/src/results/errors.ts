// ResultsFileError: a file given to the page's results panel that it cannot show, saying what was wrong and what was expected.
import { BnlabError } from '../../../src/tensor/errors.js';

/** What the panel expects, quoted at the end of every message so the reader knows what to choose instead. */
export const EXPECTED_FILE = 'the results.json that `bnlab run <experiment>` (or each experiment of `bnlab study`) writes into its run directory';

/** A chosen or dropped file is not a results.json this page can show. */
export class ResultsFileError extends BnlabError {
  /** The file's name as the browser gave it. */
  readonly file: string;
  /** What was wrong, without the file name (for the page, which shows the name apart). */
  readonly problem: string;
  constructor(file: string, problem: string, expected: string = EXPECTED_FILE) {
    // A problem that ends in a question keeps its question mark.
    const full = `${problem}${/[.?!]$/.test(problem) ? '' : '.'} Expected ${expected}.`;
    super(`${file}: ${full}`);
    this.file = file;
    this.problem = full;
  }
}
