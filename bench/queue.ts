// `npm run bench:queue`: a small study through the BullMQ queue with 1, 2 and 4 worker processes against the local runner.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { EXPERIMENT_NAMES } from '../src/lab/registry.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
// The study measured: `--quick` on the command line for the quick preset (minutes per variant), else tiny.
const PRESET = process.argv.includes('--quick') ? '--quick' : '--tiny';
const STUDY = ['study', PRESET, '--no-report', '--progress', 'silent'];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d.toString()));
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bnlab ${args.join(' ')} exited ${code}:\n${err.slice(-2000)}`))));
  });
}

/** Sum of trial durations (ms) and trial count over a study directory. */
function trialTime(dir: string): { ms: number; n: number } {
  let ms = 0;
  let n = 0;
  for (const name of EXPERIMENT_NAMES) {
    const r = JSON.parse(readFileSync(join(dir, name, 'results.json'), 'utf8')) as { trials: { durationMs: number }[] };
    for (const t of r.trials) ms += t.durationMs;
    n += r.trials.length;
  }
  return { ms, n };
}

async function timed(label: string, f: () => Promise<void>, dir: string): Promise<{ label: string; s: number; n: number; trialS: number }> {
  const t0 = performance.now();
  await f();
  const s = (performance.now() - t0) / 1000;
  const { ms, n } = trialTime(dir);
  console.log(`${label.padEnd(28)} ${s.toFixed(1).padStart(7)} s wall, ${n} trials, ${(ms / 1000).toFixed(1)} s of trial time`);
  return { label, s, n, trialS: ms / 1000 };
}

async function queued(url: string, workers: number, dir: string): Promise<void> {
  const ws: ChildProcess[] = [];
  for (let i = 0; i < workers; i++) {
    ws.push(spawn(process.execPath, [CLI, 'worker', '--queue', url, '--threads', '1', '--name', `w${i + 1}`], { stdio: 'ignore' }));
  }
  try {
    await run([...STUDY, '--queue', url, '--out', dir]);
  } finally {
    await Promise.all(ws.map((w) => new Promise((r) => {
      w.once('exit', r);
      w.kill('SIGTERM');
    })));
  }
}

/** Waits until redis-server answers on `port` (it takes a moment to start). */
async function waitForRedis(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.quit();
      return;
    } catch {
      r.disconnect();
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}

async function main(): Promise<void> {
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('bench:queue needs redis-server (apt-get install redis-server)');
  const port = await freePort();
  const tmp = mkdtempSync(join(tmpdir(), 'bnlab-bench-queue-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', tmp, '--save', '', '--appendonly', 'yes'];
  const redis = spawn('redis-server', args, { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitForRedis(port);
    console.log(`bench:queue: bnlab study ${PRESET} (loopback Redis on port ${port}); measured on this machine now, not a definitive figure`);
    const rows = [];
    rows.push(await timed('local --jobs 1', () => run([...STUDY, '--jobs', '1', '--out', join(tmp, 'l1')]), join(tmp, 'l1')));
    rows.push(await timed('local (default jobs)', () => run([...STUDY, '--out', join(tmp, 'l2')]), join(tmp, 'l2')));
    for (const w of [1, 2, 4]) rows.push(await timed(`queue, ${w} worker process(es)`, () => queued(url, w, join(tmp, `q${w}`)), join(tmp, `q${w}`)));
    // One trial at a time both ways: what the queue adds per trial is the difference of wall times over the trials.
    const [l1, , q1] = rows;
    const per = ((q1.s - l1.s) / l1.n) * 1000;
    const share = (100 * (q1.s - l1.s)) / l1.s;
    console.log(`\nqueue overhead per trial (1 worker vs local --jobs 1): ${per.toFixed(0)} ms; ${share.toFixed(1)}% of the study's time`);
    const local = (rows[1].n / rows[1].s).toFixed(2);
    for (const r of rows.slice(2)) console.log(`${r.label}: ${(r.n / r.s).toFixed(2)} trials/s (local default: ${local})`);
  } finally {
    await new Promise((r) => {
      redis.once('exit', r);
      redis.kill('SIGTERM');
    });
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
