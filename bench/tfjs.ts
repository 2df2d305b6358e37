// W1, W2 and GEMM of bench/workloads.ts in TF.js 4.22 on its wasm backend (XNNPACK, one thread): a child of run.ts.
/*
 * Usage (after npm run build):
 *   node dist/bench/tfjs.js --serve                  ready line, then reads {"id","iters"} lines, answers {"id","ms"}
 *   node dist/bench/tfjs.js W2 [--reps 5] [--api layers|ops]   one-shot timing, prints {"id", "ms": [per-rep ms]}
 *   node dist/bench/tfjs.js --memory W2 --iters N --max-ms MS  peak resident memory (see bench/README.md)
 * The wasm binaries are read from node_modules/@tensorflow/tfjs-backend-wasm/dist, never fetched.
 * W1 is built with tf.layers and W2 with tf ops by default, as the README's TF.js column was measured (--api overrides).
 * It runs in its own process so that its wasm heap and timings never mix with bnlab's.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import { peakRun } from './peak.js';

type Tf = typeof TfCore;
type Tfl = typeof TfLayers;
type Api = 'layers' | 'ops';

/** Workloads TF.js runs here; W3 cannot train on the wasm backend (no Conv2DBackpropFilter kernel). */
const TFJS_WORKLOADS = ['W1', 'W2', 'GEMM'] as const;
const DEFAULT_API: Record<string, Api> = { W1: 'layers', W2: 'ops' };

// The protocol owns stdout; a library's console.log goes to stderr.
const out = (obj: unknown): void => void process.stdout.write(JSON.stringify(obj) + '\n');
console.log = (...a: unknown[]) => console.error(...a);

/** Loads tfjs-core, -layers and the wasm backend with one thread and the local .wasm files. */
async function loadTf(): Promise<{ tf: Tf; tfl: Tfl; info: Record<string, unknown> }> {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const tfl = await import('@tensorflow/tfjs-layers');
  const require = createRequire(import.meta.url);
  const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  wasm.setWasmPaths(dist);
  // In Node the backend never takes its threaded build (WASM_HAS_MULTITHREAD_SUPPORT is false); 1 pins XNNPACK's pool.
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error(`tf.setBackend('wasm') failed (wasm files in ${dist})`);
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { tf, tfl, info: { tfjs: tf.version_core, backend: tf.getBackend(), threads: wasm.getThreadsCount(), simd } };
}

/** Class labels 0..9 from a small LCG (values are irrelevant to timing, only shapes are). */
function labels(n: number, seed: number): Int32Array {
  const y = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    y[i] = s % 10;
  }
  return y;
}

/** PyTorch's default Linear init, U(-1/sqrt(fanIn), 1/sqrt(fanIn)), for weight [fanIn, fanOut] and bias. */
function linear(tf: Tf, fanIn: number, fanOut: number, seed: number): [TfCore.Variable, TfCore.Variable] {
  const b = 1 / Math.sqrt(fanIn);
  return [tf.variable(tf.randomUniform([fanIn, fanOut], -b, b, 'float32', seed)), tf.variable(tf.randomUniform([fanOut], -b, b, 'float32',
    seed + 1))];
}

/**
 * Linear -> BN -> act per hidden layer, then a Linear head, as tf ops: tf.moments for the batch statistics,
 * tf.batchNorm (its gradient flows into the mean and variance too), running statistics updated PyTorch's way.
 */
function mlpOps(tf: Tf, widths: number[], act: 'relu' | 'sigmoid'): (x: TfCore.Tensor) => TfCore.Tensor {
  const eps = 1e-5;
  const momentum = 0.1;
  const hidden = widths.slice(1, -1).map((w, i) => ({
    lin: linear(tf, widths[i], w, 10 * i),
    gamma: tf.variable(tf.ones([w])),
    beta: tf.variable(tf.zeros([w])),
    runningMean: tf.variable(tf.zeros([w]), false),
    runningVar: tf.variable(tf.ones([w]), false),
  }));
  const head = linear(tf, widths[widths.length - 2], widths[widths.length - 1], 99);
  return (x) => {
    let h = x;
    for (const l of hidden) {
      const z = tf.add(tf.matMul(h, l.lin[0]), l.lin[1]);
      const { mean, variance } = tf.moments(z, 0);
      const m = z.shape[0];
      l.runningMean.assign(tf.add(tf.mul(l.runningMean, 1 - momentum), tf.mul(mean, momentum)));
      l.runningVar.assign(tf.add(tf.mul(l.runningVar, 1 - momentum), tf.mul(variance, (momentum * m) / (m - 1))));
      const y = tf.batchNorm(z, mean, variance, l.beta, l.gamma, eps);
      h = act === 'relu' ? tf.relu(y) : tf.sigmoid(y);
    }
    return tf.add(tf.matMul(h, head[0]), head[1]);
  };
}

/** The same net with tf.layers (dense, batchNormalization with PyTorch's momentum and eps, activation). */
function mlpLayers(tfl: Tfl, widths: number[], act: 'relu' | 'sigmoid'): TfLayers.Sequential {
  const model = tfl.sequential();
  for (let i = 1; i + 1 < widths.length; i++) {
    model.add(tfl.layers.dense(i === 1 ? { units: widths[i], inputShape: [widths[0]] } : { units: widths[i] }));
    model.add(tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }));
    model.add(tfl.layers.activation({ activation: act }));
  }
  model.add(tfl.layers.dense({ units: widths[widths.length - 1] }));
  return model;
}

/** One SGD step on a fixed batch: forward in training mode, softmax cross-entropy (mean), backward, update. */
function trainStep(tf: Tf, tfl: Tfl, api: Api, spec: { widths: number[]; act: 'relu' | 'sigmoid'; batch: number; lr: number;
  seed: number }): () => void {
  const x = tf.randomUniform([spec.batch, spec.widths[0]], 0, 1, 'float32', spec.seed);
  const y = tf.oneHot(tf.tensor1d(labels(spec.batch, spec.seed), 'int32'), 10);
  const opt = tf.train.sgd(spec.lr);
  let forward: (x: TfCore.Tensor) => TfCore.Tensor;
  let vars: TfCore.Variable[];
  if (api === 'layers') {
    const model = mlpLayers(tfl, spec.widths, spec.act);
    forward = (t) => model.apply(t, { training: true }) as TfCore.Tensor;
    vars = model.trainableWeights.map((w) => w.read() as TfCore.Variable);
  } else {
    const before = new Set(Object.keys(tf.engine().registeredVariables));
    forward = mlpOps(tf, spec.widths, spec.act);
    vars = Object.entries(tf.engine().registeredVariables).filter(([k, v]) => !before.has(k) && v.trainable).map(([, v]) => v);
  }
  const loss = (): TfCore.Scalar => tf.losses.softmaxCrossEntropy(y, forward(x)) as TfCore.Scalar;
  return () => tf.tidy(() => void opt.minimize(loss, false, vars));
}

/** Builds one iteration of workload `id` (W1, W2, GEMM). */
function build(tf: Tf, tfl: Tfl, id: string, api?: Api): () => void {
  const a = api ?? DEFAULT_API[id] ?? 'ops';
  if (id === 'W1') return trainStep(tf, tfl, a, { widths: [784, 100, 100, 100, 10], act: 'sigmoid', batch: 60, lr: 0.5, seed: 1 });
  if (id === 'W2') return trainStep(tf, tfl, a, { widths: [784, 256, 256, 256, 10], act: 'relu', batch: 128, lr: 0.1, seed: 2 });
  if (id === 'GEMM') {
    const p = tf.randomNormal([256, 784], 0, 1, 'float32', 6);
    const q = tf.randomNormal([784, 256], 0, 1, 'float32', 7);
    return () => tf.matMul(p, q).dispose();
  }
  throw new Error(`TF.js: no ${id} here (it runs ${TFJS_WORKLOADS.join(', ')})`);
}

/** Milliseconds per iteration over `iters` iterations; one read of a tensor count at the end is negligible. */
function timeIters(tf: Tf, step: () => void, iters: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) step();
  tf.memory(); // wasm kernels run synchronously; nothing is pending when the loop ends
  return (performance.now() - t0) / iters;
}

async function serve(tf: Tf, tfl: Tfl, info: Record<string, unknown>): Promise<void> {
  const cache = new Map<string, () => void>();
  out({ ready: true, ...info, workloads: TFJS_WORKLOADS, apis: { ...DEFAULT_API } });
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const req = JSON.parse(line) as { id: string; iters?: number; api?: Api };
    try {
      const key = `${req.id}:${req.api ?? ''}`;
      if (!cache.has(key)) cache.set(key, build(tf, tfl, req.id, req.api));
      out({ id: req.id, ms: timeIters(tf, cache.get(key)!, req.iters ?? 1) });
    } catch (err) {
      out({ id: req.id, error: (err as Error).message.split('\n')[0] });
    }
  }
}

/** Peak RSS of `iters` iterations (stopping early past maxMs once 20 have run), against the baseline after loading. */
async function memory(tf: Tf, tfl: Tfl, info: Record<string, unknown>, id: string, iters: number, maxMs: number): Promise<void> {
  const run = await peakRun(() => build(tf, tfl, id), iters, maxMs);
  out({ id, side: 'tfjs', ...info, ...run, tensors: tf.memory().numTensors });
}

async function main(argv: string[]): Promise<void> {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  let loaded;
  try {
    loaded = await loadTf();
  } catch (err) {
    out({ error: `TF.js wasm did not load: ${(err as Error).message.split('\n')[0]}` });
    process.exitCode = 1;
    return;
  }
  const { tf, tfl, info } = loaded;
  if (argv.includes('--serve')) return serve(tf, tfl, info);
  const mem = flag('--memory');
  if (mem) return memory(tf, tfl, info, mem, Number(flag('--iters') ?? 500), Number(flag('--max-ms') ?? 3000));
  const id = argv.find((a) => !a.startsWith('--') && /^[A-Z]/i.test(a))?.toUpperCase() ?? 'W1';
  const api = flag('--api') as Api | undefined;
  const step = build(tf, tfl, id, api);
  const warm = performance.now();
  while (performance.now() - warm < 1000) step();
  const iters = Math.max(1, Math.round(200 / timeIters(tf, step, 3)));
  const ms = Array.from({ length: Number(flag('--reps') ?? 5) }, () => timeIters(tf, step, iters));
  out({ id, api: api ?? DEFAULT_API[id] ?? 'ops', ...info, iters, ms, median_ms: [...ms].sort((p, q) => p - q)[ms.length >> 1] });
}

await main(process.argv.slice(2));
