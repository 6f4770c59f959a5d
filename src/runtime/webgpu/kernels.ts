import addInPlace from './kernels/add-in-place.wgsl';
import argmax from './kernels/argmax.wgsl';
import attention from './kernels/attention.wgsl';
import attentionCombine from './kernels/attention-combine.wgsl';
import attentionPerQuery from './kernels/attention-per-query.wgsl';
import drawToken from './kernels/draw-token.wgsl';
import embedRows from './kernels/embed-rows.wgsl';
import floatKey from './kernels/float-key.wgsl';
import gelu from './kernels/gelu.wgsl';
import layerNorm from './kernels/layer-norm.wgsl';
import layerNormPerRow from './kernels/layer-norm-per-row.wgsl';
import matmulPerRow from './kernels/matmul-per-row.wgsl';
import matmulTiled from './kernels/matmul-tiled.wgsl';
import matvec from './kernels/matvec.wgsl';
import matvecPerRow from './kernels/matvec-per-row.wgsl';
import matvecSubgroup from './kernels/matvec-subgroup.wgsl';
import rmsNorm from './kernels/rms-norm.wgsl';
import rmsNormPerRow from './kernels/rms-norm-per-row.wgsl';
import sampleCommon from './kernels/sample-common.wgsl';
import ropeKvStore from './kernels/rope-kv-store.wgsl';
import siluMul from './kernels/silu-mul.wgsl';
import topKCut from './kernels/top-k-cut.wgsl';
import topPCut from './kernels/top-p-cut.wgsl';
import weightLoad from './kernels/weight-load.wgsl';
import workgroupReduce from './kernels/workgroup-reduce.wgsl';
import type { WeightDType } from '../backend.ts';
import { isQuantDType, QUANT_DTYPES, type QuantDType } from '../quant/quant-dtype.ts';
import { QUANT_WGSL } from './gpu-quant.ts';
import { GPU_DTYPE_CODE } from './gpu-weight.ts';

/**
 * 'cooperative': the threads of a workgroup share each output and reduce through workgroup memory
 * (matvec.wgsl, matmul-tiled.wgsl, attention.wgsl, the norms): what GPUs are built for.
 * 'serial': each invocation computes whole outputs alone, without barriers (the *-per-row and
 * attention-per-query kernels). Software adapters run a workgroup's invocations as coroutines and
 * pay a switch at every barrier; on SwiftShader the serial kernels decode llama-15m ~100x faster.
 */
export type KernelStyle = 'cooperative' | 'serial';

/**
 * How a kernel binds one buffer, in binding order (outputs first, the `Params` uniform last):
 * 'write' read_write storage, 'read' read-only storage, 'uniform' the Params struct.
 */
export type BindingKind = 'write' | 'read' | 'uniform';

/** The `override` constants a kernel's pipeline is specialised with, e.g. `{ DTYPE: 1 }` (bools as 0 / 1). */
export type Overrides = Readonly<Record<string, number>>;

/** One WGSL kernel: its file (for error messages), full source, and the bindings it declares. */
export interface Kernel {
  readonly file: string;
  readonly code: string;
  readonly bindings: readonly BindingKind[];
  /**
   * WGSL directives (`enable subgroups;`) the module starts with: they must come before every
   * declaration, so before the preludes too. The device must have the features they enable.
   */
  readonly directives?: string;
  /** The helper files in front of the kernel's own source, in order (WGSL has no includes). */
  readonly preludes: readonly Prelude[];
  /** Takes a 1-D grid folded into two dimensions (indexes workgroups as wid.y * nwg.x + wid.x). */
  readonly folds: boolean;
  /**
   * Its workgroup size and work per invocation, as the `override` constants the WGSL declares
   * without a default: every pipeline of the kernel gets them, so this table is the one place
   * they are set.
   */
  readonly constants: Overrides;
  /** Grid items (x, y) one workgroup covers, from `constants`: a dispatch is ceil(items / this). */
  readonly perWorkgroup: readonly [number, number];
}

/** A helper file prepended to kernels: its name and length, for error line numbers. */
export interface Prelude {
  readonly file: 'weight-load.wgsl' | 'workgroup-reduce.wgsl' | 'float-key.wgsl' | 'sample-common.wgsl' | `quant-${'q8-0' | 'q4-0' | 'q4-k' | 'q6-k'}.wgsl`;
  readonly lines: number;
}

type Helper = readonly [file: Prelude['file'], code: string];
// WGSL has no includes, and declarations are order independent, so a helper prepended to a kernel
// can use what the kernel (or another helper) declares: kernels that read a weight matrix get
// weight-load.wgsl (it reads the `w` binding), the cooperative reductions workgroup-reduce.wgsl
// (it sizes by `WG`), the kernels that rank logits float-key.wgsl, the sampling ones also
// sample-common.wgsl (which calls key()).
const prepend =
  (...helpers: Helper[]) =>
  (code: string) => ({
    code: [...helpers.map(([, helper]) => helper), code].join('\n'),
    preludes: helpers.map(([file, helper]) => ({ file, lines: helper.split('\n').length })),
  });
const plain = prepend();
const withWeights = prepend(['weight-load.wgsl', weightLoad]);
const withReduce = prepend(['workgroup-reduce.wgsl', workgroupReduce]);
const withKey = prepend(['float-key.wgsl', floatKey]);
const withSampling = prepend(['float-key.wgsl', floatKey], ['sample-common.wgsl', sampleCommon]);

// Binding lists, outputs first and the Params uniform last.
const OUT_IN = ['write', 'read', 'uniform'] as const;
const OUT_IN_W = ['write', 'read', 'read', 'uniform'] as const;
const OUT_IN_W_B = ['write', 'read', 'read', 'read', 'uniform'] as const;
// the norms: out, the residual stream (added to in place when ADD), what is added, weight (, bias)
const NORM = ['write', 'write', 'read', 'read', 'uniform'] as const;
const NORM_B = ['write', 'write', 'read', 'read', 'read', 'uniform'] as const;

// Workgroup sizes. 256 threads for elementwise work and the cooperative reductions; 64 for the
// serial kernels, whose threads each do a whole row (see KernelStyle); 4 for attention per query,
// where decode has only H queries and a software adapter runs each workgroup on one CPU thread.
const ELEMENTWISE = { WG: 256 };
const PER_ROW = { WG: 64 };
// matvec-per-row, matmul-per-row: outputs one thread computes alone, and (matmul) tokens that
// share each weight load. Their loops are unrolled for these, so the WGSL holds them as consts,
// not overrides (measured: see the files); a test checks that both say the same.
const ROWS_PER_INVOCATION = 4;
const TOKENS_PER_INVOCATION = 4;
const MATVEC = { LANES: 32, ROWS: 8 }; // threads per output row, rows per workgroup
// matvec-subgroup: as many invocations and rows, each row summed by whichever subgroup takes it
const MATVEC_SUBGROUP = { WG: MATVEC.LANES * MATVEC.ROWS, ROWS: MATVEC.ROWS };
// subgroup_uniformity: the kernel calls subgroup builtins in loops whose exit is uniform per
// subgroup (a broadcast value), which WGSL's analysis cannot see
const SUBGROUPS = 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);';
const TILED = { SIDE: 8 }; // 8 x 8 threads, each 4 x 4 outputs: 32 x 32 tiles
const ATTENTION = { WG: 64 }; // threads and keys per tile; head size up to WG * 4
const PER_QUERY = { WG: 4 }; // attention-per-query: queries per workgroup

/**
 * Every kernel of the WebGPU backend, one per .wgsl file in kernels/. The `*PerRow` and
 * `attentionPerQuery` kernels are the variants for CPU-backed adapters (see KernelStyle);
 * `matvecSubgroup` replaces `matvec` where the device has the `subgroups` feature.
 */
export const KERNELS = {
  embedRows: { file: 'embed-rows.wgsl', ...withWeights(embedRows), bindings: OUT_IN_W, folds: false, constants: PER_ROW, perWorkgroup: [PER_ROW.WG, 1] },
  layerNorm: { file: 'layer-norm.wgsl', ...withReduce(layerNorm), bindings: NORM_B, folds: false, constants: ELEMENTWISE, perWorkgroup: [1, 1] },
  layerNormPerRow: { file: 'layer-norm-per-row.wgsl', ...plain(layerNormPerRow), bindings: NORM_B, folds: false, constants: PER_ROW, perWorkgroup: [PER_ROW.WG, 1] },
  rmsNorm: { file: 'rms-norm.wgsl', ...withReduce(rmsNorm), bindings: NORM, folds: false, constants: ELEMENTWISE, perWorkgroup: [1, 1] },
  rmsNormPerRow: { file: 'rms-norm-per-row.wgsl', ...plain(rmsNormPerRow), bindings: NORM, folds: false, constants: PER_ROW, perWorkgroup: [PER_ROW.WG, 1] },
  matvec: { file: 'matvec.wgsl', ...withWeights(matvec), bindings: OUT_IN_W_B, folds: true, constants: MATVEC, perWorkgroup: [MATVEC.ROWS, 1] },
  matvecSubgroup: {
    file: 'matvec-subgroup.wgsl',
    ...withWeights(matvecSubgroup),
    directives: SUBGROUPS,
    bindings: OUT_IN_W_B,
    folds: true,
    constants: MATVEC_SUBGROUP,
    perWorkgroup: [MATVEC_SUBGROUP.ROWS, 1],
  },
  matvecPerRow: {
    file: 'matvec-per-row.wgsl',
    ...withWeights(matvecPerRow),
    bindings: OUT_IN_W_B,
    folds: true,
    constants: PER_ROW,
    perWorkgroup: [PER_ROW.WG * ROWS_PER_INVOCATION, 1],
  },
  matmulPerRow: {
    file: 'matmul-per-row.wgsl',
    ...withWeights(matmulPerRow),
    bindings: OUT_IN_W_B,
    folds: false,
    constants: PER_ROW,
    perWorkgroup: [PER_ROW.WG * ROWS_PER_INVOCATION, TOKENS_PER_INVOCATION],
  },
  matmulTiled: { file: 'matmul-tiled.wgsl', ...withWeights(matmulTiled), bindings: OUT_IN_W_B, folds: false, constants: TILED, perWorkgroup: [TILED.SIDE * 4, TILED.SIDE * 4] },
  ropeKvStore: { file: 'rope-kv-store.wgsl', ...plain(ropeKvStore), bindings: ['write', 'write', 'write', 'read', 'uniform'], folds: true, constants: ELEMENTWISE, perWorkgroup: [ELEMENTWISE.WG, 1] },
  attention: { file: 'attention.wgsl', ...withReduce(attention), bindings: OUT_IN_W_B, folds: false, constants: ATTENTION, perWorkgroup: [1, 1] },
  attentionPerQuery: { file: 'attention-per-query.wgsl', ...plain(attentionPerQuery), bindings: OUT_IN_W_B, folds: false, constants: PER_QUERY, perWorkgroup: [PER_QUERY.WG, 1] },
  attentionCombine: { file: 'attention-combine.wgsl', ...plain(attentionCombine), bindings: OUT_IN, folds: false, constants: ELEMENTWISE, perWorkgroup: [ELEMENTWISE.WG, 1] },
  gelu: { file: 'gelu.wgsl', ...plain(gelu), bindings: OUT_IN, folds: true, constants: ELEMENTWISE, perWorkgroup: [ELEMENTWISE.WG, 1] },
  siluMul: { file: 'silu-mul.wgsl', ...plain(siluMul), bindings: OUT_IN, folds: true, constants: ELEMENTWISE, perWorkgroup: [ELEMENTWISE.WG, 1] },
  argmax: { file: 'argmax.wgsl', ...withKey(argmax), bindings: OUT_IN, folds: false, constants: ELEMENTWISE, perWorkgroup: [1, 1] }, // one workgroup
  // sampling, one workgroup each: top-k's cut, then temperature and top-p's, then the draw
  topKCut: { file: 'top-k-cut.wgsl', ...withSampling(topKCut), bindings: OUT_IN, folds: false, constants: ELEMENTWISE, perWorkgroup: [1, 1] },
  topPCut: { file: 'top-p-cut.wgsl', ...withSampling(topPCut), bindings: ['write', 'write', 'read', 'uniform'], folds: false, constants: ELEMENTWISE, perWorkgroup: [1, 1] },
  drawToken: { file: 'draw-token.wgsl', ...withSampling(drawToken), bindings: OUT_IN_W_B, folds: false, constants: ELEMENTWISE, perWorkgroup: [1, 1] },
  addInPlace: { file: 'add-in-place.wgsl', ...plain(addInPlace), bindings: OUT_IN, folds: true, constants: ELEMENTWISE, perWorkgroup: [ELEMENTWISE.WG, 1] },
} satisfies Record<string, Kernel>;

/**
 * The decode (T = 1) matvec: per row for the serial style; for the cooperative one, rows summed by
 * subgroups where the device has the feature (matvec-subgroup.wgsl), else in workgroup memory.
 */
export function matvecKernel(style: KernelStyle, subgroups: boolean): Kernel {
  if (style === 'serial') return KERNELS.matvecPerRow;
  return subgroups ? KERNELS.matvecSubgroup : KERNELS.matvec;
}

/** True for a kernel that reads a weight matrix (through weight-load.wgsl): {@link weightKernel} takes it. */
export function readsWeights(kernel: Kernel): boolean {
  return kernel.preludes.some((p) => p.file === 'weight-load.wgsl');
}

// the variants of the weight-reading kernels for quantized weights, made on first use
const quantVariants = new Map<string, Kernel>();

/**
 * `kernel` (one that reads a weight matrix through weight-load.wgsl's weight4 / weight1) for a
 * weight stored as `dtype`, and the overrides that pick the type: float types share one pipeline
 * per DTYPE code of weight-load.wgsl; a quantized type gets the kernel with its own reader
 * (kernels/quant-*.wgsl, see gpu-quant.ts) in front instead, so the kernels themselves are the
 * same text for every type.
 */
export function weightKernel(kernel: Kernel, dtype: WeightDType): [Kernel, Overrides] {
  if (!isQuantDType(dtype)) return [kernel, { DTYPE: GPU_DTYPE_CODE[dtype] }];
  return [quantVariant(kernel, dtype), {}];
}

function quantVariant(kernel: Kernel, dtype: QuantDType): Kernel {
  const key = `${kernel.file}|${dtype}`;
  let variant = quantVariants.get(key);
  if (!variant) {
    if (!readsWeights(kernel)) throw new Error(`${kernel.file} does not read a weight matrix`);
    const body = kernel.code.slice(weightLoad.length + 1); // what withWeights put after the helper
    const file = `quant-${dtype.replace('_', '-') as 'q8-0' | 'q4-0' | 'q4-k' | 'q6-k'}.wgsl` as const;
    variant = { ...kernel, file: `${kernel.file} (${dtype})`, ...prepend([file, QUANT_WGSL[dtype]])(body) };
    quantVariants.set(key, variant);
  }
  return variant;
}

/**
 * Flash-decoding (the attention kernels with SPLIT, then attention-combine.wgsl): a decode step over more
 * than KEYS_PER_SPLIT cached positions splits them into chunks of at least that many keys, at most
 * MAX_SPLITS of them, one workgroup (or invocation, serial style) each, instead of one per head.
 */
export const KEYS_PER_SPLIT = 256;
export const MAX_SPLITS = 32;

/** Largest head size the attention kernels take: attention.wgsl's MAX_D (4 dims a thread), attention-per-query's MAX_D4. */
export const MAX_HEAD_SIZE = ATTENTION.WG * 4;

const pipelineKey = (kernel: Kernel, overrides: Overrides) => `${kernel.file}|${JSON.stringify(overrides)}`;

/**
 * Pipelines and bind group layouts, kept for the backend's life: created ahead by {@link prepare}
 * during load, or else on first use.
 */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly preludes = new Map<string, { preludes: readonly Prelude[]; directives: number }>(); // by kernel file: lines in front of it
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private createdOnUse = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The bind group layout of `kernel` (shared by every kernel with the same binding kinds). */
  layout(kernel: Kernel): GPUBindGroupLayout {
    return this.layoutOf(kernel).group;
  }

  /** The compute pipeline of `kernel` specialised with its table constants and `overrides`. */
  pipeline(kernel: Kernel, overrides: Overrides = {}): GPUComputePipeline {
    const key = pipelineKey(kernel, overrides);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline(this.descriptor(kernel, overrides, key));
      this.pipelines.set(key, pipeline);
      this.createdOnUse++;
    }
    return pipeline;
  }

  /** Pipelines created at their first use rather than by {@link prepare}: each was a stall. */
  get createdOnUseCount(): number {
    return this.createdOnUse;
  }

  /**
   * Creates the pipelines of `wanted` that do not exist yet, all at once with
   * createComputePipelineAsync, so the driver compiles them in parallel and off this thread
   * instead of one by one at their first dispatch (which stalls the first token: 2.7 s of a
   * 2.8 s first prefill of the demo model on SwiftShader). `onDone` counts them as they land.
   */
  async prepare(wanted: Iterable<{ kernel: Kernel; overrides: Overrides }>, onDone?: (done: number, total: number) => void): Promise<void> {
    const todo = new Map<string, { kernel: Kernel; overrides: Overrides }>();
    for (const w of wanted) {
      const key = pipelineKey(w.kernel, w.overrides);
      if (!this.pipelines.has(key)) todo.set(key, w);
    }
    let done = 0;
    onDone?.(0, todo.size);
    await Promise.all(
      [...todo].map(async ([key, { kernel, overrides }]) => {
        const pipeline = await this.device.createComputePipelineAsync(this.descriptor(kernel, overrides, key));
        this.pipelines.set(key, pipeline);
        onDone?.(++done, todo.size);
      }),
    );
  }

  private descriptor(kernel: Kernel, overrides: Overrides, key: string): GPUComputePipelineDescriptor {
    return {
      label: key,
      layout: this.layoutOf(kernel).pipeline,
      compute: { module: this.module(kernel), entryPoint: 'main', constants: { ...kernel.constants, ...overrides } },
    };
  }

  /**
   * Compiles every kernel of {@link KERNELS} (those that read weights, for every weight type; those
   * with directives only where the device has `subgroups`, the one feature a kernel enables) and
   * resolves with {@link compileErrors}, or the validation error when no compiler message explains it.
   */
  async compileAll(): Promise<string[]> {
    const WEIGHT_DTYPES = ['f32', 'f16', 'bf16', ...QUANT_DTYPES] as const;
    this.device.pushErrorScope('validation');
    for (const kernel of Object.values<Kernel>(KERNELS)) {
      if (kernel.directives && !this.device.features.has('subgroups')) continue;
      if (readsWeights(kernel)) for (const dtype of WEIGHT_DTYPES) this.pipeline(...weightKernel(kernel, dtype));
      else this.pipeline(kernel);
    }
    const error = await this.device.popErrorScope();
    const lines = await this.compileErrors();
    if (error && lines.length === 0) lines.push(error.message);
    return lines;
  }

  /**
   * The WGSL compiler's errors for every kernel created so far, as `file:line:col message` lines
   * (empty when all compiled). Line numbers count from the top of the .wgsl file.
   */
  async compileErrors(): Promise<string[]> {
    const lines: string[] = [];
    for (const [file, module] of this.modules) {
      const info = await module.getCompilationInfo();
      const { preludes, directives } = this.preludes.get(file) ?? { preludes: [], directives: 0 };
      for (const m of info.messages) {
        if (m.type !== 'error') continue;
        // the directives, then each helper, then the kernel's own lines
        let line = m.lineNum - directives;
        let where = file;
        for (const prelude of preludes) {
          if (line <= prelude.lines) {
            where = prelude.file;
            break;
          }
          line -= prelude.lines;
        }
        lines.push(`${where}:${line}:${m.linePos} ${m.message}`);
      }
    }
    return lines;
  }

  private module(kernel: Kernel): GPUShaderModule {
    let module = this.modules.get(kernel.file);
    if (!module) {
      const code = kernel.directives ? `${kernel.directives}\n${kernel.code}` : kernel.code;
      module = this.device.createShaderModule({ label: kernel.file, code });
      this.modules.set(kernel.file, module);
      this.preludes.set(kernel.file, { preludes: kernel.preludes, directives: kernel.directives ? kernel.directives.split('\n').length : 0 });
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
