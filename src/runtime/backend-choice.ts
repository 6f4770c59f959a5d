import type { Backend } from './backend.ts';
import { checkedBackend } from './checked-backend.ts';
import { CpuBackend } from './cpu/cpu-backend.ts';
import { probeDecodeMs } from './backend-probe.ts';
import type { ModelConfig } from './model/config.ts';
import { acquireDevice, adapterKey, isCpuBackedDevice, type AcquireDeviceOptions } from './webgpu/device.ts';
import { WebGpuBackend } from './webgpu/webgpu-backend.ts';
import { gpuFitError, gpuFitProblem, roundedSize } from './webgpu/gpu-fit.ts';

export type BackendChoice = 'auto' | 'webgpu' | 'cpu';

/** The backend that runs a model, and why it was chosen. */
export interface BackendDecision {
  readonly backend: Backend;
  /** Why this backend runs, in a few words for a status line: "asked for", "WebGPU here runs in software (SwiftShader)". */
  readonly reason: string;
  /** Something the user should know: set when 'auto' found no WebGPU and fell back to the CPU. */
  readonly notice?: string;
}

/** One probe's result: milliseconds of one decode step of the model's shape on each backend. */
export interface BackendProbe {
  readonly cpuMs: number;
  readonly webgpuMs: number;
}

/**
 * Where probe results are kept between loads, so a device is probed once per model shape. The
 * engine passes one over IndexedDB (cache/device-store.ts); without one every 'auto' load on an
 * adapter that is not known to be CPU-backed probes again.
 */
export interface ProbeStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: BackendProbe): Promise<void>;
}

/** What {@link createBackend} may use beyond the choice itself. */
export interface BackendChoiceOptions {
  readonly device?: AcquireDeviceOptions;
  /** The model's shape: with it, 'auto' on an adapter not known to be CPU-backed runs a probe. */
  readonly config?: ModelConfig;
  readonly probeStore?: ProbeStore;
  /**
   * Whether a device runs on the CPU: true and false decide, null means "unclear" (probe).
   * Defaults to {@link isCpuBackedDevice} for true (SwiftShader, llvmpipe, WARP), else unclear:
   * whether a real GPU beats the WebAssembly kernels depends on the GPU and the model's size;
   * tests pass their own to exercise the probe on SwiftShader.
   */
  readonly cpuBacked?: (device: GPUDevice) => boolean | null;
  /** The context length and prefill chunk the model will get, for the check that its buffers fit the device. */
  readonly contextLength?: number;
  readonly prefillChunk?: number;
}

/**
 * The backend asked for, behind the contract's checks (see checkedBackend). 'auto' takes the
 * faster one for this device: the CPU path when there is no WebGPU or the adapter itself runs on
 * the CPU (SwiftShader, llvmpipe, WARP: WebGPU there decodes ~14x slower than our WebAssembly
 * kernels, see README "Benchmarks"); otherwise, given the model's config, a probe of one decode
 * step on each (run once per device and shape when a store is given); without a config, WebGPU.
 * Given a config, a model whose run state no binding of the device holds (gpu-fit.ts) is
 * GptError 'gpu-out-of-memory' for 'webgpu', and the CPU with a notice for 'auto'.
 */
export async function createBackend(choice: BackendChoice, options: BackendChoiceOptions = {}): Promise<BackendDecision> {
  if (choice === 'cpu') return cpuDecision('asked for');
  let device: GPUDevice;
  try {
    device = await acquireDevice(options.device);
  } catch (err) {
    if (choice === 'webgpu') throw err;
    const why = err instanceof Error ? err.message : String(err);
    return cpuDecision('no WebGPU here', `WebGPU is not available, so the model runs on the CPU (slower). ${why}`);
  }
  const misfit = options.config && gpuFitProblem(options.config, device.limits, options);
  if (misfit) {
    device.destroy();
    if (choice === 'webgpu') throw gpuFitError(misfit);
    const [worst] = misfit.buffers;
    const why = `${worst!.what} needs ${roundedSize(worst!.bytes)}, above the ${roundedSize(misfit.limit)} this GPU binds as one buffer`;
    return cpuDecision(`too large for this GPU: ${why}`, `The model cannot run on this GPU with WebGPU (${why}), so it runs on the CPU (slower).`);
  }
  if (choice === 'webgpu') return { backend: gpuBackend(device), reason: 'asked for' };

  const cpuBacked = (options.cpuBacked ?? ((d: GPUDevice) => (isCpuBackedDevice(d) ? true : null)))(device);
  if (cpuBacked === true) {
    device.destroy();
    return cpuDecision(`WebGPU here runs in software (${adapterName(device)}), slower than the CPU path`);
  }
  if (cpuBacked === false || !options.config) return { backend: gpuBackend(device), reason: 'a GPU adapter' };

  const probe = await storedOrNewProbe(device, options.config, options.probeStore);
  const figures = `${probe.webgpuMs.toFixed(1)} vs ${probe.cpuMs.toFixed(1)} ms a token`;
  if (probe.webgpuMs <= probe.cpuMs) return { backend: gpuBackend(device), reason: `faster on this device (WebGPU ${figures} on the CPU)` };
  device.destroy();
  return cpuDecision(`faster on this device (CPU ${probe.cpuMs.toFixed(1)} vs ${probe.webgpuMs.toFixed(1)} ms a token on WebGPU)`);
}

async function storedOrNewProbe(device: GPUDevice, cfg: ModelConfig, store: ProbeStore | undefined): Promise<BackendProbe> {
  // The answer depends on the device and on the model's size (small models pay the GPU's
  // per-dispatch cost, large ones gain its bandwidth), so both are in the key.
  const key = `${adapterKey(device)}|${cfg.modelType} L${cfg.L} C${cfg.C} H${cfg.H}/${cfg.Hkv} D${cfg.D} F${cfg.F} V${cfg.V}`;
  const stored = await store?.get(key).catch(() => undefined);
  if (isProbe(stored)) return stored;
  const probe: BackendProbe = {
    cpuMs: await probeDecodeMs(cpuBackend(), cfg),
    webgpuMs: await probeDecodeMs(gpuBackend(device), cfg),
  };
  await store?.set(key, probe).catch(() => undefined); // a store that fails costs a probe next time, nothing more
  return probe;
}

function isProbe(v: unknown): v is BackendProbe {
  const p = v as BackendProbe | null | undefined;
  return typeof p === 'object' && p !== null && Number.isFinite(p.cpuMs) && Number.isFinite(p.webgpuMs);
}

function cpuBackend(): Backend {
  return checkedBackend(new CpuBackend());
}

/**
 * The CPU backend as a decision: `reason` and `notice` as given, plus what the user must know
 * when the WebAssembly kernels cannot run (a strict Content-Security-Policy): that the slow plain
 * JavaScript path runs, and why, in the reason and in a notice (never a silent 5-10x slowdown).
 */
export function cpuDecision(reason: string, notice?: string): BackendDecision {
  const cpu = new CpuBackend();
  const slow = cpu.slowPathReason;
  if (!slow) return { backend: checkedBackend(cpu), reason, ...(notice ? { notice } : {}) };
  const slowNotice =
    `The model runs on the slow CPU path, in plain JavaScript without WebAssembly (several times slower): ${slow}. ` +
    "Hint for the site: allow 'wasm-unsafe-eval' in script-src, on the page and on gpt-chat-worker.js.";
  return { backend: checkedBackend(cpu), reason: `${reason}; plain JavaScript, no WebAssembly`, notice: notice ? `${notice} ${slowNotice}` : slowNotice };
}

function gpuBackend(device: GPUDevice): Backend {
  return checkedBackend(new WebGpuBackend(device));
}

function adapterName(device: GPUDevice): string {
  const info = device.adapterInfo as GPUAdapterInfo | undefined;
  const name = info && (info.description || info.device || info.architecture || info.vendor);
  return name || 'a fallback adapter';
}
