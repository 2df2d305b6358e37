// Test harness: a real redis-server on a free loopback port with a temporary directory (AOF on), started and stopped by the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
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

/** Whether openssl is installed (the TLS test makes its own certificate authority with it). */
export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

/**
 * A throwaway certificate authority and a server certificate for localhost and 127.0.0.1 signed by it, in `dir`:
 * ca.pem (what a client trusts, e.g. through NODE_EXTRA_CA_CERTS), server.pem and server.key (what redis-server serves).
 */
export function makeTestCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string) => join(dir, name);
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  writeFileSync(f('san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=bnlab test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'),
    '-days', '2', '-extfile', f('san.cnf')]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

async function answersPing(port: number, password?: string, ca?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const hello = () => c.write(password ? `AUTH ${password}\r\nPING\r\n` : 'PING\r\n');
    const c: Socket = ca
      ? tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(ca) }, hello)
      : createConnection({ port, host: '127.0.0.1' }, hello);
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
  /** redis://127.0.0.1:PORT (with :password@ when started with one); rediss://localhost:PORT with TLS. */
  url: string;
  /** With TLS: the certificate authority's PEM file that a client must trust. */
  ca?: string;
  /** Stops the server (SIGTERM: AOF flushed) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (the AOF brings the data back). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/** Starts redis-server on a free port; `password` turns on requirepass, `tls` serves TLS only (certificates made here). */
export async function startRedis(opts: { password?: string; tls?: boolean } = {}): Promise<TestRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error(NO_REDIS);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bnlab-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
  if (opts.password) args.push('--requirepass', opts.password);
  const certs = opts.tls ? makeTestCertificates(dir) : null;
  if (certs) {
    // localhost may resolve to ::1 first: listen there too when the machine has IPv6 ('-' makes it optional).
    args.splice(0, 4, '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '-::1');
    args.push('--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no');
  }
  let child: ChildProcess | null = null;
  const up = async () => {
    child = spawn(bin, args, { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await answersPing(port, opts.password, certs?.ca)) return;
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
    url: certs ? `rediss://${auth}localhost:${port}` : `redis://${auth}127.0.0.1:${port}`,
    ca: certs?.ca,
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
