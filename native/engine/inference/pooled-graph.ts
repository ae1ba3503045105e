/**
 * Pooling inside the graph, for GPU sessions: the encoder's model with one more output,
 * `tandem_pooled` [batch, hidden], the mean of `last_hidden_state` over the attention mask
 * (or its first token for CLS pooling). A GPU session then hands back batch x hidden floats
 * instead of batch x seq x hidden (for an 8,192-token MiniLM batch, 12.6 MB less to download and
 * copy, and no JS pooling pass). Float32 throughout, like pooling.ts, so vectors stay within 1e-4
 * of the CPU provider's. Undefined when the model does not fit the pattern (no float32
 * last_hidden_state output, no attention_mask input, opset below 13, external weights).
 */
import { encBytes, encString, encVarint, fields, str, type Field } from './onnx-wire.js';

export const POOLED_OUTPUT = 'tandem_pooled';

const FLOAT = 1;
const INT64 = 7;

function int64Tensor(name: string, values: number[], dims: number[]): Buffer {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  return Buffer.concat([...dims.map((d) => encVarint(1, d)), encVarint(2, INT64), encString(8, name), encBytes(9, raw)]);
}

function floatTensor(name: string, value: number): Buffer {
  const raw = Buffer.alloc(4);
  raw.writeFloatLE(value, 0);
  return Buffer.concat([encVarint(2, FLOAT), encString(8, name), encBytes(9, raw)]);
}

function intAttr(name: string, v: number): Buffer {
  return encBytes(5, Buffer.concat([encString(1, name), encVarint(3, v), encVarint(20, 2 /* INT */)]));
}

function node(op: string, inputs: string[], output: string, attrs: Buffer[] = []): Buffer {
  return encBytes(1, Buffer.concat([...inputs.map((i) => encString(1, i)), encString(2, output), encString(3, `tandem_pool_${output}`), encString(4, op), ...attrs]));
}

function elemType(valueInfo: Field): number | undefined {
  const type = fields(valueInfo.data).find((f) => f.no === 2);
  const tensor = type ? fields(type.data).find((f) => f.no === 1) : undefined;
  return tensor ? fields(tensor.data).find((f) => f.no === 1)?.value : undefined;
}

const nameOf = (valueInfo: Field): string => {
  const f = fields(valueInfo.data).find((x) => x.no === 1);
  return f ? str(f) : '';
};

/** The model bytes with a `tandem_pooled` output added, or undefined when the model does not fit. */
export function withPooledOutput(model: Buffer, pooling: 'mean' | 'cls', hidden = 'last_hidden_state'): Buffer | undefined {
  let top: Field[];
  try {
    top = fields(model);
  } catch {
    return undefined;
  }
  const opset = top.filter((f) => f.no === 8).map((f) => fields(f.data)).find((o) => {
    const d = o.find((x) => x.no === 1);
    return !d || str(d) === '' || str(d) === 'ai.onnx';
  });
  if ((opset?.find((x) => x.no === 2)?.value ?? 0) < 13) return undefined;
  const graphF = top.find((f) => f.no === 7);
  if (!graphF) return undefined;
  const graph = fields(graphF.data);
  const out = graph.find((f) => f.no === 12 && nameOf(f) === hidden);
  if (!out || elemType(out) !== FLOAT) return undefined;
  if (!graph.some((f) => f.no === 11 && nameOf(f) === 'attention_mask')) return undefined;
  // External weights are named relative to the model file: a model read into memory cannot find them.
  if (graph.some((f) => f.no === 5 && fields(f.data).some((x) => x.no === 14 && x.value === 1))) return undefined;

  const added: Buffer[] = [];
  const inits: Buffer[] = [];
  if (pooling === 'cls') {
    inits.push(encBytes(5, int64Tensor('tandem_pool_zero', [0], [])));
    added.push(node('Gather', [hidden, 'tandem_pool_zero'], POOLED_OUTPUT, [intAttr('axis', 1)]));
  } else {
    inits.push(encBytes(5, int64Tensor('tandem_pool_last', [-1], [1])), encBytes(5, int64Tensor('tandem_pool_seq', [1], [1])), encBytes(5, floatTensor('tandem_pool_eps', 1e-9)));
    added.push(
      node('Cast', ['attention_mask'], 'tandem_pool_maskf', [intAttr('to', FLOAT)]),
      node('Unsqueeze', ['tandem_pool_maskf', 'tandem_pool_last'], 'tandem_pool_mask3'),
      node('Mul', [hidden, 'tandem_pool_mask3'], 'tandem_pool_masked'),
      node('ReduceSum', ['tandem_pool_masked', 'tandem_pool_seq'], 'tandem_pool_sum', [intAttr('keepdims', 0)]),
      node('ReduceSum', ['tandem_pool_mask3', 'tandem_pool_seq'], 'tandem_pool_count', [intAttr('keepdims', 0)]),
      node('Max', ['tandem_pool_count', 'tandem_pool_eps'], 'tandem_pool_countc'),
      node('Div', ['tandem_pool_sum', 'tandem_pool_countc'], POOLED_OUTPUT),
    );
  }
  const pooledInfo = encBytes(12, Buffer.concat([encString(1, POOLED_OUTPUT), encBytes(2, encBytes(1, encVarint(1, FLOAT)))]));
  const newGraph = Buffer.concat([graphF.data, ...added, ...inits, pooledInfo]);
  return Buffer.concat(top.map((f) => (f.no === 7 ? encBytes(7, newGraph) : f.raw)));
}
