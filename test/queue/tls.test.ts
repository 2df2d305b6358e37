// The queue over TLS (rediss://) against a real redis-server serving a certificate from a throwaway CA: it runs when
// the client trusts the CA (NODE_EXTRA_CA_CERTS), and fails with one clear line, not a hang, when it does not.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasOpenssl, NO_REDIS, redisServerPath, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { bnlab, stopCli, type CliProcess } from '../helpers/cli-process.js';
import { results } from './harness.js';

const ready = redisServerPath() !== null && hasOpenssl();
if (!ready) console.warn(`${NO_REDIS} (the TLS test also needs openssl)`);

describe.skipIf(!ready)('queue over TLS (real redis-server, rediss://)', () => {
  let redis: TestRedis | null = null;
  let tmp: string;
  const procs: CliProcess[] = [];
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bnlab-queue-tls-'));
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map(stopCli));
    await redis?.dispose();
    redis = null;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a coordinator and a worker with a password over rediss:// finish a run; without the CA both refuse it clearly', async () => {
    const secret = 'tls-s3cret';
    redis = await startRedis({ password: secret, tls: true });
    expect(redis.url).toMatch(/^rediss:\/\//);
    const trust = { NODE_EXTRA_CA_CERTS: redis.ca! };
    const w = bnlab(['worker', '--queue', redis.url, '--name', 'w', '--threads', '1'], trust);
    procs.push(w);
    const dir = join(tmp, 'run');
    const c = bnlab(['run', 'scales', '--tiny', '--seeds', '1', '--queue', redis.url, '--progress', 'plain', '--no-report', '--out', dir], trust);
    procs.push(c);
    expect(await c.exited, c.output()).toBe(0);
    const r = results(dir);
    expect(r.trials.length).toBeGreaterThan(0);
    expect(r.meta.command).toContain('rediss://:***@localhost');

    // The same URL from a process that does not trust the CA: a certificate error naming the (redacted) URL.
    const untrusted = bnlab(['run', 'scales', '--tiny', '--seeds', '1', '--queue', redis.url, '--out', join(tmp, 'run2')]);
    procs.push(untrusted);
    expect(await untrusted.exited).toBe(2);
    expect(untrusted.output()).toMatch(/^bnlab: rediss:\/\/:\*\*\*@localhost:\d+: .*certificate/m);
    const untrustedWorker = bnlab(['worker', '--queue', redis.url, '--name', 'w2', '--threads', '1']);
    procs.push(untrustedWorker);
    expect(await untrustedWorker.exited).toBe(2);
    expect(untrustedWorker.output()).toMatch(/^bnlab: rediss:\/\/:\*\*\*@localhost:\d+: the TLS connection failed: .*NODE_EXTRA_CA_CERTS/m);
    for (const p of [w, c, untrusted, untrustedWorker]) expect(p.output()).not.toContain(secret);
  }, 120_000);
});
