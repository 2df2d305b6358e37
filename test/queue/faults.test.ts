// Faults against a real redis-server: a worker SIGKILLed mid-trial, the coordinator killed and resumed, Redis restarted mid-study.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_REDIS, redisServerPath, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { stopCli, type CliProcess } from '../helpers/cli-process.js';
import { coordinator, journalIds, results, starts, worker } from './harness.js';

const hasRedis = redisServerPath() !== null;
if (!hasRedis) console.warn(NO_REDIS);

describe.skipIf(!hasRedis)('queue faults (real redis-server)', () => {
  let redis: TestRedis;
  let tmp: string;
  const procs: CliProcess[] = [];
  beforeEach(async () => {
    redis = await startRedis();
    tmp = mkdtempSync(join(tmpdir(), 'bnlab-queue-'));
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map(stopCli));
    await redis.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });
  const spawnWorker = (name: string) => {
    const w = worker(redis.url, name);
    procs.push(w);
    return w;
  };

  it('a worker killed with SIGKILL mid-trial: the trial finishes on another worker and is in results.json once', async () => {
    const dir = join(tmp, 'run');
    const a = spawnWorker('victim');
    const c = coordinator(redis.url, ['run', 'fig1', '--tiny', '--seeds', '1', '--set', 'steps=1500', '--out', dir]);
    const [, id] = await a.waitFor(/: start fig1\/(\S+) \(job/);
    await new Promise((r) => setTimeout(r, 300));
    a.child.kill('SIGKILL');
    await a.exited;
    expect(a.output()).not.toContain(`finished fig1/${id}`);
    const b = spawnWorker('rescuer');
    expect(await c.exited).toBe(0);
    expect(b.output()).toContain(`finished fig1/${id}`);
    const ids = results(dir).trials.map((t) => t.id);
    expect(ids.sort()).toEqual(['bn|seed=0', 'plain|seed=0']);
    expect(journalIds(dir).sort()).toEqual(ids);
  });

  it('the coordinator killed and restarted with --resume: no trial lost or run twice', async () => {
    const dir = join(tmp, 'run');
    const w = spawnWorker('w');
    const args = ['run', 'fig1', '--tiny', '--seeds', '3', '--set', 'steps=150', '--out', dir];
    const c1 = coordinator(redis.url, args);
    await c1.waitFor(/ done on w /);
    c1.child.kill('SIGKILL');
    await c1.exited;
    // Trials keep finishing on the worker while no coordinator listens.
    await w.waitFor(/(finished[^\n]*\n[^]*){3}/);
    const c2 = coordinator(redis.url, ['run', '--resume', dir]);
    expect(await c2.exited, c2.output()).toBe(0);
    const ids = results(dir).trials.map((t) => t.id);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    expect(journalIds(dir)).toHaveLength(6);
    const s = starts(w.output(), 'fig1');
    expect([...s.keys()].sort()).toEqual([...ids].sort());
    expect([...s.values()].every((n) => n === 1)).toBe(true);
  });

  it('Redis restarted during a study (AOF on): workers and coordinator reconnect and the study completes', async () => {
    const dir = join(tmp, 'study');
    spawnWorker('w1');
    const c = coordinator(redis.url, ['study', '--tiny', '--only', 'fig1,scales', '--set', 'steps=150', '--out', dir]);
    await c.waitFor(/ done on w1 /);
    await redis.restart();
    expect(await c.exited, c.output()).toBe(0);
    for (const exp of ['fig1', 'scales']) {
      const ids = results(join(dir, exp)).trials.map((t) => t.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(journalIds(join(dir, exp)).sort()).toEqual([...ids].sort());
    }
  });
});
