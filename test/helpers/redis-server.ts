// Test harness: a real redis-server on a free loopback port with a temporary directory (AOF on), started and stopped by the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of redis-server, or null when it is not installed (tests then skip, saying so). */
export function redisServerPath(): string | null {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (spawnSync(p, ['--version']).status === 0) return p;
  }
  const r = spawnSync('redis-server', ['--version']);
  return r.status === 0 ? 'redis-server' : null;
}

/** The message a skipped queue suite prints. */
export const NO_REDIS = 'redis-server is not installed (apt-get install redis-server; .ci/run installs it): the queue tests are skipped';

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function answersPing(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' }, () => c.write(password ? `AUTH ${password}\r\nPING\r\n` : 'PING\r\n'));
    let got = '';
    c.on('data', (d) => {
      got += d.toString();
      if (got.includes('PONG')) {
        c.destroy();
        resolve(true);
      }
    });
    c.on('error', () => resolve(false));
    setTimeout(() => {
      c.destroy();
      resolve(false);
    }, 500);
  });
}

/** A running test Redis. */
export interface TestRedis {
  port: number;
  dir: string;
  /** redis://127.0.0.1:PORT (with :password@ when started with one). */
  url: string;
  /** Stops the server (SIGTERM: AOF flushed) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (the AOF brings the data back). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/** Starts redis-server on a free port; `password` turns on requirepass. */
export async function startRedis(opts: { password?: string } = {}): Promise<TestRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error(NO_REDIS);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bnlab-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
  if (opts.password) args.push('--requirepass', opts.password);
  let child: ChildProcess | null = null;
  const up = async () => {
    child = spawn(bin, args, { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await answersPing(port, opts.password)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on port ${port}`);
  };
  const stop = async () => {
    const c = child as ChildProcess | null;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await up();
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    port,
    dir,
    url: `redis://${auth}127.0.0.1:${port}`,
    stop,
    restart: async () => {
      await stop();
      await up();
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
