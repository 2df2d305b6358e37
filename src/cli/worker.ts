// `bnlab worker --queue URL`: runs trials from a BullMQ queue until stopped (SIGINT/SIGTERM: finish; a second one: release).
import type { Command } from 'commander';
import { coreCount } from '../lab/runner/run.js';
import { ConfigError, positiveIntFlag } from '../lab/runner/config.js';
import { parseQueueUrl } from '../queue/connection.js';
import { startQueueWorker } from '../queue/worker.js';

interface WorkerFlags {
  queue?: string;
  jobs?: string;
  threads?: string;
  name?: string;
  lockMs?: string;
}

/** Registers `bnlab worker`. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run trials from a queue (started by bnlab run/study --queue URL) until stopped; run one per machine')
    .option('--queue <url>', 'Redis holding the queue: redis://[user:password@]host[:port][/db], or rediss:// for TLS')
    .option('--jobs <n>', 'trials run at once, one thread each (default 1)')
    .option('--threads <n>', 'BLAS threads per trial (default: cores / jobs)')
    .option('--name <name>', 'name shown in the coordinator\'s progress (default host-pid)')
    .option('--lock-ms <ms>', 'a trial whose worker is silent this long is handed to another worker (default 30000)')
    .action(async (f: WorkerFlags) => {
      if (!f.queue) throw new ConfigError('bnlab worker needs --queue redis://host:6379 (the Redis the coordinator uses)');
      const target = parseQueueUrl(f.queue);
      const jobs = positiveIntFlag('--jobs', f.jobs) ?? 1;
      const threads = positiveIntFlag('--threads', f.threads) ?? Math.max(1, Math.floor(coreCount() / jobs));
      const lockMs = positiveIntFlag('--lock-ms', f.lockMs);
      const handle = startQueueWorker({ target, jobs, threads, name: f.name, lockMs });
      let fatal: Error | null = null;
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: string) => {
          signals++;
          if (signals > 2) {
            console.error(`${handle.name}: ${sig} again: exiting now (running trials go back to the queue when their lock expires)`);
            process.exit(130);
          }
          const mode = signals === 1 ? 'finish' : 'release';
          console.error(mode === 'finish'
            ? `${handle.name}: ${sig}: finishing the running trial(s), then stopping (again to hand them back to the queue now)`
            : `${handle.name}: ${sig}: handing the running trial(s) back to the queue and stopping`);
          handle.stop(mode).then(resolve, (e: Error) => {
            console.error(`${handle.name}: stopping: ${e.message}`);
            resolve();
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        handle.fatal.then((e) => {
          fatal = e;
          resolve();
        });
      });
      if (fatal) throw fatal;
      console.error(`${handle.name}: stopped`);
      // The trial threads are stopped; what may remain is a Redis client still retrying an unreachable server.
      process.exit(0);
    });
}
