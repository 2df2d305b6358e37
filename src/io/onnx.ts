// ONNX export (browser-safe): a bnlab model in eval mode as an inference graph, one rule per module kind.
import { ReLUMaxPool2d } from '../nn/fused.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { Conv2d, Linear } from '../nn/layers.js';
import { AdaptiveAvgPool2d, AvgPool2d, Dropout, Flatten, Identity, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh } from '../nn/activation.js';
import { ResidualBase } from '../nn/residual.js';
import { ResNet } from '../nn/models.js';
import { BatchNormBase } from '../nn/norm/batchnorm.js';
import { GroupNorm, LayerNorm } from '../nn/norm/layernorm.js';
import { deepCopyModule, foldBatchNorm } from '../nn/norm/fold.js';
import { Tensor, numel } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import { ArgumentError, BnlabError, fmtShape } from '../tensor/errors.js';
import { noGrad } from '../autograd/grad-mode.js';
import { ExportError } from './errors.js';
import { GraphBuilder, onnx, valueInfo, type OnnxTypes } from './onnx-graph.js';

/** Options of exportOnnx. */
export interface OnnxExportOptions {
  /** The input's shape, batch dimension first: [1, 784] for an MLP, [1, 1, 28, 28] for a CNN. */
  inputShape: readonly number[];
  /** Fold every BatchNorm into the Linear/Conv2d before it first (see foldBatchNorm). Default false. */
  foldBn?: boolean;
  /** Opset of the default ONNX domain, 15 to 21. Default 17 (the first with LayerNormalization). */
  opset?: number;
  /** Name the batch dimension 'N' so the graph runs on any batch size. Default true. */
  dynamicBatch?: boolean;
}

/** Module kinds the exporter knows, for error messages. */
export const ONNX_EXPORTABLE = [
  'Sequential', 'Linear', 'Conv2d', 'BatchNorm1d', 'BatchNorm2d', 'BatchRenorm1d', 'BatchRenorm2d', 'ReLU', 'Sigmoid', 'Tanh', 'Softmax',
  'MaxPool2d', 'AvgPool2d', 'AdaptiveAvgPool2d', 'Flatten', 'Dropout', 'Identity', 'LayerNorm', 'GroupNorm', 'Residual', 'BasicBlock', 'ResNet',
] as const;

/** The IR version each opset first shipped with (onnx 1.10 .. 1.16); onnxruntime reads all of them. */
const IR_VERSION: Record<number, number> = { 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

/** A value flowing through the graph: its name, and bnlab's own output for it on a zero input (for shapes). */
interface Value {
  name: string;
  probe: Tensor;
}

interface Ctx {
  g: GraphBuilder;
  opset: number;
}

const join = (path: string, name: string) => (path ? `${path}.${name}` : name);
const ints = (v: number[]) => ({ ints: v });

/**
 * An ONNX model (bytes of a ModelProto) computing `model` in eval mode: input 'input' of `inputShape`, output
 * 'output'. Linear -> Gemm (transB=1), Conv2d -> Conv, BatchNorm1d/2d ->
 * BatchNormalization with the running statistics (epsilon = eps, momentum = 1 - PyTorch momentum), ReLU / Sigmoid /
 * Tanh / Softmax, MaxPool2d -> MaxPool, AvgPool2d -> AveragePool (count_include_pad=1, PyTorch's default), Flatten
 * -> Flatten or Reshape, Dropout and pass-through layers -> nothing (identity in eval), LayerNorm ->
 * LayerNormalization (opset >= 17; decomposed into ReduceMean/Sub/Mul/Sqrt/Div below), GroupNorm -> Reshape to
 * (N, G, -1), InstanceNormalization, Reshape back, per-channel Mul/Add (GroupNormalization's per-channel form needs
 * opset 21), AdaptiveAvgPool2d(1) -> GlobalAveragePool, Residual / BasicBlock -> their branch and shortcut layers,
 * Mul by alpha (SkipInit), Add, Relu; ResNet -> its layers in order. The model itself is not changed (foldBn folds
 * only BNs of a Sequential, so not those inside residual blocks). A module without a rule throws an ExportError naming it and its path.
 */
export function exportOnnx(model: Module, opts: OnnxExportOptions): Uint8Array {
  if (!(model instanceof Module)) throw new ArgumentError(`exportOnnx: expected a Module, got ${String(model)}`);
  const shape = opts?.inputShape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ArgumentError(`exportOnnx: inputShape must be a non-empty list of positive integers (batch first), got ${JSON.stringify(shape)}`);
  }
  const opset = opts.opset ?? 17;
  if (!(opset in IR_VERSION)) throw new ArgumentError(`exportOnnx: opset must be an integer from 15 to 21, got ${String(opts.opset)}`);
  const dynamicBatch = opts.dynamicBatch ?? true;
  const m = opts.foldBn ? foldBatchNorm(model) : deepCopyModule(model).eval();
  const g = new GraphBuilder();
  const input: Value = { name: g.reserve('input'), probe: zeros(shape) };
  const out = noGrad(() => emit({ g, opset }, m, '', input));
  const last = g.nodes.find((n) => n.output![0] === out.name);
  if (last) last.output = ['output'];
  else g.nodes.push({ opType: 'Identity', name: 'output', input: [out.name], output: ['output'] });
  const graph: OnnxTypes.IGraphProto = {
    name: 'bnlab',
    node: g.nodes,
    initializer: g.initializers,
    input: [valueInfo('input', shape, dynamicBatch)],
    output: [valueInfo('output', out.probe.shape, dynamicBatch)],
  };
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION[opset],
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'bnlab',
    docString: opts.foldBn ? 'BatchNorm folded into the preceding Linear/Conv' : '',
    graph,
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** The graph for one module at `path`: containers recurse, layers go to their rule. */
function emit(ctx: Ctx, m: Module, path: string, x: Value): Value {
  if (m instanceof Sequential) {
    let v = x;
    m.layers.forEach((child, i) => (v = emit(ctx, child, join(path, String(i)), v)));
    return v;
  }
  if (m instanceof ResNet) return chain(ctx, m.namedLayers(), path, x);
  if (m instanceof ResidualBase) return residual(ctx, m, path, x);
  // Dropout returns its input in eval mode; so do Identity and its subclasses (the lab's Tap, a probe) unless told.
  if (m.constructor === Dropout) return x;
  const where = path || m.constructor.name;
  if (m instanceof Identity) return passThrough(m, where, x);
  // The rule first: its own error (no rule, no running statistics) says more than a shape complaint.
  const name = rule(ctx, m, where, x);
  let probe: Tensor;
  try {
    probe = m.forward(x.probe);
  } catch (e) {
    if (!(e instanceof BnlabError)) throw e;
    throw new ExportError(`exportOnnx: ${m.constructor.name} at '${where}' rejects its input of shape ${fmtShape(x.probe.shape)} (check ` +
      `inputShape): ${e.message}`);
  }
  return { name, probe };
}

/**
 * An Identity or a subclass emits nothing, provided it returns its input: an enabled probe may apply a layer that
 * was fused across it (the lab's Tap under fuseBatchNormAct's lookPast), which the graph would silently lose.
 */
function passThrough(m: Identity, where: string, x: Value): Value {
  if (m.forward(x.probe) === x.probe) return x;
  throw new ExportError(`exportOnnx: ${m.constructor.name} at '${where}' does not return its input (an enabled probe?); disable it before exporting`);
}

/** Named layers applied in order, each at path.name; the input itself for an empty list. */
function chain(ctx: Ctx, layers: [string, Module][], path: string, x: Value): Value {
  let v = x;
  for (const [name, child] of layers) v = emit(ctx, child, join(path, name), v);
  return v;
}

/** y = act(alpha * branch(x) + shortcut(x)): the two chains, a Mul by alpha (SkipInit), Add, then Relu. */
function residual(ctx: Ctx, m: ResidualBase, path: string, x: Value): Value {
  const { g } = ctx;
  const where = path || m.constructor.name;
  let b = chain(ctx, m.namedBranch(), path, x).name;
  const s = chain(ctx, m.namedShortcut(), path, x).name;
  if (m.alpha !== null) b = g.node('Mul', [b, g.floats(`${where}.alpha`, m.alpha.data, m.alpha.shape)], where);
  let y = g.node('Add', [b, s], where);
  if (m.act === 'relu') y = g.node('Relu', [y], where);
  return { name: y, probe: m.forward(x.probe) };
}

/** y, then the activation fuseBatchNormAct fused into the layer that made it (none: y itself). */
function withAct(g: GraphBuilder, act: 'relu' | 'sigmoid' | null, where: string, y: string): string {
  return act === 'relu' ? g.node('Relu', [y], where) : act === 'sigmoid' ? g.node('Sigmoid', [y], where) : y;
}

/** The nodes for one layer; returns the output value's name. */
function rule(ctx: Ctx, m: Module, where: string, x: Value): string {
  const { g } = ctx;
  const c = m.constructor;
  if (c === Linear) return linear(g, m as Linear, where, x.name);
  if (c === Conv2d) return conv(g, m as Conv2d, where, x.name);
  if (m instanceof BatchNormBase && m.forward === BatchNormBase.prototype.forward) return withAct(g, m.act, where, batchNorm(g, m, where, x.name));
  if (c === ReLUMaxPool2d) {
    const f = m as ReLUMaxPool2d;
    return pool(g, new MaxPool2d(f.kernelSize, f.opts), where, g.node('Relu', [x.name], where));
  }
  if (c === ReLU) return g.node('Relu', [x.name], where);
  if (c === Sigmoid) return g.node('Sigmoid', [x.name], where);
  if (c === Tanh) return g.node('Tanh', [x.name], where);
  if (c === Softmax) return g.node('Softmax', [x.name], where, { axis: { int: (m as Softmax).dim } });
  if (c === MaxPool2d || c === AvgPool2d) return pool(g, m as MaxPool2d | AvgPool2d, where, x.name);
  if (c === Flatten) return flatten(g, m as Flatten, where, x);
  if (c === AdaptiveAvgPool2d) return g.node('GlobalAveragePool', [x.name], where);
  if (c === LayerNorm) return layerNorm(ctx, m as LayerNorm, where, x);
  if (c === GroupNorm) return groupNorm(g, m as GroupNorm, where, x);
  const kids = m.children().length ? ` (a container of ${m.children().length} modules; only Sequential is unrolled)` : '';
  throw new ExportError(`exportOnnx: ${c.name} at '${where}' has no ONNX rule${kids}; exportable: ${ONNX_EXPORTABLE.join(', ')}`);
}

/** y = x W^T + b as Gemm(transB=1): bnlab's Linear takes (N, in) only, which is Gemm's 2-D input. */
function linear(g: GraphBuilder, m: Linear, where: string, x: string): string {
  const w = g.floats(`${where}.weight`, m.weight.data, m.weight.shape);
  const inputs = m.bias ? [x, w, g.floats(`${where}.bias`, m.bias.data, m.bias.shape)] : [x, w];
  return g.node('Gemm', inputs, where, { transB: { int: 1 } });
}

function conv(g: GraphBuilder, m: Conv2d, where: string, x: string): string {
  const w = g.floats(`${where}.weight`, m.weight.data, m.weight.shape);
  const inputs = m.bias ? [x, w, g.floats(`${where}.bias`, m.bias.data, m.bias.shape)] : [x, w];
  const k = m.kernelSize;
  const p = m.padding;
  return g.node('Conv', inputs, where, {
    kernel_shape: ints([k, k]), strides: ints([m.stride, m.stride]), pads: ints([p, p, p, p]), dilations: ints([1, 1]), group: { int: 1 },
  });
}

/** Eval BN as ONNX's inference BatchNormalization: scale and B default to ones and zeros without affine. */
function batchNorm(g: GraphBuilder, m: BatchNormBase, where: string, x: string): string {
  if (m.runningMean === null || m.runningVar === null) {
    throw new ExportError(`exportOnnx: ${m.constructor.name} at '${where}' has no running statistics (trackRunningStats false): in eval it ` +
      `normalizes with batch statistics, which an inference graph cannot express`);
  }
  const C = m.numFeatures;
  const scale = g.floats(`${where}.weight`, m.weight ? m.weight.data : new Float32Array(C).fill(1), [C]);
  const bias = g.floats(`${where}.bias`, m.bias ? m.bias.data : new Float32Array(C), [C]);
  const mean = g.floats(`${where}.running_mean`, m.runningMean.data, [C]);
  const variance = g.floats(`${where}.running_var`, m.runningVar.data, [C]);
  const attrs = { epsilon: { float: m.eps }, momentum: { float: 1 - (m.momentum ?? 0.1) } };
  return g.node('BatchNormalization', [x, scale, bias, mean, variance], where, attrs);
}

function pool(g: GraphBuilder, m: MaxPool2d | AvgPool2d, where: string, x: string): string {
  const k = m.kernelSize;
  const s = m.opts.stride ?? k;
  const p = m.opts.padding ?? 0;
  const attrs = { kernel_shape: ints([k, k]), strides: ints([s, s]), pads: ints([p, p, p, p]) };
  if (m instanceof MaxPool2d) return g.node('MaxPool', [x], where, attrs);
  return g.node('AveragePool', [x], where, { ...attrs, count_include_pad: { int: 1 } });
}

/** ONNX Flatten (axis = startDim) when the flattened span runs to the last dim and keeps the batch; else Reshape. */
function flatten(g: GraphBuilder, m: Flatten, where: string, x: Value): string {
  const r = x.probe.ndim;
  const a = m.startDim < 0 ? m.startDim + r : m.startDim;
  const b = m.endDim < 0 ? m.endDim + r : m.endDim;
  if (b === r - 1 && a >= 1) return g.node('Flatten', [x.name], where, { axis: { int: a } });
  // Reshape: 0 copies a leading dim (keeps the batch symbolic), -1 takes the flattened span.
  const target = [...Array.from({ length: a }, () => 0), -1, ...x.probe.shape.slice(b + 1)];
  return g.node('Reshape', [x.name, g.int64s(`${where}.shape`, target)], where);
}

/** LayerNormalization over the last k dims (opset >= 17); below that, mean and biased variance by ReduceMean. */
function layerNorm(ctx: Ctx, m: LayerNorm, where: string, x: Value): string {
  const { g } = ctx;
  const k = m.normalizedShape.length;
  const ns = m.normalizedShape;
  const n = numel(ns);
  if (ctx.opset >= 17) {
    const scale = g.floats(`${where}.weight`, m.weight ? m.weight.data : new Float32Array(n).fill(1), ns);
    const inputs = m.bias ? [x.name, scale, g.floats(`${where}.bias`, m.bias.data, ns)] : [x.name, scale];
    return g.node('LayerNormalization', inputs, where, { axis: { int: -k }, epsilon: { float: m.eps } });
  }
  const axes = { axes: ints(Array.from({ length: k }, (_, i) => i - k)) };
  const d = g.node('Sub', [x.name, g.node('ReduceMean', [x.name], where, axes)], where);
  const variance = g.node('ReduceMean', [g.node('Mul', [d, d], where)], where, axes);
  const std = g.node('Sqrt', [g.node('Add', [variance, g.floats(`${where}.eps`, [m.eps], [])], where)], where);
  let y = g.node('Div', [d, std], where);
  if (m.weight) y = g.node('Mul', [y, g.floats(`${where}.weight`, m.weight.data, ns)], where);
  if (m.bias) y = g.node('Add', [y, g.floats(`${where}.bias`, m.bias.data, ns)], where);
  return y;
}

/** (N, C, ...) -> (N, G, -1), InstanceNormalization per (sample, group), back to (N, C, ...), then weight and bias per channel. */
function groupNorm(g: GraphBuilder, m: GroupNorm, where: string, x: Value): string {
  const G = m.numGroups;
  const C = m.numChannels;
  const rest = x.probe.shape.slice(1);
  if (x.probe.ndim < 2 || rest[0] !== C) {
    throw new ExportError(`exportOnnx: GroupNorm at '${where}' expects (N, ${C}, ...), got ${fmtShape(x.probe.shape)}`);
  }
  const grouped = g.node('Reshape', [x.name, g.int64s(`${where}.groups`, [0, G, -1])], where);
  const ones = g.floats(`${where}.ones`, new Float32Array(G).fill(1), [G]);
  const zero = g.floats(`${where}.zeros`, new Float32Array(G), [G]);
  const normed = g.node('InstanceNormalization', [grouped, ones, zero], where, { epsilon: { float: m.eps } });
  let y = g.node('Reshape', [normed, g.int64s(`${where}.shape`, [0, ...rest])], where);
  // Per-channel parameters shaped (C, 1, ..., 1) so they broadcast over the positions after the channel axis.
  const pshape = [C, ...rest.slice(1).map(() => 1)];
  if (m.weight) y = g.node('Mul', [y, g.floats(`${where}.weight`, m.weight.data, pshape)], where);
  if (m.bias) y = g.node('Add', [y, g.floats(`${where}.bias`, m.bias.data, pshape)], where);
  return y;
}
