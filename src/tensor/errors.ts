// Error classes: every failure a user can cause names the thing and what was expected.

/** Base class of all bnlab errors, so callers can tell ours from bugs. */
export class BnlabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An op or module got a tensor of the wrong shape. */
export class ShapeError extends BnlabError {}

/** A function got an argument of the wrong type or out of range. */
export class ArgumentError extends BnlabError {}

/** A loss or gradient became NaN or Inf. */
export class NonFiniteError extends BnlabError {}

/** Formats a shape the way PyTorch prints it in messages: [2, 3]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws ArgumentError unless `cond`; keeps argument checks to one line at call sites. */
export function check(cond: boolean, message: string | (() => string)): asserts cond {
  if (!cond) throw new ArgumentError(typeof message === 'string' ? message : message());
}
