// Trial jobs: deterministic ids, and a worker's checks that refuse anything the local runner would not run.
import { describe, expect, it } from 'vitest';
import { EXPERIMENTS } from '../../src/lab/registry.js';
import { acceptJob, checkResult, configHash, JobRejected, MAX_JOB_BYTES, trialJobData, trialJobId } from '../../src/queue/job.js';

const fig1 = EXPERIMENTS.fig1;
const config = fig1.presets.tiny;
const spec = fig1.trials(config)[0];

function rejection(data: unknown): string {
  try {
    acceptJob(data);
  } catch (e) {
    expect(e).toBeInstanceOf(JobRejected);
    return (e as Error).message;
  }
  throw new Error('the job was accepted');
}

describe('trial job ids', () => {
  it('depend on experiment, config and trial only, not on key order, and contain no colon', () => {
    const reordered = Object.fromEntries(Object.entries(config).reverse()) as typeof config;
    expect(trialJobId('fig1', reordered, spec.id)).toBe(trialJobId('fig1', config, spec.id));
    expect(configHash({ ...config, seeds: 3 })).not.toBe(configHash(config));
    const ids = fig1.trials(config).map((s) => trialJobId('fig1', config, s.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => !id.includes(':') && id.startsWith('fig1.'))).toBe(true);
  });
});

describe('acceptJob', () => {
  it('accepts a job the coordinator makes, returning the grid spec and the validated config', () => {
    const a = acceptJob(JSON.parse(JSON.stringify(trialJobData(fig1, config, spec))));
    expect(a.exp).toBe(fig1);
    expect(a.spec).toEqual(spec);
    expect(a.config).toEqual(config);
  });

  it('rejects an unknown experiment, a config its schema refuses, a trial outside the grid and an oversized payload', () => {
    const good = trialJobData(fig1, config, spec);
    expect(rejection({ ...good, experiment: 'rm -rf' })).toMatch(/unknown experiment "rm -rf" \(known: fig1/);
    expect(rejection({ ...good, config: { ...config, steps: -5 } })).toMatch(/fig1: bad config: steps/);
    expect(rejection({ ...good, config: { ...config, evil: 1 } })).toMatch(/unknown key 'evil'/);
    expect(rejection({ ...good, spec: { ...spec, id: 'bn|seed=99' } })).toMatch(/not in the trial grid/);
    expect(rejection({ ...good, spec: { ...spec, seed: 7 } })).toMatch(/does not match the grid's spec/);
    expect(rejection({ ...good, pad: 'x'.repeat(MAX_JOB_BYTES) })).toMatch(/over the 65536-byte limit/);
    expect(rejection({ ...good, v: 2 })).toMatch(/v=2 is not 1/);
    expect(rejection('fig1')).toMatch(/not an object/);
  });
});

describe('checkResult', () => {
  it('accepts a trial with the expected id and refuses anything else', () => {
    const trial = { id: spec.id, arm: spec.arm, seed: spec.seed, params: {}, metrics: {}, curves: {}, diverged: false, divergedAt: null };
    Object.assign(trial, { durationMs: 1 });
    expect(checkResult({ trial, worker: 'w', backend: 'ts' }, spec.id).worker).toBe('w');
    expect(() => checkResult({ trial, worker: 'w' }, 'other')).toThrow(/malformed result for trial 'other'/);
    expect(() => checkResult(null, spec.id)).toThrow(/malformed/);
  });
});
