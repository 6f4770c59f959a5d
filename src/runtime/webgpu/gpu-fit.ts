import { GptError } from '../../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { CONFIG_MAXIMA, contextLengthFor } from '../model/config-limits.ts';
import { activationShapes, forwardRows, kvWidth, type ActivationName } from '../model/run-state.ts';

/**
 * Whether a model can run on a WebGPU device at all, decided from its config and the device's
 * limits before anything is downloaded or allocated.
 *
 * What can never work: a buffer that must be bound whole and is larger than one storage binding
 * (maxStorageBufferBindingSize, or maxBufferSize when that is lower). Weights are split by rows
 * across buffers (gpu-weight.ts), so only a single row could be too large, and none can be (see
 * {@link WIDEST_WEIGHT_ROW_BYTES}). The run state cannot be split: each activation, one layer of
 * the KV cache (S positions) and the rotary table (every position the model knows) are one
 * binding each.
 *
 * What is not checked here, on purpose: the total (weights plus run state) against the GPU's
 * memory. WebGPU exposes no memory size, maxBufferSize bounds one buffer and not their sum, and
 * any figure we might guess (navigator.deviceMemory, capped at 8 and about main memory) would
 * refuse models that do fit on a GPU with more. A model too large in total is found when its
 * buffers are created (allocation-watch.ts: 'gpu-out-of-memory' before the first reply).
 */

/** What bounds one binding; a device from acquireDevice has its adapter's own (device.ts). */
export interface GpuBindingLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
}

/** The maxStorageBufferBindingSize every WebGPU adapter offers at least (the spec's default). */
export const SPEC_MIN_BINDING_BYTES = 128 * 1024 * 1024;

/**
 * The widest weight row of any config within CONFIG_MAXIMA, as f32 (the widest a weight is held
 * on the GPU): a fused q|k|v bias of (H + 2 Hkv) D, a gate|up row of 2F, or C. It is far below
 * {@link SPEC_MIN_BINDING_BYTES}, so no adapter refuses a weight row and gpuFitProblem need not
 * look at the weights (a test pins this, should the maxima ever grow).
 */
export const WIDEST_WEIGHT_ROW_BYTES = 4 * Math.max(CONFIG_MAXIMA.C, (CONFIG_MAXIMA.H + 2 * CONFIG_MAXIMA.Hkv) * CONFIG_MAXIMA.D, 2 * CONFIG_MAXIMA.F);

/** Bytes of an activation of (rows, cols) f32 on the GPU. */
export const activationBytes = (rows: number, cols: number): number => rows * cols * 4;

/** Bytes of one layer's keys (or values): S positions of `width` f32. */
export const kvLayerBytes = (S: number, width: number): number => S * width * 4;

/** Bytes of the rotary table: (cos, sin) f32 pairs for D/2 frequencies at every position the model knows. */
export const ropeTableBytes = (cfg: ModelConfig): number => cfg.maxPositions * cfg.ropeInvFreq.length * 8;

/** One buffer of the run state that no binding of the device can hold. */
export interface OversizedBuffer {
  /** What it is, with its shape: "one layer of the KV cache (2048 positions x 196608 floats)". */
  readonly what: string;
  readonly bytes: number;
}

/** Why a model cannot run on a device with WebGPU; see {@link gpuFitProblem}. */
export interface GpuFitProblem {
  /** The buffers over the limit, largest first. */
  readonly buffers: readonly OversizedBuffer[];
  /** The largest binding the device offers, and which limit sets it. */
  readonly limit: number;
  readonly limitName: 'maxStorageBufferBindingSize' | 'maxBufferSize';
  /** The longest context that fits, when only the KV cache is too large; null when a shorter context does not help. */
  readonly contextThatFits: number | null;
}

const ACTIVATION_NAMES: Readonly<Record<ActivationName, string>> = {
  x: 'the residual stream',
  xb: 'the normalised block input',
  qkv: 'the stacked queries, keys and values',
  att: 'the attention output',
  proj: 'the projection output',
  up: 'the MLP up projection',
  hidden: 'the MLP hidden layer',
  last: 'the last row',
  logits: 'the logits',
};

/**
 * The run-state buffers of `cfg` (with the loader's context length and prefill chunk, defaults as
 * GptModel takes them) that no binding under `limits` holds; null when all fit. Throws what
 * contextLengthFor throws for a context length that no device could take.
 */
export function gpuFitProblem(
  cfg: ModelConfig,
  limits: GpuBindingLimits,
  options: { readonly contextLength?: number; readonly prefillChunk?: number } = {},
): GpuFitProblem | null {
  const S = contextLengthFor(cfg, options.contextLength);
  const Tmax = forwardRows(S, options.prefillChunk);
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const width = kvWidth(cfg);
  const kv = { what: `one layer of the KV cache (${S} positions x ${width} floats)`, bytes: kvLayerBytes(S, width) };
  const all: OversizedBuffer[] = [
    ...Object.entries(activationShapes(cfg, Tmax)).map(([name, [rows, cols]]) => ({
      what: `${ACTIVATION_NAMES[name as ActivationName]} (${rows} x ${cols} floats)`,
      bytes: activationBytes(rows, cols),
    })),
    kv,
    ...(cfg.position === 'rope' ? [{ what: `the rotary table (${cfg.maxPositions} positions, the model's maximum, x ${cfg.ropeInvFreq.length} frequencies)`, bytes: ropeTableBytes(cfg) }] : []),
  ];
  const buffers = all.filter((b) => b.bytes > limit).sort((a, b) => b.bytes - a.bytes);
  if (buffers.length === 0) return null;
  const onlyKv = buffers.length === 1 && buffers[0] === kv;
  return {
    buffers,
    limit,
    limitName: limits.maxBufferSize < limits.maxStorageBufferBindingSize ? 'maxBufferSize' : 'maxStorageBufferBindingSize',
    contextThatFits: onlyKv ? Math.floor(limit / kvLayerBytes(1, width)) : null,
  };
}

/**
 * GptError 'gpu-out-of-memory' for `problem`: what needs how many bytes, what the GPU offers, and
 * what to do. `note` (a sentence) goes before the hint.
 */
export function gpuFitError(problem: GpuFitProblem, note = ''): GptError {
  const needs = problem.buffers.map((b) => `${b.what} needs ${size(b.bytes)}`).join('; ');
  const shorter = problem.contextThatFits ? `, or a contextLength of at most ${problem.contextThatFits} tokens` : '';
  return new GptError(
    'gpu-out-of-memory',
    `This model cannot run on this GPU with WebGPU: ${needs}, but this GPU binds at most ${size(problem.limit)} as one buffer ` +
      `(its ${problem.limitName}); the run state's buffers cannot be split as the weights are.${note ? ` ${note}` : ''} ` +
      `Hint: use engine="auto" or engine="cpu", which run it from main memory${shorter}.`,
  );
}

/** "1.5 GiB", "146.5 MiB": for reading. */
export function roundedSize(bytes: number): string {
  const MiB = 1024 * 1024;
  return bytes >= 1024 * MiB ? `${(bytes / (1024 * MiB)).toFixed(1)} GiB` : `${(bytes / MiB).toFixed(1)} MiB`;
}

/** "1.5 GiB (1610612736 bytes)": rounded for reading, exact for comparing with the limit. */
const size = (bytes: number): string => `${roundedSize(bytes)} (${bytes} bytes)`;
