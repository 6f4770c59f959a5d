import type { ModelConfig } from './config.ts';
import type { TensorPart, WeightPlan } from './tensor-names.ts';

/**
 * Where each canonical weight (weights.ts) comes from in a GGUF file: llama.cpp's tensor names
 * (gguf-py/gguf/constants.py `TENSOR_NAMES`), with shapes in PyTorch order (GGUF dims reversed).
 * GGUF matrices are already (out, in), GPT-2's included (the converter transposes its Conv1D), so
 * nothing is transposed; the one reordering is llama's q and k rows (see {@link GgufPlan.ropeHeads}).
 */
export interface GgufPlan {
  readonly weights: readonly WeightPlan[];
  /**
   * Tensors whose rows llama.cpp's converter permuted for its adjacent-pair RoPE
   * (convert_hf_to_gguf.py `LlamaModel.permute`), by name, with their head count: `llama` q and k
   * weights and biases. Loading undoes it so the rotate-half RoPE of our forward pass applies.
   */
  readonly ropeHeads: ReadonlyMap<string, number>;
}

function part(name: string, shape: number[], impliedBy: string, offset = 0, vocabRows = false): TensorPart {
  return { names: [name], shape, impliedBy, offset, transpose: false, vocabRows };
}

function vec(key: string, name: string, len: number, implied: string): WeightPlan {
  return { key, rows: 1, cols: len, parts: [part(name, [len], implied)] };
}

/** Every canonical weight the config needs and the GGUF tensors behind it. */
export function ggufTensorPlan(cfg: ModelConfig): GgufPlan {
  const { C, F, V, L, H, Hkv, D } = cfg;
  const Q = H * D;
  const K = Hkv * D;
  const arch = cfg.modelType;
  const ropeHeads = new Map<string, number>();
  const weights: WeightPlan[] = [
    { key: 'tokEmb', rows: V, cols: C, parts: [part('token_embd.weight', [V, C], '(vocab, embedding_length)', 0, true)] },
  ];
  if (cfg.position === 'learned') {
    weights.push({ key: 'posEmb', rows: cfg.maxPositions, cols: C, parts: [part('position_embd.weight', [cfg.maxPositions, C], '(context_length, embedding_length)')] });
  }
  const q = `${arch}.attention.head_count * head size`;
  const kv = `${arch}.attention.head_count_kv * head size`;
  for (let l = 0; l < L; l++) {
    const b = `blk.${l}`;
    const k = (field: string) => `layers.${l}.${field}`;
    weights.push(vec(k('attnNormW'), `${b}.attn_norm.weight`, C, '(embedding_length)'));
    if (cfg.norm === 'layernorm') weights.push(vec(k('attnNormB'), `${b}.attn_norm.bias`, C, '(embedding_length)'));
    if (arch === 'gpt2') {
      weights.push(
        { key: k('wqkv'), rows: 3 * C, cols: C, parts: [part(`${b}.attn_qkv.weight`, [3 * C, C], '(3 * embedding_length, embedding_length)')] },
        vec(k('bqkv'), `${b}.attn_qkv.bias`, 3 * C, '(3 * embedding_length)'),
      );
    } else {
      weights.push({
        key: k('wqkv'),
        rows: Q + 2 * K,
        cols: C,
        parts: [
          part(`${b}.attn_q.weight`, [Q, C], `(${q}, embedding_length)`, 0),
          part(`${b}.attn_k.weight`, [K, C], `(${kv}, embedding_length)`, Q * C),
          part(`${b}.attn_v.weight`, [K, C], `(${kv}, embedding_length)`, (Q + K) * C),
        ],
      });
      if (cfg.qkvBias) {
        weights.push({
          key: k('bqkv'),
          rows: 1,
          cols: Q + 2 * K,
          parts: [
            part(`${b}.attn_q.bias`, [Q], `(${q})`, 0),
            part(`${b}.attn_k.bias`, [K], `(${kv})`, Q),
            part(`${b}.attn_v.bias`, [K], `(${kv})`, Q + K),
          ],
        });
      }
      if (arch === 'llama') {
        ropeHeads.set(`${b}.attn_q.weight`, H).set(`${b}.attn_k.weight`, Hkv);
        if (cfg.qkvBias) ropeHeads.set(`${b}.attn_q.bias`, H).set(`${b}.attn_k.bias`, Hkv);
      }
    }
    weights.push({ key: k('wo'), rows: C, cols: Q, parts: [part(`${b}.attn_output.weight`, [C, Q], `(embedding_length, ${q})`)] });
    if (cfg.projBias || (cfg.qkvBias && arch === 'llama')) weights.push(vec(k('bo'), `${b}.attn_output.bias`, C, '(embedding_length)'));
    weights.push(vec(k('mlpNormW'), `${b}.ffn_norm.weight`, C, '(embedding_length)'));
    if (cfg.norm === 'layernorm') weights.push(vec(k('mlpNormB'), `${b}.ffn_norm.bias`, C, '(embedding_length)'));
    if (cfg.mlp === 'swiglu') {
      weights.push({
        key: k('wUp'),
        rows: 2 * F,
        cols: C,
        parts: [
          part(`${b}.ffn_gate.weight`, [F, C], '(feed_forward_length, embedding_length)', 0),
          part(`${b}.ffn_up.weight`, [F, C], '(feed_forward_length, embedding_length)', F * C),
        ],
      });
    } else {
      weights.push(
        { key: k('wUp'), rows: F, cols: C, parts: [part(`${b}.ffn_up.weight`, [F, C], '(feed_forward_length, embedding_length)')] },
        vec(k('bUp'), `${b}.ffn_up.bias`, F, '(feed_forward_length)'),
      );
    }
    weights.push({ key: k('wDown'), rows: C, cols: F, parts: [part(`${b}.ffn_down.weight`, [C, F], '(embedding_length, feed_forward_length)')] });
    if (cfg.projBias) weights.push(vec(k('bDown'), `${b}.ffn_down.bias`, C, '(embedding_length)'));
  }
  weights.push(vec('finalNormW', 'output_norm.weight', C, '(embedding_length)'));
  if (cfg.norm === 'layernorm') weights.push(vec('finalNormB', 'output_norm.bias', C, '(embedding_length)'));
  if (!cfg.tiedHead) {
    weights.push({ key: 'lmHead', rows: V, cols: C, parts: [part('output.weight', [V, C], '(vocab, embedding_length)', 0, true)] });
  }
  return { weights, ropeHeads };
}

/**
 * Undoes llama.cpp's RoPE row permutation of a q or k projection, in place order: within each of
 * `heads` heads of D rows, GGUF row 2i + j holds the original row j * D/2 + i (i < D/2, j < 2).
 * Rows are moved whole (`rowBytes` each), so it works on quantized rows as well as on floats.
 */
export function unpermuteRopeRows(bytes: Uint8Array, heads: number, rowBytes: number): Uint8Array {
  const rows = bytes.byteLength / rowBytes;
  const D = rows / heads;
  const out = new Uint8Array(bytes.byteLength);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < D / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * D + 2 * i + j) * rowBytes;
        out.set(bytes.subarray(from, from + rowBytes), (h * D + j * (D / 2) + i) * rowBytes);
      }
    }
  }
  return out;
}
