// Where trials execute: inline in this thread (jobs = 1) or on a pool of worker threads running the compiled code.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { kernels } from '../../kernels/select.js';
import { BnlabError } from '../../tensor/errors.js';
import type { BaseConfig, Experiment, TrialSpec } from '../experiment.js';
import type { Trial } from '../results.js';
import { RunError } from './config.js';
import { executeTrial } from './trial.js';
import type { TrialRequest, WorkerInit, WorkerMessage } from './worker.js';

/** One trial to run, with the experiment and config it belongs to. */
export interface Task {
  exp: Experiment<BaseConfig>;
  config: BaseConfig;
  spec: TrialSpec;
  /** The run directory when the run keeps each trial's weights (--save-weights). */
  weightsDir?: string;
}

/** Callbacks of a pool run. `done` is called in this thread, so it may write the journal synchronously. */
export interface TaskEvents {
  progress(task: Task, fraction: number): void;
  done(task: Task, trial: Trial): void;
}

/**
 * The compiled worker script. From dist it sits next to this file; from the TypeScript sources (vitest)
 * it is the build in dist/, since worker threads run JavaScript.
 */
export function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const path = here.endsWith('.js')
    ? fileURLToPath(new URL('./worker.js', import.meta.url))
    : fileURLToPath(new URL('../../../dist/src/lab/runner/worker.js', import.meta.url));
  if (!existsSync(path)) throw new RunError(`the compiled worker ${path} is missing: run \`npm run build\` first, or use --jobs 1`);
  return path;
}

/** Runs tasks in this thread, one after another, yielding to the event loop between trials. */
export async function runInline(tasks: Task[], threads: number, ev: TaskEvents): Promise<void> {
  kernels().setThreads(threads);
  for (const task of tasks) {
    const trial = executeTrial(task.exp, task.spec, task.config, (f) => ev.progress(task, f), task.weightsDir);
    ev.done(task, trial);
    await new Promise((r) => setImmediate(r));
  }
}

function rebuildError(task: Task, e: { name: string; message: string; stack?: string; bnlab: boolean }): Error {
  // Errors a user can cause keep their plain message (the CLI prints `bnlab: message`); bugs keep their stack.
  if (e.bnlab) return new RunError(e.message);
  const err = new Error(`trial ${task.spec.id} of ${task.exp.name} failed in a worker: ${e.message}`);
  if (e.stack) err.stack = `${err.message}\n(worker stack) ${e.stack}`;
  return err;
}

/**
 * Runs tasks on `jobs` worker threads (each with `threads` BLAS threads), handing out the next task as
 * each worker frees up. The first failing trial stops the pool and rejects; finished trials were
 * already passed to `done` (so they are in the journal).
 */
export async function runWorkers(tasks: Task[], jobs: number, threads: number, ev: TaskEvents): Promise<void> {
  if (tasks.length === 0) return;
  const script = workerScript();
  const n = Math.min(jobs, tasks.length);
  const workers: Worker[] = [];
  let next = 0;
  let finished = 0;
  let failed = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        reject(err);
      };
      const give = (w: Worker, current: { task: Task | null }) => {
        if (next >= tasks.length) {
          current.task = null;
          return;
        }
        const task = tasks[next++];
        current.task = task;
        w.postMessage({
          type: 'trial',
          experiment: task.exp.name,
          config: task.config,
          spec: task.spec,
          weightsDir: task.weightsDir,
        } satisfies TrialRequest);
      };
      for (let i = 0; i < n; i++) {
        const w = new Worker(script, { workerData: { threads } satisfies WorkerInit });
        workers.push(w);
        const current: { task: Task | null } = { task: null };
        w.on('message', (m: WorkerMessage) => {
          if (failed || !current.task) return;
          const task = current.task;
          if (m.type === 'progress') {
            ev.progress(task, m.fraction);
          } else if (m.type === 'done') {
            try {
              ev.done(task, m.trial);
            } catch (e) {
              fail(e as Error);
              return;
            }
            finished++;
            if (finished === tasks.length) resolve();
            else give(w, current);
          } else {
            fail(rebuildError(task, m.error));
          }
        });
        w.on('error', (e) => fail(e instanceof BnlabError ? e : new Error(`a runner worker crashed: ${e.message}`, { cause: e })));
        w.on('exit', (code) => {
          if (current.task && !failed) fail(new Error(`a runner worker exited (code ${code}) while running trial ${current.task.spec.id}`));
        });
        give(w, current);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
