// Weight initializers with PyTorch's formulas (torch.nn.init); each fills a tensor in place and returns it.
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, check } from '../tensor/errors.js';
import { getRng, type Rng } from '../tensor/rng.js';

export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';

/** Throws unless `t` is a Tensor: initializers write t.data, which would otherwise fail with a TypeError. */
function expectTarget(fn: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new ArgumentError(`init.${fn}: expected a Tensor to fill, got ${t === null ? 'null' : typeof t}`);
}

/** fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (as PyTorch). */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  expectTarget('fans', t);
  if (t.ndim < 2) throw new ArgumentError(`init: fan in/out needs a tensor with at least 2 dimensions, got shape [${t.shape.join(', ')}]`);
  let receptive = 1;
  for (let i = 2; i < t.ndim; i++) receptive *= t.shape[i];
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

/** Recommended gain: 1 for linear/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2/(1+a^2)) for leaky_relu. */
export function calculateGain(nonlinearity: Nonlinearity, param = 0.01): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + param * param));
    default: {
      const never: never = nonlinearity;
      throw new ArgumentError(`calculateGain: unknown nonlinearity '${String(never)}'`);
    }
  }
}

/** Fills with N(mean, std^2). Defaults mean 0, std 1. */
export function normal(t: Tensor, opts: { mean?: number; std?: number; rng?: Rng } = {}): Tensor {
  expectTarget('normal', t);
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  check(std >= 0 && Number.isFinite(std), `init.normal: std must be a non-negative finite number, got ${std}`);
  const rng = opts.rng ?? getRng();
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = mean + std * rng.normal();
  return t;
}

/** Fills with U(low, high). Defaults [0, 1). */
export function uniform(t: Tensor, opts: { low?: number; high?: number; rng?: Rng } = {}): Tensor {
  expectTarget('uniform', t);
  const low = opts.low ?? 0;
  const high = opts.high ?? 1;
  check(high >= low, `init.uniform: high (${high}) must be >= low (${low})`);
  const rng = opts.rng ?? getRng();
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * rng.uniform();
  return t;
}

/** Fills with a constant. */
export function constant(t: Tensor, value: number): Tensor {
  expectTarget('constant', t);
  t.data.fill(value);
  return t;
}

/** Fills with 0. */
export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

/** Fills with 1. */
export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

/** Glorot: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform(t: Tensor, opts: { gain?: number; rng?: Rng } = {}): Tensor {
  const { fanIn, fanOut } = fans(t);
  const a = (opts.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, { low: -a, high: a, rng: opts.rng });
}

/** Glorot: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal(t: Tensor, opts: { gain?: number; rng?: Rng } = {}): Tensor {
  const { fanIn, fanOut } = fans(t);
  return normal(t, { std: (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), rng: opts.rng });
}

export interface KaimingOptions {
  /** Negative slope for leaky_relu (default 0). */
  a?: number;
  /** 'fanIn' (default) keeps forward variance, 'fanOut' backward variance. */
  mode?: 'fanIn' | 'fanOut';
  /** Default 'leaky_relu' as PyTorch. */
  nonlinearity?: Nonlinearity;
  rng?: Rng;
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const { fanIn, fanOut } = fans(t);
  const mode = opts.mode ?? 'fanIn';
  check(mode === 'fanIn' || mode === 'fanOut', `kaiming: mode must be 'fanIn' or 'fanOut', got '${String(mode)}'`);
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return gain / Math.sqrt(mode === 'fanIn' ? fanIn : fanOut);
}

/** He: U(-b, b), b = gain * sqrt(3 / fan). */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const b = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform(t, { low: -b, high: b, rng: opts.rng });
}

/** He: N(0, std^2), std = gain / sqrt(fan). */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal(t, { std: kaimingStd(t, opts), rng: opts.rng });
}

/**
 * PyTorch's default for Linear/Conv2d: weight kaiming_uniform(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in));
 * bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
export function torchDefaultInit(weight: Tensor, bias: Tensor | null, rng?: Rng): void {
  kaimingUniform(weight, { a: Math.sqrt(5), rng });
  if (bias !== null) {
    const bound = 1 / Math.sqrt(fans(weight).fanIn);
    uniform(bias, { low: -bound, high: bound, rng });
  }
}
