// Worker-thread entry of the runner: runs trials it is sent, one at a time, and posts progress and results back.
import { parentPort, workerData } from 'node:worker_threads';
import { kernels } from '../../kernels/select.js';
import { BnlabError } from '../../tensor/errors.js';
import type { BaseConfig, TrialSpec } from '../experiment.js';
import { EXPERIMENTS, isExperimentName } from '../registry.js';
import { executeTrial } from './trial.js';

/** main -> worker: run this trial. */
export interface TrialRequest {
  type: 'trial';
  experiment: string;
  config: BaseConfig;
  spec: TrialSpec;
  /** Save the trial's model under this run directory (--save-weights). */
  weightsDir?: string;
}

/** worker -> main. */
export type WorkerMessage =
  | { type: 'progress'; id: string; fraction: number }
  | { type: 'done'; id: string; trial: import('../results.js').Trial }
  | { type: 'error'; id: string; error: { name: string; message: string; stack?: string; bnlab: boolean } };

/** Data every worker starts with. */
export interface WorkerInit {
  /** BLAS threads for this worker (jobs x threads <= cores). */
  threads: number;
}

// Progress messages are throttled: a trial calls progress every step, the main thread needs a few a second.
const PROGRESS_EVERY_MS = 200;

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('lab/runner/worker.ts must run in a worker thread');
  const init = workerData as WorkerInit;
  kernels().setThreads(init.threads);
  port.on('message', (req: TrialRequest) => {
    const { spec } = req;
    let last = 0;
    try {
      if (!isExperimentName(req.experiment)) throw new BnlabError(`unknown experiment '${req.experiment}'`);
      const exp = EXPERIMENTS[req.experiment];
      const trial = executeTrial(exp, spec, req.config, (fraction) => {
        const now = performance.now();
        if (now - last < PROGRESS_EVERY_MS) return;
        last = now;
        port.postMessage({ type: 'progress', id: spec.id, fraction } satisfies WorkerMessage);
      }, req.weightsDir);
      port.postMessage({ type: 'done', id: spec.id, trial } satisfies WorkerMessage);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const error = { name: err.name, message: err.message, stack: err.stack, bnlab: err instanceof BnlabError };
      port.postMessage({ type: 'error', id: spec.id, error } satisfies WorkerMessage);
    }
  });
}

main();
