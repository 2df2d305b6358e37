// Module: the base of layers — owns parameters, buffers, child modules and the train/eval mode (as torch.nn.Module).
import { Tensor, numel } from '../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';

/** A state dict entry as it may come from JSON: a Tensor, {shape, data}, a nested array, or a number. */
export type StateValue = Tensor | { shape: number[]; data: ArrayLike<number> } | number | number[] | number[][] | number[][][] | number[][][][];

/**
 * Base class of all layers. Subclasses register parameters and buffers under PyTorch's names
 * (weight, bias, running_mean, ...) so state dict keys match PyTorch (`0.weight`, `2.bias`).
 */
export abstract class Module {
  /** True in training mode (the default), false after eval(). */
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly bufs = new Map<string, Tensor | null>();
  private readonly mods = new Map<string, Module>();

  /** Computes the output for one input. */
  abstract forward(x: Tensor): Tensor;

  /** Registers a learnable tensor (requiresGrad is set) under a PyTorch name; null records an absent optional one. */
  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    if (t !== null) t.requiresGrad = true;
    this.params.set(name, t);
    return t;
  }

  /** Registers a non-learnable state tensor (running statistics) saved in the state dict. */
  protected registerBuffer(name: string, t: Tensor | null): Tensor | null {
    this.bufs.set(name, t);
    return t;
  }

  /** Registers a child module under a name (Sequential uses '0', '1', ...). */
  protected registerModule(name: string, m: Module): Module {
    if (!(m instanceof Module)) throw new ArgumentError(`${this.constructor.name}: child '${name}' must be a Module, got ${String(m)}`);
    this.mods.set(name, m);
    return m;
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    return [...this.mods.entries()];
  }

  /** Direct children. */
  children(): Module[] {
    return [...this.mods.values()];
  }

  /** This module and all descendants with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.mods) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** All learnable tensors of this module and its descendants, with dotted names. */
  namedParameters(): [string, Tensor][] {
    return this.namedEntries((m) => m.params);
  }

  /** All learnable tensors. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** All buffers with dotted names. */
  namedBuffers(): [string, Tensor][] {
    return this.namedEntries((m) => m.bufs);
  }

  /** The present (non-null) entries of one registry of every module, under dotted names. */
  private namedEntries(registry: (m: Module) => Map<string, Tensor | null>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of registry(m)) if (t !== null) out.push([prefix ? `${prefix}.${name}` : name, t]);
    }
    return out;
  }

  /** All buffers. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /** Sets training mode on this module and every descendant. Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (train(false)): BN uses running statistics, dropout is off. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Calls fn on every module (children first, like PyTorch's apply). */
  apply(fn: (m: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  /** Copies of all parameters and buffers under PyTorch's keys, parameters first within each module. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [prefix, m] of this.namedModules()) {
      const key = (n: string) => (prefix ? `${prefix}.${n}` : n);
      for (const [name, t] of m.params) if (t !== null) out[key(name)] = new Tensor(t.data.slice(), t.shape);
      for (const [name, t] of m.bufs) if (t !== null) out[key(name)] = new Tensor(t.data.slice(), t.shape);
    }
    return out;
  }

  /**
   * Copies values into the existing parameters and buffers (in place, so references stay valid).
   * With strict (default) missing and unexpected keys are errors naming them; with `{ strict: false }` they are
   * skipped and returned (as PyTorch's missing_keys / unexpected_keys). Shapes must always match.
   * Nothing is changed unless every entry checks out.
   */
  loadStateDict(sd: Record<string, StateValue>, opts: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    if (sd === null || typeof sd !== 'object') throw new ArgumentError(`loadStateDict: expected an object of tensors, got ${String(sd)}`);
    const strict = opts.strict ?? true;
    const own = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const missing = [...own.keys()].filter((k) => !(k in sd));
    const unexpected = Object.keys(sd).filter((k) => !own.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      const parts: string[] = [];
      if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
      if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
      throw new ArgumentError(`loadStateDict into ${this.constructor.name}: ${parts.join('; ')}`);
    }
    const staged: [Tensor, Float32Array][] = [];
    for (const [key, target] of own) {
      if (!(key in sd)) continue;
      const { data, shape } = toFlat(key, sd[key]);
      const scalarOk = target.size === 1 && data.length === 1;
      if (!scalarOk && (shape.length !== target.shape.length || shape.some((d, i) => d !== target.shape[i]))) {
        throw new ShapeError(`loadStateDict: '${key}' has shape ${fmtShape(shape)}, expected ${fmtShape(target.shape)}`);
      }
      staged.push([target, data]);
    }
    for (const [t, d] of staged) t.data.set(d);
    return { missing, unexpected };
  }
}

function toFlat(key: string, v: StateValue): { data: Float32Array; shape: number[] } {
  if (v instanceof Tensor) return { data: v.data, shape: [...v.shape] };
  if (typeof v === 'number') return { data: new Float32Array([v]), shape: [] };
  if (Array.isArray(v)) {
    const shape: number[] = [];
    let cur: unknown = v;
    while (Array.isArray(cur)) {
      shape.push(cur.length);
      cur = cur[0];
    }
    const flat = (v as unknown[]).flat(Infinity) as unknown[];
    if (flat.length !== numel(shape) || flat.some((x) => typeof x !== 'number')) {
      throw new ArgumentError(`loadStateDict: '${key}' is a ragged or non-numeric array`);
    }
    return { data: Float32Array.from(flat as number[]), shape };
  }
  if (v && typeof v === 'object' && 'shape' in v && 'data' in v) {
    const data = Float32Array.from(v.data as ArrayLike<number>);
    if (data.length !== numel(v.shape)) throw new ShapeError(`loadStateDict: '${key}' has ${data.length} values for shape ${fmtShape(v.shape)}`);
    return { data, shape: [...v.shape] };
  }
  throw new ArgumentError(`loadStateDict: '${key}' must be a Tensor, {shape, data}, an array or a number`);
}

/** A state dict as plain JSON-able objects: { key: { shape, data } }. */
export function stateDictToJSON(sd: Record<string, Tensor>): Record<string, { shape: number[]; data: number[] }> {
  const out: Record<string, { shape: number[]; data: number[] }> = {};
  for (const [k, t] of Object.entries(sd)) out[k] = { shape: [...t.shape], data: Array.from(t.data) };
  return out;
}
