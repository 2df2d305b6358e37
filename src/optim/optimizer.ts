// Optimizer base: holds the parameters, per-parameter state, the learning rate, and zeroGrad().
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../tensor/errors.js';

/** Checks a hyperparameter is a finite number >= min (and <= max); names the optimizer and the option. */
export function hyper(opt: string, name: string, v: unknown, min: number, max = Infinity, maxOpen = false): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && v >= min && (maxOpen ? v < max : v <= max);
  if (!ok) {
    throw new ArgumentError(`${opt}: ${name} must be a number in [${min}, ${max}${maxOpen ? ')' : ']'}, got ` +
      `${typeof v === 'string' ? `the string '${v}'` : String(v)}`);
  }
  return v as number;
}

/** Base class: `step()` updates every parameter that has a gradient; `lr` may be changed by schedules. */
export abstract class Optimizer {
  readonly params: Tensor[];
  lr: number;
  /** Learning rate given at construction (schedules scale from it). */
  readonly initialLr: number;
  /** Number of step() calls so far. */
  stepCount = 0;

  constructor(name: string, params: Iterable<Tensor>, lr: number) {
    // A module passed instead of module.parameters() is the usual mistake: say so instead of 'not iterable'.
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
      const hint = params instanceof Object && 'parameters' in params ? ' (pass model.parameters())' : '';
      throw new ArgumentError(`${name}: params must be an iterable of Tensors${hint}, got ${params === null ? 'null' : typeof params}`);
    }
    this.params = [...params];
    if (this.params.length === 0) throw new ArgumentError(`${name}: got an empty parameter list`);
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ArgumentError(`${name}: params[${i}] must be a Tensor, got ${typeof p}`);
    });
    this.lr = hyper(name, 'lr', lr, 0);
    this.initialLr = lr;
  }

  /** Applies one update using the current gradients. */
  abstract step(): void;

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }
}
