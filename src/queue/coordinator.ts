// The queue coordinator: a run's trials as BullMQ jobs (deterministic ids), results collected into the local run directory.
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { ExternalPool } from '../lab/runner/run.js';
import type { Task, TaskEvents } from '../lab/runner/pool.js';
import type { ProgressSink } from '../lab/runner/progress.js';
import { bullConnection, connectionErrorLogger, isFatalConnectionError, fatalConnectionError } from './connect.js';
import { QueueError, redactSecrets, type QueueTarget } from './connection.js';
import { JOB_NAME, QUEUE_NAME, checkResult, trialJobData, trialJobId } from './job.js';

/** How the coordinator uses the queue. */
export interface CoordinatorOptions {
  target: QueueTarget;
  /** Where log lines go (the run's progress sink, so they do not garble its bar). */
  progress: ProgressSink;
  /** Attempts per trial before it is recorded as failed (default 3; retries back off 1 s, 2 s, 4 s...). */
  attempts?: number;
  /** Every this many ms every unfinished job's state is read, in case an event was missed (default 2000). */
  sweepMs?: number;
}

/** A trial that failed for good: its task and BullMQ's failure reason (the error the worker saw). */
interface Failure {
  task: Task;
  reason: string;
}

/** Counts per worker, for the progress lines. */
class WorkerTally {
  readonly done = new Map<string, number>();
  readonly running = new Map<string, string>();
  readonly backends = new Set<string>();

  line(failed: number): string {
    const per = [...this.done].map(([w, n]) => `${w} ${n}`).join(', ');
    return `done per worker: ${per || 'none'}; running ${this.running.size}; failed ${failed}`;
  }
}

/** An ExternalPool on a BullMQ queue: pass it as RunnerOptions.pool to runExperiment, runStudy or resume*. */
export function queuePool(o: CoordinatorOptions): ExternalPool {
  const tally = new WorkerTally();
  return {
    backend: () => `BullMQ queue ${QUEUE_NAME} on ${o.target.shown}; workers: ${[...tally.done.keys()].join(', ') || 'none yet'}`
      + `; backend ${[...tally.backends].join('+') || 'unknown'}`,
    run: (tasks, events) => new QueueSession(o, tally, tasks, events).run(),
  };
}

/** One coordinator session: enqueues the tasks, then collects results until every task is done or failed. */
class QueueSession {
  // The queue's own connection, so that it can be dropped when Redis refuses the login (BullMQ's close then waits forever).
  private readonly redis: Redis;
  private readonly queue: Queue;
  private qe: QueueEvents | null = null;
  private readonly byId = new Map<string, Task>();
  private readonly outstanding = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures: Failure[] = [];
  private readonly log: (line: string) => void;
  private readonly onError: (e: Error) => void;
  private wake: () => void = () => undefined;
  private firstSweep = true;
  private fatal: QueueError | null = null;
  private rejectFatal: (e: Error) => void = () => undefined;
  // Rejects on a fatal connection error (refused login, failed TLS check): commands then wait forever, so every await on Redis races this.
  private readonly fatalP = new Promise<never>((_, reject) => (this.rejectFatal = reject));

  constructor(private readonly o: CoordinatorOptions, private readonly tally: WorkerTally, tasks: Task[], private readonly ev: TaskEvents) {
    this.log = (line) => o.progress.log(redactSecrets(line, [o.target.secret]));
    const logError = connectionErrorLogger(o.target, this.log);
    this.onError = (e) => {
      if (isFatalConnectionError(e)) {
        this.fatal ??= fatalConnectionError(o.target, e);
        this.rejectFatal(this.fatal);
        this.wake();
      } else logError(e);
    };
    this.redis = new Redis(bullConnection(o.target));
    this.redis.on('error', this.onError);
    this.queue = new Queue(QUEUE_NAME, { connection: this.redis });
    this.fatalP.catch(() => undefined);
    this.queue.on('error', this.onError);
    for (const task of tasks) {
      const id = trialJobId(task.exp.name, task.config, task.spec.id);
      if (this.byId.has(id)) throw new QueueError(`${task.exp.name}: two trials map to job ${id} (duplicate trial id '${task.spec.id}')`);
      this.byId.set(id, task);
      this.outstanding.add(id);
    }
  }

  async run(): Promise<void> {
    try {
      if (this.outstanding.size === 0) return;
      // Events only once Redis has let us in (a QueueEvents that never connected cannot be closed).
      await Promise.race([this.queue.waitUntilReady(), this.fatalP]);
      this.qe = new QueueEvents(QUEUE_NAME, { connection: bullConnection(this.o.target) });
      this.qe.on('error', this.onError);
      this.listen(this.qe);
      await this.enqueue();
      this.log(`queue: ${this.outstanding.size} trial(s) on ${this.o.target.shown}; start workers with: bnlab worker --queue ${this.o.target.shown}`);
      await this.collect();
    } finally {
      if (this.fatal) this.redis.disconnect();
      await Promise.allSettled([this.qe?.close(), this.queue.close()]);
      this.redis.disconnect();
    }
    if (this.failures.length) {
      const list = this.failures.map((f) => `${f.task.exp.name}/${f.task.spec.id}: ${f.reason}`).join('; ');
      throw new QueueError(`${this.failures.length} trial(s) failed after ${this.attempts()} attempt(s): ${list}. The other trials are saved; `
        + 'fix the cause and continue with --resume DIR --queue URL (failed trials are tried again)');
    }
  }

  private attempts(): number {
    return this.o.attempts ?? 3;
  }

  private listen(qe: QueueEvents): void {
    const mark = ({ jobId }: { jobId: string }) => {
      if (!this.outstanding.has(jobId)) return;
      this.dirty.add(jobId);
      this.wake();
    };
    qe.on('completed', mark);
    qe.on('failed', mark);
    qe.on('progress', ({ jobId, data }) => {
      const task = this.byId.get(jobId);
      const p = data as { fraction?: number; worker?: string } | null;
      if (!task || !this.outstanding.has(jobId) || typeof p?.fraction !== 'number') return;
      if (p.worker) this.tally.running.set(jobId, p.worker);
      this.ev.progress(task, p.fraction);
    });
  }

  /** Adds every job; BullMQ ignores an id it already holds (a resumed or repeated coordinator). Retries while Redis is away. */
  private async enqueue(): Promise<void> {
    const ids = [...this.outstanding];
    for (let i = 0; i < ids.length; ) {
      if (this.fatal) throw this.fatal;
      try {
        await Promise.race([this.add(ids[i]), this.fatalP]);
        i++;
      } catch (e) {
        if (this.fatal) throw this.fatal;
        this.onError(e as Error);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private add(id: string): Promise<Job> {
    const t = this.byId.get(id)!;
    return this.queue.add(JOB_NAME, trialJobData(t.exp, t.config, t.spec), {
      jobId: id,
      attempts: this.attempts(),
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: false,
      removeOnFail: false,
    });
  }

  private async collect(): Promise<void> {
    let lastSweep = 0;
    while (this.outstanding.size > 0) {
      if (this.fatal) throw this.fatal;
      const sweepMs = this.o.sweepMs ?? 2000;
      const sweep = this.firstSweep || Date.now() - lastSweep >= sweepMs;
      const ids = sweep ? [...this.outstanding] : [...this.dirty];
      this.dirty.clear();
      try {
        for (const id of ids) if (this.outstanding.has(id)) await Promise.race([this.check(id), this.fatalP]);
        if (sweep) lastSweep = Date.now();
        this.firstSweep = false;
      } catch (e) {
        if (this.fatal) throw this.fatal;
        for (const id of ids) if (this.outstanding.has(id)) this.dirty.add(id);
        this.onError(e as Error);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (this.outstanding.size === 0 || this.dirty.size > 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sweepMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = () => undefined;
    }
  }

  /** Reads one job's state and acts on it: journal a result, record or retry a failure, re-add a lost job. */
  private async check(id: string): Promise<void> {
    const state = await this.queue.getJobState(id);
    const task = this.byId.get(id)!;
    const where = `${task.exp.name}/${task.spec.id}`;
    if (state === 'completed') {
      const job = await Job.fromId(this.queue, id);
      if (!job) return;
      const r = checkResult(job.returnvalue, task.spec.id);
      this.ev.done(task, r.trial);
      this.outstanding.delete(id);
      this.tally.running.delete(id);
      this.tally.done.set(r.worker, (this.tally.done.get(r.worker) ?? 0) + 1);
      this.tally.backends.add(r.backend);
      this.log(`${where} done on ${r.worker} (${(r.trial.durationMs / 1000).toFixed(1)}s); ${this.tally.line(this.failures.length)}`);
      // The journal (fsync'd in done) is now the store; the job is only a copy.
      await job.remove().catch(() => undefined);
    } else if (state === 'failed') {
      const job = await Job.fromId(this.queue, id);
      const reason = job?.failedReason ?? 'unknown reason';
      if (this.firstSweep && job) {
        this.log(`${where} had failed in an earlier session (${reason}); trying it again`);
        await job.retry('failed');
        return;
      }
      this.outstanding.delete(id);
      this.tally.running.delete(id);
      this.failures.push({ task, reason });
      this.log(`${where} FAILED: ${reason}; ${this.tally.line(this.failures.length)}`);
    } else if (state === 'unknown') {
      // Gone from Redis (restarted without its data, or removed by hand): enqueue it again.
      this.log(`${where}: its job ${id} is no longer in Redis; enqueuing it again`);
      await this.add(id);
    }
  }
}
