// Run configuration: presets, `--set key=value` overrides and common flags, validated by the experiment's schema.
import type { ZodIssue } from 'zod';
import { BnlabError } from '../../tensor/errors.js';
import { isDatasetName, isSynthetic, DATASET_NAMES } from '../../data/index.js';
import type { BaseConfig, Experiment } from '../experiment.js';

/** A config that does not validate: names the experiment, the key, what was expected and what was given. */
export class ConfigError extends BnlabError {}

/** A run that cannot start or continue (bad run directory, journal from another experiment, missing build). */
export class RunError extends BnlabError {}

/** Names of the presets. tiny is for tests (seconds), quick the default (`npm start`), full the paper's scale. */
export type PresetName = 'tiny' | 'quick' | 'full';
export const PRESET_NAMES: readonly PresetName[] = ['tiny', 'quick', 'full'];

/** What the command line can change in a config. */
export interface ConfigOverrides {
  preset?: PresetName;
  /** Raw `key=value` strings from `--set` (values parsed as JSON when possible). */
  sets?: string[];
  /** `--seeds N`: seeds per arm. */
  seeds?: number;
  /** `--steps N`: training steps, for experiments that have a `steps` setting. */
  steps?: number;
  /** `--dataset NAME`. */
  dataset?: string;
  /** `--data DIR`: where IDX files are. */
  dataDir?: string;
  /**
   * In a study, common flags apply only where they fit (an experiment on a synthetic set keeps it when
   * `--dataset` names images; one without `steps` ignores `--steps`); in `run` a misfit is an error.
   */
  lenient?: boolean;
}

/**
 * Parses a `--set` value: JSON when it parses (numbers, booleans, arrays, objects, quoted strings);
 * a bracketed list of bare words like `[bn,plain]` becomes an array of strings (shells eat the quotes
 * JSON wants); anything else stays a string.
 */
export function parseSetValue(raw: string): unknown {
  const s = raw.trim();
  try {
    return JSON.parse(s);
  } catch {
    if (s.startsWith('[') && s.endsWith(']')) {
      const inner = s.slice(1, -1).trim();
      if (inner === '') return [];
      return inner.split(',').map((part) => parseSetValue(part));
    }
    return s;
  }
}

/** Splits `key=value` (key may be dotted: `a.b=1`). Throws ConfigError naming the bad argument. */
export function parseSet(arg: string): { path: string[]; value: unknown } {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set expects key=value (e.g. --set steps=2000 or --set lrs=[0.1,1]), got '${arg}'`);
  const key = arg.slice(0, eq).trim();
  const path = key.split('.');
  if (path.some((p) => p === '')) throw new ConfigError(`--set: bad key '${key}' in '${arg}'`);
  return { path, value: parseSetValue(arg.slice(eq + 1)) };
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const p of path.slice(0, -1)) {
    const next = o[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[path[path.length - 1]] = value;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(obj: unknown, path: readonly (string | number)[]): unknown {
  let o = obj;
  for (const p of path) {
    if (typeof o !== 'object' || o === null) return undefined;
    o = (o as Record<string | number, unknown>)[p];
  }
  return o;
}

/** One zod issue as a sentence naming the key, what was expected and what was given. */
function formatIssue(issue: ZodIssue, raw: unknown, known: string[]): string {
  const where = issue.path.length ? issue.path.join('.') : '(config)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    const scope = issue.path.length ? ` in ${where}` : '';
    const hint = issue.path.length ? '' : ` (known keys: ${known.join(', ')})`;
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}${scope}${hint}`;
  }
  return `${where}: ${issue.message} (got ${describeValue(valueAt(raw, issue.path))})`;
}

/**
 * Validates a raw config with the experiment's schema. Throws ConfigError listing every problem:
 * `fig1: bad config: steps: Number must be greater than or equal to 1 (got 0)`.
 */
export function validateConfig<C extends BaseConfig>(exp: Experiment<C>, raw: unknown): C {
  const r = exp.schema.safeParse(raw);
  if (r.success) {
    checkDataset(exp.name, r.data);
    return r.data;
  }
  const known = Object.keys(exp.presets.quick);
  const lines = r.error.issues.map((i) => formatIssue(i, raw, known));
  throw new ConfigError(`${exp.name}: bad config: ${lines.join('; ')}`);
}

function checkDataset(name: string, c: BaseConfig): void {
  if (!isDatasetName(c.dataset)) throw new ConfigError(`${name}: unknown dataset '${c.dataset}' (known: ${DATASET_NAMES.join(', ')})`);
}

function hasKey(exp: Experiment, key: string): boolean {
  return Object.hasOwn(exp.presets.quick, key);
}

/**
 * The config of a run: the preset (default quick), then common flags, then `--set` overrides, validated.
 * `--set` wins over flags because it is the more specific request.
 */
export function resolveConfig<C extends BaseConfig>(exp: Experiment<C>, o: ConfigOverrides = {}): C {
  const preset = o.preset ?? 'quick';
  if (!PRESET_NAMES.includes(preset)) throw new ConfigError(`unknown preset '${String(preset)}' (expected ${PRESET_NAMES.join(', ')})`);
  const raw = structuredClone(exp.presets[preset]) as unknown as Record<string, unknown>;
  if (o.seeds !== undefined) raw.seeds = o.seeds;
  if (o.steps !== undefined) {
    if (hasKey(exp, 'steps')) raw.steps = o.steps;
    else if (!o.lenient) {
      throw new ConfigError(
        `${exp.name}: --steps does not apply (this experiment has no 'steps' setting; known keys: ${Object.keys(exp.presets.quick).join(', ')})`,
      );
    }
  }
  if (o.dataset !== undefined) {
    // A synthetic experiment (e.g. scales) keeps its data in a study run with --dataset fashion-mnist.
    const presetSynthetic = isSynthetic(String(raw.dataset));
    if (!(o.lenient && presetSynthetic && !isSynthetic(o.dataset))) raw.dataset = o.dataset;
  }
  if (o.dataDir !== undefined) {
    // IDX files only mean something for fashion-mnist or mnist; silently training on mnist-10k instead would mislead.
    if (o.dataset !== 'fashion-mnist' && o.dataset !== 'mnist') {
      throw new ConfigError(`--data ${o.dataDir} needs --dataset fashion-mnist or --dataset mnist (which kind of IDX files are there?)`);
    }
    if (raw.dataset === o.dataset) raw.dataDir = o.dataDir;
  }
  for (const s of o.sets ?? []) {
    const { path, value } = parseSet(s);
    if (o.lenient && !hasKey(exp, path[0])) continue;
    setPath(raw, path, value);
  }
  return validateConfig(exp, raw);
}

/** Checks a command-line integer flag (`--seeds`, `--steps`, `--jobs`): names the flag when it is not a positive integer. */
export function positiveIntFlag(flag: string, raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${flag} expects a positive integer, got '${String(raw)}'`);
  return n;
}

/**
 * A recorded command line with its seeds per arm set to `seeds`: an existing `--seeds X` (or `--seeds=X`) is replaced,
 * otherwise `--seeds N` is appended. Used for runs that were given more seeds later, so "Reproduce:" still reproduces.
 */
export function withSeedsFlag(command: string, seeds: number): string {
  const words = command.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return command;
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '--seeds') i++;
    else if (!words[i].startsWith('--seeds=')) out.push(words[i]);
  }
  return [...out, '--seeds', String(seeds)].join(' ');
}
