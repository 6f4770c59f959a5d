import { GptError } from '../../errors.ts';
import type { ModelConfig } from './config.ts';

/**
 * The largest dimensions gpt-chat loads: a model folder is untrusted input, and a config.json or
 * GGUF header with 10^6 layers or a 10^9-token vocabulary would otherwise size arrays from it
 * (the rotary table, the tensor plan, the logits) before a single weight byte is read. Each is
 * well above the largest published decoder (Llama 3.1 405B: L 126, C 16384, H 128, F 53248;
 * Gemma: V 262144; Llama 4: 10M positions), far beyond what a browser tab can hold anyway.
 */
export const CONFIG_MAXIMA = {
  L: 512,
  C: 65536,
  H: 1024,
  Hkv: 1024,
  D: 1024,
  F: 262144,
  V: 1 << 21,
  maxPositions: 1 << 24,
} as const;

/** The KV cache may take at most this many bytes (both backends hold it in one 32-bit address space or less). */
export const MAX_KV_CACHE_BYTES = 4 * 1024 ** 3;

type Dimension = keyof typeof CONFIG_MAXIMA;

/**
 * Throws GptError 'bad-config' naming the field (`fields[dim]`, as the file spells it) of the first
 * dimension past {@link CONFIG_MAXIMA}. Call it before anything is sized from the config.
 */
export function checkConfigLimits(dims: Readonly<Record<Dimension, number>>, file: string, fields: Readonly<Record<Dimension, string>>): void {
  for (const dim of Object.keys(CONFIG_MAXIMA) as Dimension[]) {
    const max = CONFIG_MAXIMA[dim];
    if (dims[dim] > max) {
      throw new GptError(
        'bad-config',
        `${file}: ${fields[dim]} is ${dims[dim]}, above ${max}, the most gpt-chat loads (no published model comes near). Hint: the file is damaged or not a real checkpoint; use the model's original files.`,
      );
    }
  }
}

/**
 * The context window S for `cfg` (`requested`, else min(maxPositions, 2048)), checked before
 * anything is allocated: an integer in 1 .. maxPositions whose KV cache fits
 * {@link MAX_KV_CACHE_BYTES}. Throws GptError 'bad-argument' saying what would fit.
 */
export function contextLengthFor(cfg: ModelConfig, requested: number | undefined): number {
  const S = requested ?? Math.min(cfg.maxPositions, 2048);
  if (!Number.isSafeInteger(S) || S < 1 || S > cfg.maxPositions) {
    throw new GptError('bad-argument', `contextLength ${S} is not a whole number in 1 .. ${cfg.maxPositions} (max_position_embeddings of this model).`);
  }
  const perPosition = 2 * cfg.L * cfg.Hkv * cfg.D * 4; // (2, L, S, Hkv * D) floats
  if (S * perPosition > MAX_KV_CACHE_BYTES) {
    const fits = Math.floor(MAX_KV_CACHE_BYTES / perPosition);
    throw new GptError(
      'bad-argument',
      `contextLength ${S} needs a KV cache of ${Math.ceil((S * perPosition) / 1024 ** 2)} MiB, more than the ${MAX_KV_CACHE_BYTES / 1024 ** 3} GiB gpt-chat allows. Hint: ask for at most ${fits} tokens.`,
    );
  }
  return S;
}
