// The queue worker (`bnlab worker`): takes trial jobs from BullMQ, checks them as the local runner would, runs them on threads.
import { hostname } from 'node:os';
import { Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { backendInfo } from '../kernels/select.js';
import { bullConnection, connectionErrorLogger, isFatalConnectionError, fatalConnectionError } from './connect.js';
import type { QueueTarget } from './connection.js';
import { JobRejected, QUEUE_NAME, acceptJob, type TrialJobResult } from './job.js';
import { TrialThread } from './trial-thread.js';

/** How a queue worker runs. */
export interface QueueWorkerOptions {
  target: QueueTarget;
  /** Trials run at once (one thread each). */
  jobs: number;
  /** BLAS threads per trial thread. */
  threads: number;
  /** Name shown in the coordinator's progress (default `host-pid`). */
  name?: string;
  /**
   * BullMQ lock duration in ms (default 30,000): a worker that stops renewing its lock (killed, cut off) for this
   * long loses the job to stalled-job detection, which the other workers run every `lockMs` as well.
   */
  lockMs?: number;
  /** Where log lines go (default stderr). */
  log?: (line: string) => void;
}

/** A running worker: `stop('finish')` lets running trials finish; `stop('release')` hands them back to the queue now. */
export interface QueueWorkerHandle {
  name: string;
  /** Resolves with an error that ends the worker (Redis refused the login); the worker is already stopped then. */
  fatal: Promise<Error>;
  stop(mode: 'finish' | 'release'): Promise<void>;
}

// Progress goes to Redis a few times a second at most: a trial reports every step.
const PROGRESS_EVERY_MS = 500;
// A job fails for good after this many stalls (its worker died each time): a trial that kills its worker stops somewhere.
const MAX_STALLED = 3;

interface Slot {
  thread: TrialThread;
  job: Job | null;
  token?: string;
}

function takeSlot(slots: Slot[], job: Job, token?: string): Slot {
  const slot = slots.find((s) => s.job === null);
  if (!slot) throw new Error('bnlab worker: BullMQ gave more jobs than --jobs (no free trial thread)');
  slot.job = job;
  slot.token = token;
  return slot;
}

/** How long stopping waits for Redis to acknowledge the close before dropping the connection. */
const CLOSE_WAIT_MS = 5000;

/** Starts a worker on the queue; it runs until stopped. */
export function startQueueWorker(o: QueueWorkerOptions): QueueWorkerHandle {
  const log = o.log ?? ((line: string) => console.error(line));
  const name = o.name ?? `${hostname()}-${process.pid}`;
  const backend = backendInfo().name;
  const slots: Slot[] = Array.from({ length: o.jobs }, () => ({ thread: new TrialThread(o.threads), job: null }));
  let releasing = false;
  const processor = makeProcessor({ name, backend, slots, log, releasing: () => releasing });
  const lockMs = o.lockMs ?? 30_000;
  const worker = new Worker(QUEUE_NAME, processor, {
    connection: bullConnection(o.target),
    concurrency: o.jobs,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: MAX_STALLED,
    name,
  });
  const logError = connectionErrorLogger(o.target, log);
  let onFatal: (e: Error) => void = () => undefined;
  const fatal = new Promise<Error>((resolve) => (onFatal = resolve));
  worker.on('error', (e) => {
    if (!isFatalConnectionError(e)) return logError(e);
    void stop('release').finally(() => onFatal(fatalConnectionError(o.target, e)));
  });
  log(`${name}: waiting for trials on ${o.target.shown} (${o.jobs} at once, backend ${backend}, lock ${lockMs} ms)`);
  // An unreachable Redis never acknowledges a close: wait a few seconds for it, then drop the connection.
  const closeWithin = async (closing: Promise<void>) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_WAIT_MS)));
    const how = await Promise.race([closing.then(() => 'closed' as const), late]);
    clearTimeout(timer);
    if (how === 'late') {
      // disconnect() itself waits on a client that keeps reconnecting: start it, do not wait for it.
      log(`${name}: Redis did not answer within ${CLOSE_WAIT_MS / 1000} s; disconnecting`);
      void worker.disconnect().catch(() => undefined);
    }
  };
  const stop = async (mode: 'finish' | 'release') => {
    if (mode === 'release') {
      releasing = true;
      await Promise.all(slots.filter((s) => s.job).map((s) => s.job!.moveToWait(s.token).catch(() => undefined)));
      await Promise.all(slots.map((s) => s.thread.stop()));
      await closeWithin(worker.close(true));
    } else {
      // With a trial running, close() waits for it (that is the point of 'finish'); idle, it should be quick.
      const closing = worker.close();
      await (slots.some((s) => s.job) ? closing : closeWithin(closing));
      await Promise.all(slots.map((s) => s.thread.stop()));
    }
  };
  return { name, fatal, stop };
}

/** What a job processor needs from its worker. */
interface ProcessorContext {
  name: string;
  backend: string;
  slots: Slot[];
  log(line: string): void;
  /** True once the worker is handing its jobs back (second signal). */
  releasing(): boolean;
}

/** The BullMQ processor: refuse what the local runner would refuse, else run the trial on a free thread. */
function makeProcessor({ name, backend, slots, log, releasing }: ProcessorContext) {
  return async (job: Job, token?: string): Promise<TrialJobResult> => {
    let accepted;
    try {
      accepted = acceptJob(job.data);
    } catch (e) {
      if (!(e instanceof JobRejected)) throw e;
      log(`${name}: rejected job ${String(job.id).slice(0, 80)}: ${e.message}`);
      throw new UnrecoverableError(`rejected by ${name}: ${e.message}`);
    }
    const { exp, config, spec } = accepted;
    const slot = takeSlot(slots, job, token);
    log(`${name}: start ${exp.name}/${spec.id} (job ${job.id}, attempt ${job.attemptsMade + 1})`);
    let last = 0;
    try {
      const trial = await slot.thread.run(exp.name, config, spec, (f) => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS) return;
        last = now;
        job.updateProgress({ fraction: f, worker: name }).catch(() => undefined);
      });
      log(`${name}: finished ${exp.name}/${spec.id} in ${(trial.durationMs / 1000).toFixed(1)}s${trial.diverged ? ' (diverged)' : ''}`);
      return { trial, worker: name, backend };
    } catch (e) {
      // Released on shutdown: the job is already back in the waiting list; WaitingError tells BullMQ to leave it there.
      if (releasing()) throw new WaitingError();
      log(`${name}: ${exp.name}/${spec.id} failed: ${(e as Error).message}`);
      throw e;
    } finally {
      slot.job = null;
    }
  };
}
