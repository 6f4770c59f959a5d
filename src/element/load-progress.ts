/**
 * One progress bar for a whole model load. The engine reports phases one after another, each
 * counting from 0: the download (network) or reading back from this device (cache), then
 * preparing the weights (parsing them and uploading them to the GPU or into WebAssembly memory);
 * after the last weight byte the model still compiles its kernels. Each phase gets a share of one
 * bar, so the bar never restarts at 0% and never goes backwards.
 */
import type { EngineLoadProgress } from '../engine/engine.ts';

/** Where a load stands, for the one bar and the line above it. */
export interface LoadStage {
  /** 0..1 of the whole load. */
  readonly fraction: number;
  /** 'compile': every weight is in place, the kernels are being compiled. */
  readonly phase: EngineLoadProgress['phase'] | 'compile';
  /** The phase's own bytes (for "12 MB of 270 MB"). */
  readonly loaded: number;
  readonly total: number;
  /** Seconds left of a download, when known. */
  readonly eta?: number;
  /** The part of the bar this phase fills, [from, to]. */
  readonly span: readonly [number, number];
}

/**
 * Shares of the bar: a download dominates a first visit, so it gets 80%; reading from this device
 * and preparing take about as long as each other; the last 2% wait for the kernels to compile.
 */
const DOWNLOAD: readonly [number, number] = [0, 0.8];
const CACHE: readonly [number, number] = [0, 0.45];
const READY = 0.98;

/** The stage after progress report `p`, given the stage before it (undefined at the start). */
export function nextStage(previous: LoadStage | undefined, p: EngineLoadProgress): LoadStage {
  const part = p.total > 0 ? Math.min(1, Math.max(0, p.loaded / p.total)) : 0;
  // 'prepare' (GPU pipelines, after the weights) shares the weights' end of the bar
  const samePhase = previous && (previous.phase === p.phase || (previous.phase === 'compile' && (p.phase === 'weights' || p.phase === 'prepare')));
  const span: readonly [number, number] = samePhase
    ? previous.span
    : p.phase === 'download'
      ? DOWNLOAD
      : p.phase === 'cache'
        ? CACHE
        : [previous ? previous.span[1] : 0, READY]; // weights: the rest of the bar, after what came before
  const fraction = Math.max(previous?.fraction ?? 0, span[0] + (span[1] - span[0]) * part);
  return {
    fraction,
    phase: p.phase === 'weights' && p.total > 0 && p.loaded >= p.total ? 'compile' : p.phase,
    loaded: p.loaded,
    total: p.total,
    span,
    ...(p.eta !== undefined ? { eta: p.eta } : {}),
  };
}
