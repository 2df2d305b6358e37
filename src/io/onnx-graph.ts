// A small ONNX graph builder over onnx-proto's generated classes: nodes, float/int64 initializers, typed attributes.
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';

/** onnx-proto's generated classes (a CommonJS package: its namespace is a property of the default import). */
export const onnx = onnxProto.onnx;
/** The protobuf message interfaces (IModelProto, INodeProto, ...). */
export type { P as OnnxTypes };

/** An attribute value, tagged because ONNX tells an int from a float (3 vs 3.0) and JavaScript does not. */
export type Attr = { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

const T = onnx.AttributeProto.AttributeType;

function attribute(name: string, a: Attr): P.IAttributeProto {
  if ('int' in a) return { name, type: T.INT, i: a.int };
  if ('float' in a) return { name, type: T.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: T.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: T.FLOATS, floats: a.floats };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.string) };
}

/** Little-endian bytes of a float32 array (ONNX raw_data is little-endian whatever the host). */
function floatBytes(data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 * data.length);
  const v = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i], true);
  return out;
}

function int64Bytes(data: readonly number[]): Uint8Array {
  const out = new Uint8Array(8 * data.length);
  const v = new DataView(out.buffer);
  data.forEach((d, i) => v.setBigInt64(8 * i, BigInt(d), true));
  return out;
}

/**
 * Collects the nodes and initializers of one graph. Names are made unique from a prefix (the module's path in
 * the model, so a node in the exported file points back to the layer it came from).
 */
export class GraphBuilder {
  readonly nodes: P.INodeProto[] = [];
  readonly initializers: P.ITensorProto[] = [];
  private readonly used = new Set<string>();

  /** A fresh value name from a prefix: 'fc1.weight', then 'fc1.weight_1', ... */
  fresh(prefix: string): string {
    let name = prefix;
    for (let i = 1; this.used.has(name); i++) name = `${prefix}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name given from outside (the graph input). */
  reserve(name: string): string {
    this.used.add(name);
    return name;
  }

  /** A float32 initializer; returns its value name. */
  floats(name: string, data: ArrayLike<number>, dims: readonly number[]): string {
    const n = this.fresh(name);
    this.initializers.push({ name: n, dataType: onnx.TensorProto.DataType.FLOAT, dims: [...dims], rawData: floatBytes(data) });
    return n;
  }

  /** An int64 initializer (shapes for Reshape); returns its value name. */
  int64s(name: string, data: readonly number[]): string {
    const n = this.fresh(name);
    this.initializers.push({ name: n, dataType: onnx.TensorProto.DataType.INT64, dims: [data.length], rawData: int64Bytes(data) });
    return n;
  }

  /** Adds a node with one output; returns the output's name. Empty strings in inputs mark omitted optional inputs. */
  node(op: string, inputs: string[], where: string, attrs: Record<string, Attr> = {}): string {
    const out = this.fresh(`${where}.${op}`);
    const attribute_ = Object.entries(attrs).map(([k, a]) => attribute(k, a));
    this.nodes.push({ opType: op, name: out, input: inputs, output: [out], attribute: attribute_ });
    return out;
  }
}

/** A float32 tensor value's type with a symbolic batch dimension 'N' (batch-size-independent graphs). */
export function valueInfo(name: string, shape: readonly number[], dynamicBatch: boolean): P.IValueInfoProto {
  const dim = shape.map((d, i) => (i === 0 && dynamicBatch ? { dimParam: 'N' } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } } };
}
