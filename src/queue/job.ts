// A trial as a BullMQ job: its payload, its deterministic id, and the checks a worker runs before executing anything.
import { createHash } from 'node:crypto';
import type { BaseConfig, Experiment, TrialSpec } from '../lab/experiment.js';
import { EXPERIMENTS, EXPERIMENT_NAMES, isExperimentName } from '../lab/registry.js';
import type { Trial } from '../lab/results.js';
import { validateConfig } from '../lab/runner/config.js';
import { BnlabError } from '../tensor/errors.js';

/** The queue every coordinator and worker shares (a BullMQ queue name; one Redis db can hold one bnlab queue). */
export const QUEUE_NAME = 'bnlab-trials';
/** BullMQ job name of a trial. */
export const JOB_NAME = 'trial';
/**
 * Largest payload a worker accepts, in bytes of JSON. A real one is a config and a spec (about 1 KB); the
 * cap stops a forged job from making every worker parse and validate megabytes.
 */
export const MAX_JOB_BYTES = 64 * 1024;

/** What a job carries: names and data only, never code. `v` versions the format. */
export interface TrialJobData {
  v: 1;
  experiment: string;
  config: BaseConfig;
  spec: TrialSpec;
}

/** What a worker returns for a job (stored by BullMQ as the job's return value). */
export interface TrialJobResult {
  trial: Trial;
  /** The worker's name (`host-pid` unless `--name`), for per-worker progress. */
  worker: string;
  /** The worker's kernel backend (`blas`, `wasm`, `ts`). */
  backend: string;
}

/** A job a worker refuses to run: the reason is stored as the job's failure and logged. */
export class JobRejected extends BnlabError {}

/** JSON with object keys sorted at every level: the same config always gives the same text, hence the same hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha(text: string, chars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, chars);
}

/** First 16 hex digits of the SHA-256 of the canonical JSON of a validated config. */
export function configHash(config: BaseConfig): string {
  return sha(canonicalJson(config), 16);
}

/**
 * The job id of a trial: `<experiment>.<config hash>.<trial hash>`. The same trial of the same config always
 * gets the same id, so BullMQ ignores a second enqueue of it (from a restarted coordinator or a second one).
 * Trial ids hold `|`, `=` and `,` and may be long, hence hashed; BullMQ forbids `:` in custom ids.
 */
export function trialJobId(experiment: string, config: BaseConfig, trialId: string): string {
  return `${experiment}.${configHash(config)}.${sha(trialId, 16)}`;
}

/** A job's payload for one trial. */
export function trialJobData(exp: Experiment<BaseConfig>, config: BaseConfig, spec: TrialSpec): TrialJobData {
  return { v: 1, experiment: exp.name, config, spec };
}

/** A trial a worker may run: the registered experiment, the config its schema accepted, the spec from its own grid. */
export interface AcceptedJob {
  exp: Experiment<BaseConfig>;
  config: BaseConfig;
  spec: TrialSpec;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Checks a job's payload exactly as the local runner checks a run: a registered experiment, a config that
 * passes that experiment's schema (validateConfig), and a trial that is in the grid the experiment builds from
 * that config. The spec run is the grid's own, not the payload's. Throws JobRejected with the reason.
 */
export function acceptJob(data: unknown): AcceptedJob {
  const bytes = Buffer.byteLength(JSON.stringify(data) ?? '');
  if (bytes > MAX_JOB_BYTES) throw new JobRejected(`payload of ${bytes} bytes is over the ${MAX_JOB_BYTES}-byte limit for a trial`);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new JobRejected(`payload is not an object (got ${describe(data)})`);
  const d = data as Partial<TrialJobData>;
  if (d.v !== 1) throw new JobRejected(`payload format v=${describe(d.v)} is not 1 (a job from another bnlab version or not from bnlab)`);
  if (typeof d.experiment !== 'string' || !isExperimentName(d.experiment)) {
    throw new JobRejected(`unknown experiment ${describe(d.experiment)} (known: ${EXPERIMENT_NAMES.join(', ')})`);
  }
  const exp = EXPERIMENTS[d.experiment];
  let config: BaseConfig;
  try {
    config = validateConfig(exp, d.config);
  } catch (e) {
    throw new JobRejected((e as Error).message);
  }
  const id = d.spec && typeof d.spec === 'object' ? (d.spec as Partial<TrialSpec>).id : undefined;
  const spec = exp.trials(config).find((s) => s.id === id);
  if (!spec) throw new JobRejected(`${exp.name}: trial ${describe(id)} is not in the trial grid of this config`);
  if (canonicalJson(spec) !== canonicalJson(d.spec)) throw new JobRejected(`${exp.name}: trial '${spec.id}' does not match the grid's spec for it`);
  return { exp, config, spec };
}

/** Checks a worker's return value before it goes into a journal: a trial record with the expected id. */
export function checkResult(value: unknown, trialId: string): TrialJobResult {
  const r = value as Partial<TrialJobResult> | null;
  const t = r?.trial;
  if (!r || !t || typeof t !== 'object' || t.id !== trialId || typeof t.metrics !== 'object' || typeof t.diverged !== 'boolean') {
    throw new BnlabError(`the queue returned a malformed result for trial '${trialId}' (got ${describe(value)})`);
  }
  return { trial: t, worker: String(r.worker ?? '?'), backend: String(r.backend ?? '?') };
}
