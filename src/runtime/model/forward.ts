import type { Activation, Backend, Weight } from '../backend.ts';
import type { ModelConfig } from './config.ts';
import type { RunState } from './run-state.ts';
import type { ModelWeights } from './weights.ts';

/**
 * The forward pass of a decoder-only GPT, for every architecture we load. GPT-2 and the Llama
 * family differ only in the switches of {@link ModelConfig}: the norm, where positions enter,
 * the MLP's activation and which biases exist.
 *
 * Runs tokens `ids[0 .. T-1]` at absolute positions `pos0 .. pos0 + T - 1`, appending their keys
 * and values to the cache. Afterwards `s.logits` holds the logits of the last token in row 0
 * (`allLogits` false) or of every token in rows 0 .. T-1 (`allLogits` true), and `s.xb` the same
 * rows' final hidden states (after the final norm: what the head reads). Returns the number of
 * logit rows written.
 */
export function forward(
  b: Backend,
  cfg: ModelConfig,
  w: ModelWeights,
  s: RunState,
  ids: Int32Array,
  T: number,
  pos0: number,
  allLogits: boolean,
): number {
  // token embeddings, plus learned absolute positions (GPT-2)
  b.embed(s.x, ids, T, w.tokEmb, cfg.position === 'learned' ? w.posEmb : null, pos0);

  // Each residual add (x += proj) is fused with the norm that reads x next (addNorm): the
  // first layer's attention norm stands alone, the last MLP's add is plain (decode then norms one row).
  norm(b, cfg, s.xb, s.x, w.layers[0].attnNormW, w.layers[0].attnNormB, T);
  for (let l = 0; l < cfg.L; l++) {
    const lw = w.layers[l];

    // attention: x += Wo · attention(Wqkv · norm(x)), q and k rotated by position first in RoPE
    // models; xb = norm(x) for the MLP
    b.matmul(s.qkv, s.xb, lw.wqkv, lw.bqkv, T);
    b.attention(s.att, s.qkv, s.kv, l, T, pos0, cfg);
    b.matmul(s.proj, s.att, lw.wo, lw.bo, T);
    b.addNorm(s.xb, s.x, s.proj, lw.mlpNormW, lw.mlpNormB, T, cfg.normEps);

    // MLP: x += Wdown · act(Wup · norm(x)), act = GELU, or for SwiGLU silu(gate) * up with
    // [gate | up] = Wup · norm(x); xb = norm(x) for the next layer's attention
    if (cfg.mlp === 'swiglu') b.swiglu(s.hidden, s.xb, lw.wUp, s.up, T);
    else {
      b.matmul(s.up, s.xb, lw.wUp, lw.bUp, T);
      b.gelu(s.hidden, s.up, T);
    }
    b.matmul(s.proj, s.hidden, lw.wDown, lw.bDown, T);
    const next = w.layers[l + 1];
    if (next) b.addNorm(s.xb, s.x, s.proj, next.attnNormW, next.attnNormB, T, cfg.normEps);
    else b.addInPlace(s.x, s.proj, T);
  }

  // final norm and the output head: on every row, or only on the last one (decode, prefill)
  if (allLogits) {
    norm(b, cfg, s.xb, s.x, w.finalNormW, w.finalNormB, T);
    b.matmul(s.logits, s.xb, w.lmHead, null, T);
    return T;
  }
  b.copyRows(s.last, s.x, T - 1, 1);
  norm(b, cfg, s.xb, s.last, w.finalNormW, w.finalNormB, 1);
  b.matmul(s.logits, s.xb, w.lmHead, null, 1);
  return 1;
}

function norm(b: Backend, cfg: ModelConfig, out: Activation, inp: Activation, weight: Weight, bias: Weight | null, T: number): void {
  if (cfg.norm === 'rmsnorm') b.rmsNorm(out, inp, weight, T, cfg.normEps);
  else b.layerNorm(out, inp, weight, bias!, T, cfg.normEps);
}
