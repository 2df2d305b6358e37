// A trial-running thread for the queue worker: the lab runner's worker-thread script, kept alive across jobs so datasets stay loaded.
import { Worker } from 'node:worker_threads';
import type { BaseConfig, TrialSpec } from '../lab/experiment.js';
import type { Trial } from '../lab/results.js';
import { workerScript } from '../lab/runner/pool.js';
import type { TrialRequest, WorkerInit, WorkerMessage } from '../lab/runner/worker.js';

/** A trial that threw inside the thread: the message (and whether it was a bnlab error a user can cause). */
export class TrialFailed extends Error {
  constructor(message: string, readonly bnlab: boolean) {
    super(message);
    this.name = 'TrialFailed';
  }
}

/**
 * One worker thread running one trial at a time. Trials are long synchronous loops: run here, off the main
 * thread, they leave the event loop free to renew BullMQ's job locks, so a busy worker is never taken for a dead one.
 */
export class TrialThread {
  private worker: Worker | null = null;
  private pending: { resolve(t: Trial): void; reject(e: Error): void; progress(f: number): void } | null = null;

  constructor(private readonly threads: number) {}

  private start(): Worker {
    const w = new Worker(workerScript(), { workerData: { threads: this.threads } satisfies WorkerInit });
    w.on('message', (m: WorkerMessage) => {
      const p = this.pending;
      if (!p) return;
      if (m.type === 'progress') return p.progress(m.fraction);
      this.pending = null;
      if (m.type === 'done') p.resolve(m.trial);
      else p.reject(new TrialFailed(m.error.message, m.error.bnlab));
    });
    const lost = (why: string) => {
      this.worker = null;
      const p = this.pending;
      this.pending = null;
      p?.reject(new TrialFailed(why, false));
    };
    w.on('error', (e) => lost(`the trial thread crashed: ${e.message}`));
    w.on('exit', (code) => lost(`the trial thread exited (code ${code})`));
    return w;
  }

  /** Runs one trial; rejects with TrialFailed if it throws or the thread dies. */
  run(experiment: string, config: BaseConfig, spec: TrialSpec, progress: (fraction: number) => void): Promise<Trial> {
    if (this.pending) return Promise.reject(new Error('TrialThread.run: a trial is already running on this thread'));
    this.worker ??= this.start();
    const w = this.worker;
    return new Promise<Trial>((resolve, reject) => {
      this.pending = { resolve, reject, progress };
      w.postMessage({ type: 'trial', experiment, config, spec } satisfies TrialRequest);
    });
  }

  /** Stops the thread (a running trial is abandoned and its run() rejects). */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
