// Errors of the io layer: a weights file that cannot be read, and a model that cannot be exported.
import { BnlabError } from '../tensor/errors.js';

/**
 * A safetensors (or ONNX) file is truncated, corrupt or inconsistent. The message starts with the file it is
 * about (or '<bytes>' for an in-memory buffer), so one line says what to fix; `file` and `problem` hold the parts.
 */
export class WeightsFileError extends BnlabError {
  readonly file: string;
  readonly problem: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.file = file;
    this.problem = problem;
  }
}

/** A model holds a module the ONNX exporter has no rule for (or a configuration it cannot express); names the module. */
export class ExportError extends BnlabError {}
