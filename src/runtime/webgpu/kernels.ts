import addInPlace from './kernels/add-in-place.wgsl';
import attention from './kernels/attention.wgsl';
import attentionPerQuery from './kernels/attention-per-query.wgsl';
import embedRows from './kernels/embed-rows.wgsl';
import gelu from './kernels/gelu.wgsl';
import kvStore from './kernels/kv-store.wgsl';
import layerNorm from './kernels/layer-norm.wgsl';
import layerNormPerRow from './kernels/layer-norm-per-row.wgsl';
import matmulPerRow from './kernels/matmul-per-row.wgsl';
import matmulTiled from './kernels/matmul-tiled.wgsl';
import matvec from './kernels/matvec.wgsl';
import matvecPerRow from './kernels/matvec-per-row.wgsl';
import rmsNorm from './kernels/rms-norm.wgsl';
import rmsNormPerRow from './kernels/rms-norm-per-row.wgsl';
import rope from './kernels/rope.wgsl';
import siluMul from './kernels/silu-mul.wgsl';
import weightLoad from './kernels/weight-load.wgsl';

/**
 * How a kernel binds one buffer, in binding order (outputs first, the `Params` uniform last):
 * 'write' read_write storage, 'read' read-only storage, 'uniform' the Params struct.
 */
export type BindingKind = 'write' | 'read' | 'uniform';

/** One WGSL kernel: its file (for error messages), full source, and the bindings it declares. */
export interface Kernel {
  readonly file: string;
  readonly code: string;
  readonly bindings: readonly BindingKind[];
  /** Lines of weight-load.wgsl in front of the file's own first line (0 when none). */
  readonly preludeLines: number;
  /** Takes a 1-D grid folded into two dimensions (indexes workgroups as wid.y * nwg.x + wid.x). */
  readonly folds: boolean;
}

const plain = (code: string) => ({ code, preludeLines: 0 });
// Kernels that read a weight matrix get weight-load.wgsl in front: WGSL has no includes, and
// declarations are order independent, so the helper can use the `w` binding the kernel declares.
const withWeights = (code: string) => ({ code: `${weightLoad}\n${code}`, preludeLines: weightLoad.split('\n').length });

/**
 * Every kernel of the WebGPU backend, one per .wgsl file in kernels/. The `*PerRow` and
 * `attentionPerQuery` kernels are the variants for CPU-backed adapters (see KernelStyle).
 */
export const KERNELS = {
  embedRows: { folds: false, file: 'embed-rows.wgsl', ...withWeights(embedRows), bindings: ['write', 'read', 'read', 'uniform'] },
  layerNorm: { folds: false, file: 'layer-norm.wgsl', ...plain(layerNorm), bindings: ['write', 'read', 'read', 'read', 'uniform'] },
  layerNormPerRow: { folds: false, file: 'layer-norm-per-row.wgsl', ...plain(layerNormPerRow), bindings: ['write', 'read', 'read', 'read', 'uniform'] },
  rmsNorm: { folds: false, file: 'rms-norm.wgsl', ...plain(rmsNorm), bindings: ['write', 'read', 'read', 'uniform'] },
  rmsNormPerRow: { folds: false, file: 'rms-norm-per-row.wgsl', ...plain(rmsNormPerRow), bindings: ['write', 'read', 'read', 'uniform'] },
  matvec: { folds: true, file: 'matvec.wgsl', ...withWeights(matvec), bindings: ['write', 'read', 'read', 'read', 'uniform'] },
  matvecPerRow: { folds: true, file: 'matvec-per-row.wgsl', ...withWeights(matvecPerRow), bindings: ['write', 'read', 'read', 'read', 'uniform'] },
  matmulPerRow: { folds: false, file: 'matmul-per-row.wgsl', ...withWeights(matmulPerRow), bindings: ['write', 'read', 'read', 'read', 'uniform'] },
  matmulTiled: { folds: false, file: 'matmul-tiled.wgsl', ...withWeights(matmulTiled), bindings: ['write', 'read', 'read', 'read', 'uniform'] },
  rope: { folds: true, file: 'rope.wgsl', ...plain(rope), bindings: ['write', 'read', 'uniform'] },
  kvStore: { folds: true, file: 'kv-store.wgsl', ...plain(kvStore), bindings: ['write', 'write', 'read', 'uniform'] },
  attention: { folds: false, file: 'attention.wgsl', ...plain(attention), bindings: ['write', 'read', 'read', 'read', 'uniform'] },
  attentionPerQuery: { folds: false, file: 'attention-per-query.wgsl', ...plain(attentionPerQuery), bindings: ['write', 'read', 'read', 'read', 'uniform'] },
  gelu: { folds: true, file: 'gelu.wgsl', ...plain(gelu), bindings: ['write', 'read', 'uniform'] },
  siluMul: { folds: true, file: 'silu-mul.wgsl', ...plain(siluMul), bindings: ['write', 'read', 'uniform'] },
  addInPlace: { folds: true, file: 'add-in-place.wgsl', ...plain(addInPlace), bindings: ['write', 'read', 'uniform'] },
} satisfies Record<string, Kernel>;

/** The `override` constants a kernel's pipeline is specialised with, e.g. `{ DTYPE: 1 }` (bools as 0 / 1). */
export type Overrides = Readonly<Record<string, number>>;

/** Pipelines and bind group layouts, created on first use and kept for the backend's life. */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly preludes = new Map<string, number>(); // file -> preludeLines
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  /** The bind group layout of `kernel` (shared by every kernel with the same binding kinds). */
  layout(kernel: Kernel): GPUBindGroupLayout {
    return this.layoutOf(kernel).group;
  }

  /** The compute pipeline of `kernel` specialised with `overrides`. */
  pipeline(kernel: Kernel, overrides: Overrides = {}): GPUComputePipeline {
    const key = `${kernel.file}|${JSON.stringify(overrides)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: this.layoutOf(kernel).pipeline,
        compute: { module: this.module(kernel), entryPoint: 'main', constants: { ...overrides } },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /**
   * The WGSL compiler's errors for every kernel created so far, as `file:line:col message` lines
   * (empty when all compiled). Line numbers count from the top of the .wgsl file.
   */
  async compileErrors(): Promise<string[]> {
    const lines: string[] = [];
    for (const [file, module] of this.modules) {
      const info = await module.getCompilationInfo();
      const offset = this.preludes.get(file) ?? 0;
      for (const m of info.messages) {
        if (m.type !== 'error') continue;
        const inHelper = m.lineNum <= offset;
        lines.push(`${inHelper ? 'weight-load.wgsl' : file}:${inHelper ? m.lineNum : m.lineNum - offset}:${m.linePos} ${m.message}`);
      }
    }
    return lines;
  }

  private module(kernel: Kernel): GPUShaderModule {
    let module = this.modules.get(kernel.file);
    if (!module) {
      module = this.device.createShaderModule({ label: kernel.file, code: kernel.code });
      this.modules.set(kernel.file, module);
      this.preludes.set(kernel.file, kernel.preludeLines);
    }
    return module;
  }

  private layoutOf(kernel: Kernel): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    const key = kernel.bindings.join(',');
    let layout = this.layouts.get(key);
    if (!layout) {
      const group = this.device.createBindGroupLayout({
        label: key,
        entries: kernel.bindings.map((kind, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: kind === 'write' ? 'storage' : kind === 'read' ? 'read-only-storage' : 'uniform' },
        })),
      });
      layout = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(key, layout);
    }
    return layout;
  }
}
