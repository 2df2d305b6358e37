// What a weights file holds (browser-safe): tensors, shapes, dtypes, and per-layer BatchNorm statistics with warnings.
import { Tensor } from '../tensor/tensor.js';
import { WeightsFileError } from './errors.js';
import { decodeSafetensors } from './safetensors.js';
import { onnx, type OnnxTypes } from './onnx-graph.js';

/** |gamma| below this counts as 'near 0': the channel is switched off (its output is beta alone). */
export const GAMMA_NEAR_ZERO = 1e-3;
/**
 * running_var below this counts as 'near 0': in eval the channel is multiplied by gamma / sqrt(var + eps), over 95
 * with eps 1e-5, so an input a little off the running mean blows up (the train/eval mismatch of pytorch#5406).
 */
export const VAR_NEAR_ZERO = 1e-4;

export interface TensorSummary {
  name: string;
  dtype: string;
  shape: number[];
  min: number;
  max: number;
  mean: number;
}

/** One BatchNorm layer's running statistics and affine parameters, summarized over its channels. */
export interface BnSummary {
  layer: string;
  channels: number;
  mean: [number, number];
  variance: [number, number];
  gamma: [number, number] | null;
  beta: [number, number] | null;
  /** Channels with |gamma| < GAMMA_NEAR_ZERO. */
  gammaNearZero: number[];
  /** Channels with running_var < VAR_NEAR_ZERO. */
  varNearZero: number[];
  /** max over channels of |gamma| / sqrt(running_var + eps): the largest factor eval BN multiplies an input by. */
  maxGain: number;
  eps: number;
  numBatchesTracked: number | null;
}

export interface Inspection {
  file: string;
  format: 'safetensors' | 'onnx';
  /** Header metadata (safetensors) or producer / opset / inputs / outputs / op counts (ONNX). */
  info: Record<string, string>;
  tensors: TensorSummary[];
  bn: BnSummary[];
}

function range(d: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function summarize(name: string, dtype: string, t: Tensor): TensorSummary {
  const [min, max] = range(t.data);
  let s = 0;
  for (const v of t.data) s += v;
  return { name, dtype, shape: [...t.shape], min, max, mean: t.size ? s / t.size : NaN };
}

/** The BN summary of one layer from its tensors (gamma / beta may be absent: affine false). */
export function bnSummary(
  layer: string,
  p: { mean: Tensor; variance: Tensor; gamma?: Tensor; beta?: Tensor; eps?: number; count?: number },
): BnSummary {
  const eps = p.eps ?? 1e-5;
  const v = p.variance.data;
  const g = p.gamma?.data;
  const gammaNearZero: number[] = [];
  const varNearZero: number[] = [];
  let maxGain = 0;
  for (let c = 0; c < v.length; c++) {
    const gc = g ? g[c] : 1;
    if (Math.abs(gc) < GAMMA_NEAR_ZERO) gammaNearZero.push(c);
    if (v[c] < VAR_NEAR_ZERO) varNearZero.push(c);
    maxGain = Math.max(maxGain, Math.abs(gc) / Math.sqrt(Math.max(v[c], 0) + eps));
  }
  return {
    layer, channels: v.length, mean: range(p.mean.data), variance: range(v), gamma: g ? range(g) : null, beta: p.beta ? range(p.beta.data) : null,
    gammaNearZero, varNearZero, maxGain, eps, numBatchesTracked: p.count ?? null,
  };
}

/**
 * Reads safetensors bytes: every tensor's dtype, shape and value range, and a BnSummary for every layer prefix that
 * has both running_mean and running_var (PyTorch's keys; eps is assumed to be PyTorch's default 1e-5).
 */
export function inspectSafetensors(bytes: Uint8Array, file: string): Inspection {
  const { tensors, dtypes, metadata } = decodeSafetensors(bytes, file);
  const bn: BnSummary[] = [];
  for (const key of Object.keys(tensors)) {
    if (!key.endsWith('running_mean')) continue;
    const prefix = key.slice(0, -'running_mean'.length);
    const variance = tensors[`${prefix}running_var`];
    if (!variance) continue;
    const count = tensors[`${prefix}num_batches_tracked`];
    bn.push(bnSummary(prefix.replace(/\.$/, '') || '(root)', {
      mean: tensors[key], variance, gamma: tensors[`${prefix}weight`], beta: tensors[`${prefix}bias`], count: count?.data[0],
    }));
  }
  const tensorList = Object.entries(tensors).map(([k, t]) => summarize(k, dtypes[k], t));
  return { file, format: 'safetensors', info: metadata ?? {}, tensors: tensorList, bn };
}

const DT = onnx.TensorProto.DataType;

/** An ONNX initializer as float32 (FLOAT and INT64, raw or typed fields); null for other types. */
function initializerData(t: OnnxTypes.ITensorProto): Float32Array | null {
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  if (t.dataType === DT.FLOAT) {
    if (!raw) return Float32Array.from(t.floatData ?? []);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float32Array.from({ length: raw.length / 4 }, (_, i) => v.getFloat32(4 * i, true));
  }
  if (t.dataType === DT.INT64) {
    if (!raw) return Float32Array.from((t.int64Data ?? []).map(Number));
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float32Array.from({ length: raw.length / 8 }, (_, i) => Number(v.getBigInt64(8 * i, true)));
  }
  return null;
}

const dimsText = (vi: OnnxTypes.IValueInfoProto) =>
  `${vi.name} [${(vi.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || String(d.dimValue ?? '?')).join(', ')}]`;

/** Reads an ONNX model: opset, inputs, outputs, op counts, initializers, and a BnSummary per BatchNormalization node. */
export function inspectOnnx(bytes: Uint8Array, file: string): Inspection {
  let model: OnnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new WeightsFileError(file, `is not an ONNX model (protobuf decoding failed: ${(e as Error).message})`);
  }
  const graph = model.graph;
  if (!graph) throw new WeightsFileError(file, 'is not an ONNX model (no graph)');
  const inits = new Map<string, Tensor>();
  const tensors: TensorSummary[] = [];
  for (const t of graph.initializer ?? []) {
    const data = initializerData(t);
    const dims = (t.dims ?? []).map(Number);
    if (data === null || data.length !== dims.reduce((a, b) => a * b, 1)) continue;
    const tensor = new Tensor(data, dims);
    inits.set(t.name ?? '', tensor);
    tensors.push(summarize(t.name ?? '', t.dataType === DT.FLOAT ? 'FLOAT' : 'INT64', tensor));
  }
  const ops: Record<string, number> = {};
  const bn: BnSummary[] = [];
  for (const n of graph.node ?? []) {
    ops[n.opType ?? '?'] = (ops[n.opType ?? '?'] ?? 0) + 1;
    if (n.opType !== 'BatchNormalization') continue;
    const [, gamma, beta, mean, variance] = (n.input ?? []).map((i) => inits.get(i));
    const eps = n.attribute?.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
    if (mean && variance) bn.push(bnSummary(n.name || n.output?.[0] || '?', { mean, variance, gamma, beta, eps }));
  }
  const info = {
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim() || '(unknown)',
    'ir version': String(model.irVersion),
    opset: (model.opsetImport ?? []).map((o) => `${o.domain || 'ai.onnx'} ${String(o.version)}`).join(', '),
    inputs: (graph.input ?? []).map(dimsText).join('; '),
    outputs: (graph.output ?? []).map(dimsText).join('; '),
    nodes: Object.entries(ops).map(([k, v]) => `${k} x${v}`).join(', '),
  };
  return { file, format: 'onnx', info, tensors, bn };
}
