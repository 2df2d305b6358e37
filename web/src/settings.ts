// Settings of the browser lab: defaults, allowed ranges, and the URL hash that holds them (validated with zod).
import { z } from 'zod';
import type { Settings } from './protocol.js';

/** The default run: the 2-D preset (2 inputs, 4 hidden layers of 8, batch 10), no normalization vs BN. */
export const DEFAULTS: Settings = {
  preset: 'default',
  seed: 1,
  dataset: 'circle',
  noise: 0.1,
  trainShare: 0.7,
  left: 'none',
  right: 'bn-before',
  lr: 0.03,
  batchSize: 10,
  optimizer: 'momentum',
  activation: 'relu',
  depth: 4,
  width: 8,
  init: 'kaiming',
  initStd: 0.1,
  bnMomentum: 0.1,
  bnEps: 1e-5,
  dropout: 0,
  ghostBatch: 4,
  groups: 2,
  stepsPerFrame: 10,
};

/** A number setting: inclusive bounds; `int` for counts; `log` when a slider should move on a log scale. */
export interface NumberRange {
  kind: 'number';
  min: number;
  max: number;
  int?: boolean;
  log?: boolean;
}
/** A choice among fixed options. */
export interface OptionRange {
  kind: 'option';
  options: readonly string[];
}
/** A free string matching a pattern (the preset id). */
export interface TextRange {
  kind: 'text';
  pattern: RegExp;
  hint: string;
}
export type Range = NumberRange | OptionRange | TextRange;

const NORMS = ['none', 'bn-before', 'bn-after', 'renorm', 'ghost', 'group', 'layer', 'noisy-bn'] as const;
const num = (min: number, max: number, extra: { int?: boolean; log?: boolean } = {}): NumberRange => ({ kind: 'number', min, max, ...extra });
const opt = (options: readonly string[]): OptionRange => ({ kind: 'option', options });

/** What each setting may be. Typed by Settings, so a new setting without a range is a compile error. */
export const RANGES = {
  preset: { kind: 'text', pattern: /^[a-z0-9-]{0,40}$/, hint: 'a preset id (up to 40 lowercase letters, digits, -) or nothing' },
  seed: num(0, 2 ** 31 - 1, { int: true }),
  dataset: opt(['circle', 'xor', 'gaussians', 'spiral', 'moons', 'scales', 'digits']),
  noise: num(0, 0.5),
  trainShare: num(0.1, 0.9),
  left: opt(NORMS),
  right: opt(NORMS),
  lr: num(1e-5, 10, { log: true }),
  batchSize: num(1, 512, { int: true }),
  optimizer: opt(['sgd', 'momentum', 'adam']),
  activation: opt(['relu', 'tanh', 'sigmoid']),
  depth: num(1, 10, { int: true }),
  width: num(1, 256, { int: true }),
  init: opt(['normal', 'xavier', 'kaiming']),
  initStd: num(1e-3, 10, { log: true }),
  bnMomentum: num(0, 1),
  bnEps: num(1e-8, 1, { log: true }),
  dropout: num(0, 0.9),
  ghostBatch: num(1, 256, { int: true }),
  groups: num(1, 64, { int: true }),
  stepsPerFrame: num(1, 1000, { int: true }),
} satisfies Record<keyof Settings, Range>;

/** The key of each setting in the hash: short, but still readable in a shared link. */
export const HASH_KEYS = {
  preset: 'preset',
  seed: 'seed',
  dataset: 'data',
  noise: 'noise',
  trainShare: 'train',
  left: 'left',
  right: 'right',
  lr: 'lr',
  batchSize: 'batch',
  optimizer: 'opt',
  activation: 'act',
  depth: 'depth',
  width: 'width',
  init: 'init',
  initStd: 'std',
  bnMomentum: 'bnmom',
  bnEps: 'bneps',
  dropout: 'drop',
  ghostBatch: 'ghost',
  groups: 'groups',
  stepsPerFrame: 'spf',
} as const satisfies Record<keyof Settings, string>;

const KEYS = Object.keys(HASH_KEYS) as (keyof Settings)[];
const BY_HASH_KEY = new Map<string, keyof Settings>(KEYS.map((k) => [HASH_KEYS[k], k]));

/** A plain decimal or exponent number as String(n) writes it (no '', '0x10', 'Infinity', which Number() would take). */
const NUMBER_TEXT = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** The zod schema that turns one hash value (a string) into a valid value of setting `key`. */
function schemaOf(r: Range): z.ZodType<unknown, z.ZodTypeDef, string> {
  switch (r.kind) {
    case 'number': {
      let n = z.number().min(r.min).max(r.max);
      if (r.int) n = n.int();
      return z.string().regex(NUMBER_TEXT).transform(Number).pipe(n);
    }
    case 'option':
      return z.string().refine((s) => r.options.includes(s));
    case 'text':
      return z.string().regex(r.pattern);
    default: {
      const never: never = r;
      throw new Error(`unknown range ${JSON.stringify(never)}`);
    }
  }
}

const SCHEMAS = Object.fromEntries(KEYS.map((k) => [k, schemaOf(RANGES[k])])) as Record<keyof Settings, z.ZodType<unknown, z.ZodTypeDef, string>>;

/** What a setting accepts, in words: 'a number from 1e-5 to 10', 'an integer from 1 to 10', 'one of sgd, momentum, adam'. */
export function describeRange(r: Range): string {
  switch (r.kind) {
    case 'number':
      return `${r.int ? 'an integer' : 'a number'} from ${r.min} to ${r.max}`;
    case 'option':
      return `one of ${r.options.join(', ')}`;
    case 'text':
      return r.hint;
    default: {
      const never: never = r;
      throw new Error(`unknown range ${JSON.stringify(never)}`);
    }
  }
}

/** Every setting as `key=value` pairs joined by '&' (no leading '#'); numbers in their shortest exact form. */
export function encodeHash(s: Settings): string {
  const p = new URLSearchParams();
  for (const k of KEYS) p.set(HASH_KEYS[k], String(s[k]));
  return p.toString();
}

/**
 * Reads a hash (with or without '#'). Each setting that is missing takes its default silently; each value that is
 * out of range or of the wrong type, and each unknown key, takes the default and adds a warning that names the key,
 * the value and what was expected. Never throws.
 */
export function decodeHash(hash: string): { settings: Settings; warnings: string[] } {
  const settings: Settings = { ...DEFAULTS };
  const out = settings as unknown as Record<keyof Settings, unknown>;
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const [hk, value] of new URLSearchParams(hash.replace(/^#/, ''))) {
    const key = BY_HASH_KEY.get(hk);
    if (key === undefined) {
      warnings.push(`unknown setting '${hk}' (value '${value}') was ignored`);
      continue;
    }
    if (seen.has(hk)) warnings.push(`'${hk}' appears more than once; the last value counts`);
    seen.add(hk);
    const r = SCHEMAS[key].safeParse(value);
    if (r.success) out[key] = r.data;
    else {
      out[key] = DEFAULTS[key];
      warnings.push(`'${hk}': '${value}' is not valid (expected ${describeRange(RANGES[key])}); using the default ${String(DEFAULTS[key])}`);
    }
  }
  return { settings, warnings };
}
