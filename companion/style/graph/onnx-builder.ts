// A small typed helper over onnx-proto for writing graphs by hand: it names values, records
// nodes/initializers and serialises the model. Everything the style graphs need and no more.
import { createRequire } from "node:module";
import type * as OnnxProto from "onnx-proto";

// onnx-proto is CommonJS without named ESM exports; require() works both bundled and under vitest.
const { onnx } = createRequire(import.meta.url)("onnx-proto") as typeof OnnxProto;

export const OPSET = 17;
/** Integer, integer list or string attributes: the only kinds these graphs use. */
type Attr = number | number[] | string;
/** A dimension: a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;

export class GraphBuilder {
  private readonly nodes: OnnxProto.onnx.INodeProto[] = [];
  private readonly inits: OnnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: OnnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: OnnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, dims: Dim[], type: "float" | "int64" = "float"): string {
    this.inputs.push(valueInfo(name, dims, type));
    return name;
  }

  output(value: string, name: string, dims: Dim[]): string {
    // Outputs get stable names; an Identity decouples them from internal value names.
    this.op("Identity", [value], {}, name);
    this.outputs.push(valueInfo(name, dims, "float"));
    return name;
  }

  /** A float initializer (weights, constants). */
  floats(prefix: string, dims: number[], data: Float32Array | number[]): string {
    const name = this.fresh(prefix);
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    if (arr.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`initializer ${name}: size mismatch`);
    this.inits.push({
      name,
      dims,
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength),
    });
    return name;
  }

  ints(prefix: string, data: number[]): string {
    const name = this.fresh(prefix);
    const raw = new Uint8Array(new BigInt64Array(data.map((d) => BigInt(d))).buffer);
    this.inits.push({ name, dims: [data.length], dataType: onnx.TensorProto.DataType.INT64, rawData: raw });
    return name;
  }

  scalar(value: number): string {
    return this.floats("c", [], [value]);
  }

  /** Add a node; returns its (first) output name. Pass `outs` > 1 for multi-output ops. */
  op(type: string, ins: string[], attrs: Record<string, Attr> = {}, out?: string, outs = 1): string {
    const outputs = [out ?? this.fresh(type.toLowerCase())];
    for (let i = 1; i < outs; i++) outputs.push(this.fresh(`${type.toLowerCase()}_o${i}`));
    this.nodes.push({
      opType: type,
      input: ins,
      output: outputs,
      name: this.fresh(`n_${type}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    this.lastOutputs = outputs;
    return outputs[0];
  }

  /** All outputs of the last op (for MaxPool's indices). */
  lastOutputs: string[] = [];

  encode(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: "stylize",
      opsetImport: [{ domain: "", version: OPSET }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: Dim[], type: "float" | "int64"): OnnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: type === "float" ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: Attr): OnnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (!Number.isInteger(v)) throw new Error(`attribute ${name}: only integer attributes are supported`);
  return { name, type: T.INT, i: v };
}
