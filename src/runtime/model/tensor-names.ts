import type { Weight } from '../backend.ts';
import { GptError } from '../../errors.ts';
import type { ModelConfig } from './config.ts';
import type { LayerWeights, ModelWeights } from './weights.ts';

/**
 * Where each canonical weight (weights.ts) comes from in a Hugging Face checkpoint, per
 * architecture: which tensors, the shape config.json implies for each, where each lands in the
 * canonical weight (stacking) and whether it must be transposed (GPT-2's Conv1D stores (in, out)).
 */

/** One checkpoint tensor feeding (a slice of) a canonical weight. */
export interface TensorPart {
  /** Accepted checkpoint names; the first is the one error messages use. */
  readonly names: readonly string[];
  /** The shape the config implies, as the checkpoint stores it. */
  readonly shape: readonly number[];
  /** The config fields behind that shape, for error messages: "(n_embd, 3 * n_embd)". */
  readonly impliedBy: string;
  /** First element of the canonical weight this part fills (row-major). */
  readonly offset: number;
  /** Stored (in, out): transpose to the canonical (out, in). */
  readonly transpose: boolean;
  /** Its rows are the vocabulary (embedding, head): a wrong row count gets its own message. */
  readonly vocabRows: boolean;
}

/** One canonical weight and the tensors that fill it, in canonical order. */
export interface WeightPlan {
  /** `tokEmb`, `posEmb`, `finalNormW`, `finalNormB`, `lmHead` or `layers.<l>.<field of LayerWeights>`. */
  readonly key: string;
  readonly rows: number;
  readonly cols: number;
  readonly parts: readonly TensorPart[];
}

type LayerField = keyof LayerWeights;

/** Every canonical weight the config needs and the checkpoint tensors behind it. */
export function tensorPlan(cfg: ModelConfig): WeightPlan[] {
  return cfg.modelType === 'gpt2' ? gpt2Plan(cfg) : llamaPlan(cfg);
}

function part(names: string[], shape: number[], impliedBy: string, offset = 0, transpose = false, vocabRows = false): TensorPart {
  return { names, shape, impliedBy, offset, transpose, vocabRows };
}

function gpt2Plan(cfg: ModelConfig): WeightPlan[] {
  const { C, F, V, L } = cfg;
  // openai-community/gpt2 is published without the `transformer.` prefix; checkpoints saved from
  // GPT2LMHeadModel since have it. Accept both.
  const n = (name: string) => [name, `transformer.${name}`];
  const vec = (key: string, name: string, len: number, implied: string): WeightPlan => ({
    key,
    rows: 1,
    cols: len,
    parts: [part(n(name), [len], implied)],
  });
  const plan: WeightPlan[] = [
    { key: 'tokEmb', rows: V, cols: C, parts: [part(n('wte.weight'), [V, C], '(vocab_size, n_embd)', 0, false, true)] },
    {
      key: 'posEmb',
      rows: cfg.maxPositions,
      cols: C,
      parts: [part(n('wpe.weight'), [cfg.maxPositions, C], '(n_positions, n_embd)')],
    },
  ];
  for (let l = 0; l < L; l++) {
    const h = `h.${l}`;
    const k = (f: LayerField) => `layers.${l}.${f}`;
    plan.push(
      vec(k('attnNormW'), `${h}.ln_1.weight`, C, '(n_embd)'),
      vec(k('attnNormB'), `${h}.ln_1.bias`, C, '(n_embd)'),
      // Conv1D (C, 3C) transposed is (3C, C): its rows are already [q | k | v].
      { key: k('wqkv'), rows: 3 * C, cols: C, parts: [part(n(`${h}.attn.c_attn.weight`), [C, 3 * C], '(n_embd, 3 * n_embd)', 0, true)] },
      vec(k('bqkv'), `${h}.attn.c_attn.bias`, 3 * C, '(3 * n_embd)'),
      { key: k('wo'), rows: C, cols: C, parts: [part(n(`${h}.attn.c_proj.weight`), [C, C], '(n_embd, n_embd)', 0, true)] },
      vec(k('bo'), `${h}.attn.c_proj.bias`, C, '(n_embd)'),
      vec(k('mlpNormW'), `${h}.ln_2.weight`, C, '(n_embd)'),
      vec(k('mlpNormB'), `${h}.ln_2.bias`, C, '(n_embd)'),
      { key: k('wUp'), rows: F, cols: C, parts: [part(n(`${h}.mlp.c_fc.weight`), [C, F], '(n_embd, n_inner)', 0, true)] },
      vec(k('bUp'), `${h}.mlp.c_fc.bias`, F, '(n_inner)'),
      { key: k('wDown'), rows: C, cols: F, parts: [part(n(`${h}.mlp.c_proj.weight`), [F, C], '(n_inner, n_embd)', 0, true)] },
      vec(k('bDown'), `${h}.mlp.c_proj.bias`, C, '(n_embd)'),
    );
  }
  plan.push(vec('finalNormW', 'ln_f.weight', C, '(n_embd)'), vec('finalNormB', 'ln_f.bias', C, '(n_embd)'));
  // lm_head.weight, attn.bias and attn.masked_bias (causal-mask buffers) are ignored: the head is tied.
  return plan;
}

function llamaPlan(cfg: ModelConfig): WeightPlan[] {
  const { C, F, V, L, H, Hkv, D } = cfg;
  const Q = H * D;
  const K = Hkv * D;
  const qDims = 'num_attention_heads * head_dim';
  const kDims = 'num_key_value_heads * head_dim';
  const vec = (key: string, name: string, len: number, implied: string): WeightPlan => ({
    key,
    rows: 1,
    cols: len,
    parts: [part([name], [len], implied)],
  });
  const plan: WeightPlan[] = [
    { key: 'tokEmb', rows: V, cols: C, parts: [part(['model.embed_tokens.weight'], [V, C], '(vocab_size, hidden_size)', 0, false, true)] },
  ];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const k = (f: LayerField) => `layers.${l}.${f}`;
    plan.push(
      vec(k('attnNormW'), `${p}.input_layernorm.weight`, C, '(hidden_size)'),
      {
        key: k('wqkv'),
        rows: Q + 2 * K,
        cols: C,
        parts: [
          part([`${p}.self_attn.q_proj.weight`], [Q, C], `(${qDims}, hidden_size)`, 0),
          part([`${p}.self_attn.k_proj.weight`], [K, C], `(${kDims}, hidden_size)`, Q * C),
          part([`${p}.self_attn.v_proj.weight`], [K, C], `(${kDims}, hidden_size)`, (Q + K) * C),
        ],
      },
    );
    if (cfg.qkvBias) {
      plan.push({
        key: k('bqkv'),
        rows: 1,
        cols: Q + 2 * K,
        parts: [
          part([`${p}.self_attn.q_proj.bias`], [Q], `(${qDims})`, 0),
          part([`${p}.self_attn.k_proj.bias`], [K], `(${kDims})`, Q),
          part([`${p}.self_attn.v_proj.bias`], [K], `(${kDims})`, Q + K),
        ],
      });
    }
    plan.push({ key: k('wo'), rows: C, cols: Q, parts: [part([`${p}.self_attn.o_proj.weight`], [C, Q], `(hidden_size, ${qDims})`)] });
    // Llama's attention_bias puts a bias on o_proj too; Qwen2 biases q, k, v only.
    if (cfg.qkvBias && cfg.modelType !== 'qwen2') plan.push(vec(k('bo'), `${p}.self_attn.o_proj.bias`, C, '(hidden_size)'));
    plan.push(
      vec(k('mlpNormW'), `${p}.post_attention_layernorm.weight`, C, '(hidden_size)'),
      {
        key: k('wUp'),
        rows: 2 * F,
        cols: C,
        parts: [
          part([`${p}.mlp.gate_proj.weight`], [F, C], '(intermediate_size, hidden_size)', 0),
          part([`${p}.mlp.up_proj.weight`], [F, C], '(intermediate_size, hidden_size)', F * C),
        ],
      },
      { key: k('wDown'), rows: C, cols: F, parts: [part([`${p}.mlp.down_proj.weight`], [C, F], '(hidden_size, intermediate_size)')] },
    );
  }
  plan.push(vec('finalNormW', 'model.norm.weight', C, '(hidden_size)'));
  // A tied head is the embedding itself; a stray lm_head.weight in a tied checkpoint is ignored.
  if (!cfg.tiedHead) {
    plan.push({ key: 'lmHead', rows: V, cols: C, parts: [part(['lm_head.weight'], [V, C], '(vocab_size, hidden_size)', 0, false, true)] });
  }
  return plan;
}

/**
 * Builds {@link ModelWeights} from the weights created for `tensorPlan(cfg)`, by key. Weights the
 * architecture does not have are null; a tied head is the embedding object itself.
 */
export function assembleWeights(cfg: ModelConfig, byKey: ReadonlyMap<string, Weight>): ModelWeights {
  const need = (key: string): Weight => {
    const w = byKey.get(key);
    if (!w) throw new GptError('internal', `assembleWeights: weight ${key} was never created.`);
    return w;
  };
  const opt = (key: string): Weight | null => byKey.get(key) ?? null;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < cfg.L; l++) {
    const k = (f: LayerField) => `layers.${l}.${f}`;
    layers.push({
      attnNormW: need(k('attnNormW')),
      attnNormB: opt(k('attnNormB')),
      wqkv: need(k('wqkv')),
      bqkv: opt(k('bqkv')),
      wo: need(k('wo')),
      bo: opt(k('bo')),
      mlpNormW: need(k('mlpNormW')),
      mlpNormB: opt(k('mlpNormB')),
      wUp: need(k('wUp')),
      bUp: opt(k('bUp')),
      wDown: need(k('wDown')),
      bDown: opt(k('bDown')),
    });
  }
  const tokEmb = need('tokEmb');
  return {
    tokEmb,
    posEmb: opt('posEmb'),
    layers,
    finalNormW: need('finalNormW'),
    finalNormB: opt('finalNormB'),
    lmHead: cfg.tiedHead ? tokEmb : need('lmHead'),
  };
}
