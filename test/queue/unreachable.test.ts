// A worker whose Redis cannot be reached keeps retrying (a restarting Redis comes back), yet stops on SIGTERM within seconds.
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/redis-server.js';
import { bnlab } from '../helpers/cli-process.js';

describe('queue worker without a reachable Redis', () => {
  it('says it is retrying, then stops cleanly on SIGTERM instead of waiting forever for a close', async () => {
    const port = await freePort();
    const w = bnlab(['worker', '--queue', `redis://:hidden-pw@127.0.0.1:${port}`, '--name', 'w', '--threads', '1']);
    await w.waitFor(/ECONNREFUSED.*\(retrying\)/, 20_000);
    w.child.kill('SIGTERM');
    expect(await w.exited, w.output()).toBe(0);
    expect(w.output()).toMatch(/w: stopped/);
    expect(w.output()).not.toContain('hidden-pw');
  }, 40_000);
});
