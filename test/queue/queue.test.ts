// The queue against a real redis-server: same results as a local run, failing and forged jobs, passwords kept out of everything.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXPERIMENTS } from '../../src/lab/registry.js';
import { parseQueueUrl } from '../../src/queue/connection.js';
import { JOB_NAME, MAX_JOB_BYTES, QUEUE_NAME, trialJobData } from '../../src/queue/job.js';
import { NO_REDIS, redisServerPath, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { bnlab, stopCli, type CliProcess } from '../helpers/cli-process.js';
import { comparable, coordinator, results, starts, worker } from './harness.js';

const hasRedis = redisServerPath() !== null;
if (!hasRedis) console.warn(NO_REDIS);

function allText(dir: string): string {
  let out = '';
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out += readFileSync(join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

describe.skipIf(!hasRedis)('queue runs (real redis-server)', () => {
  let redis: TestRedis | null = null;
  let tmp: string;
  const procs: CliProcess[] = [];
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bnlab-queue-'));
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map(stopCli));
    await redis?.dispose();
    redis = null;
    rmSync(tmp, { recursive: true, force: true });
  });
  const track = (p: CliProcess) => {
    procs.push(p);
    return p;
  };

  it('two workers give the same trials, metrics and findings as a local run, diverged trials included', async () => {
    redis = await startRedis();
    const args = ['study', '--tiny', '--only', 'fig1,lr', '--set', 'lrs=[0.05,100000]', '--progress', 'silent', '--no-report'];
    const local = track(bnlab([...args, '--jobs', '2', '--out', join(tmp, 'local')]));
    track(worker(redis.url, 'w1'));
    track(worker(redis.url, 'w2'));
    const queued = track(coordinator(redis.url, [...args.slice(0, 6), '--out', join(tmp, 'queue')]));
    expect(await local.exited, local.output()).toBe(0);
    expect(await queued.exited, queued.output()).toBe(0);
    for (const exp of ['fig1', 'lr']) {
      const a = results(join(tmp, 'local', exp));
      const b = results(join(tmp, 'queue', exp));
      expect(comparable(b.trials)).toEqual(comparable(a.trials));
      expect(b.findings).toEqual(a.findings);
      for (const f of ['config.json', 'journal.jsonl', 'results.csv', 'summary.md']) expect(existsSync(join(tmp, 'queue', exp, f))).toBe(true);
    }
    expect(results(join(tmp, 'queue', 'lr')).trials.filter((t) => t.diverged).length).toBeGreaterThan(0);
    expect(queued.output()).toMatch(/done on w1/);
    expect(queued.output()).toMatch(/done on w2/);
  });

  it('a throwing trial fails after 3 attempts with its error while the rest of the study completes', async () => {
    redis = await startRedis();
    // IDX files that exist (so the coordinator accepts the config) but are not IDX: every fig1 trial throws when it loads them.
    const bad = join(tmp, 'bad-idx');
    mkdirSync(bad);
    const names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
    for (const f of names) writeFileSync(join(bad, f), 'junk');
    const w = track(worker(redis.url, 'w'));
    const dir = join(tmp, 'study');
    const c = coordinator(redis.url, ['study', '--tiny', '--only', 'fig1,scales', '--seeds', '1', '--dataset', 'mnist', '--data', bad, '--out', dir]);
    expect(await c.exited).toBe(2);
    expect(c.output()).toMatch(/bnlab: 2 trial\(s\) failed after 3 attempt\(s\): fig1\/bn\|seed=0: .*t10k|train/);
    expect(existsSync(join(dir, 'scales', 'results.json'))).toBe(true);
    expect(existsSync(join(dir, 'fig1', 'results.json'))).toBe(false);
    expect([...starts(w.output(), 'fig1').values()]).toEqual([3, 3]);
  });

  it('forged jobs pushed straight into the queue are failed with the reason and never executed', async () => {
    redis = await startRedis();
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(redis.url).redis });
    const fig1 = EXPERIMENTS.fig1;
    const good = trialJobData(fig1, fig1.presets.tiny, fig1.trials(fig1.presets.tiny)[0]);
    const forged = {
      unknown: { ...good, experiment: 'mine' },
      malformed: { ...good, config: { ...good.config, steps: 'many' } },
      oversized: { ...good, blob: 'x'.repeat(MAX_JOB_BYTES + 1) },
    };
    for (const [id, data] of Object.entries(forged)) await queue.add(JOB_NAME, data, { jobId: `forged-${id}`, attempts: 3 });
    const w = track(worker(redis.url, 'w'));
    await w.waitFor(/(rejected job[^]*){3}/);
    // The worker logs a rejection just before BullMQ moves the job to failed: wait for that move.
    for (let i = 0; i < 50 && (await queue.getFailedCount()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
    const reasons = await Promise.all(Object.keys(forged).map(async (id) => {
      const job = await queue.getJob(`forged-${id}`);
      return { state: await job!.getState(), reason: job!.failedReason, attempts: job!.attemptsMade };
    }));
    await queue.close();
    expect(reasons.map((r) => r.state)).toEqual(['failed', 'failed', 'failed']);
    expect(reasons[0].reason).toMatch(/unknown experiment "mine"/);
    expect(reasons[1].reason).toMatch(/fig1: bad config: steps/);
    expect(reasons[2].reason).toMatch(/over the 65536-byte limit/);
    expect(reasons.every((r) => r.attempts === 1)).toBe(true);
    expect(w.output()).not.toMatch(/: start /);
  });

  it('a password in the URL never reaches logs, errors or the run directory; a wrong one fails with one clear line', async () => {
    const secret = 'pa55-w0rd-xyz';
    redis = await startRedis({ password: secret });
    const w = track(worker(redis.url, 'w'));
    const dir = join(tmp, 'run');
    const c = coordinator(redis.url, ['run', 'scales', '--tiny', '--seeds', '1', '--out', dir]);
    expect(await c.exited, c.output()).toBe(0);
    expect(results(dir).meta.command).toContain(`redis://:***@127.0.0.1:${redis.port}`);
    const wrong = redis.url.replace(secret, 'not-it-123');
    const bad = coordinator(wrong, ['run', 'scales', '--tiny', '--seeds', '1', '--out', join(tmp, 'run2')]);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/bnlab: redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: Redis refused the login/);
    const badWorker = track(worker(wrong, 'w2'));
    expect(await badWorker.exited).toBe(2);
    await stopCli(w);
    for (const text of [w.output(), c.output(), bad.output(), badWorker.output(), allText(tmp)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('not-it-123');
    }
  });
});
