// No stall on the first tokens: kernels are compiled during load (WebGPU pipelines with
// createComputePipelineAsync, the WebAssembly modules with WebAssembly.compile), not on first use.
// The one timing assertion of the suite, made robust to a loaded machine (2 cores, a load of 15
// while other test runs share it): each step is compared with the median of the same run, steps
// are measured in CPU time of this process (time spent waiting for a core does not count; a
// compile does, on any thread), and the models are sized so that a step takes 5-20 ms, well
// above the few ms of background work (GC, the JIT) that land on a random step: on the CPU a
// zero-weight model of SmolLM2-135M's widths, on WebGPU (SwiftShader here) the demo model.
import { describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles } from '../../src/node.ts';
import type { CheckedBackend } from '../../src/runtime/checked-backend.ts';
import type { WebGpuBackend } from '../../src/runtime/webgpu/webgpu-backend.ts';
import { Sampler } from '../../src/runtime/sampler.ts';
import { zeroLlamaModel } from '../helpers/zero-model.ts';

const STEPS = 10;
const MODELS = {
  // SmolLM2-135M's widths and heads, 6 layers: 85 MB of f32 weights
  cpu: () => zeroLlamaModel({ L: 6, C: 576, H: 9, Hkv: 3, F: 1536 }),
  webgpu: () => 'models/gpt-chat-demo',
};

/** CPU time of this process over `f`, in ms. */
async function cpuMs<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = process.cpuUsage();
  const r = await f();
  const d = process.cpuUsage(t);
  return [(d.user + d.system) / 1000, r];
}

/** Loads the model fresh and times its first prefill, first decode steps and a later prefill; a stall found, or null. */
async function firstTokensStall(backend: 'cpu' | 'webgpu'): Promise<string | null> {
  const lm = await loadLanguageModel(nodeModelFiles(MODELS[backend]()), { backend });
  try {
    const m = lm.model;
    const prompt = lm.encode('Hello! What can you do?');
    let [firstPrefill, logits] = await cpuMs(() => m.prefill(prompt));
    const ms: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      let id = 0;
      for (let j = 1; j < logits.length; j++) if (logits[j] > logits[id]) id = j;
      const [step, next] = await cpuMs(() => m.decode(id));
      ms.push(step);
      logits = next;
    }
    m.rewind(0);
    const [againPrefill] = await cpuMs(() => m.prefill(prompt));
    const median = [...ms].sort((a, b) => a - b)[STEPS >> 1];
    const figures = `first prefill ${firstPrefill.toFixed(1)} ms, again ${againPrefill.toFixed(1)} ms; decode steps ${ms.map((x) => x.toFixed(1)).join(', ')} ms (CPU time)`;
    console.log(`${backend}: ${figures}`);
    if (Math.max(...ms) > 3 * median) return `a decode step over 3x the median: ${figures}`;
    // The first token comes from the prefill: it must not compile what a later one reuses.
    if (firstPrefill > 3 * againPrefill) return `the first prefill over 3x a later one: ${figures}`;
    return null;
  } finally {
    lm.dispose();
  }
}

describe('the first tokens after load come at the steady speed', () => {
  // SwiftShader's worker threads spin while they wait, so under contention its CPU time jumps now
  // and then. Every load makes a new device whose pipelines compile anew, so a compile stall would
  // show in every attempt; WebGPU passes when one of three fresh loads shows none. The CPU path
  // runs on this thread alone and gets one attempt: its kernels compile once per process.
  for (const [backend, attempts] of [['cpu', 1], ['webgpu', 3]] as const) {
    it(`${backend}: no decode step of the first ${STEPS} is slower than 3x their median, nor the first prefill than 3x a later one`, async () => {
      const stalls: string[] = [];
      for (let i = 0; i < attempts; i++) {
        const stall = await firstTokensStall(backend);
        if (stall === null) return;
        stalls.push(stall);
      }
      expect.fail(stalls.join('\n'));
    });
  }

  it('webgpu: every pipeline a chat and few-shot scoring use was created during load', async () => {
    for (const name of ['gpt2', 'qwen2.5-0.5b', 'smollm2-bf16']) {
      const lm = await loadLanguageModel(nodeModelFiles(`test/fixtures/generated/${name}`), { backend: 'webgpu', prefillChunk: 8 });
      try {
        const gpu = (lm.model.backend as CheckedBackend<WebGpuBackend>).inner;
        const m = lm.model;
        await m.prefill(Array.from({ length: 20 }, (_, i) => (i * 7) % lm.config.V));
        for (let i = 0; i < 3; i++) await m.decode(i + 1);
        await m.scoreContinuation([4, 5, 6]);
        expect(gpu.pipelinesCreatedOnUse, name).toBe(0);
      } finally {
        lm.dispose();
      }
    }
  });
});

describe('dispatches per decode step on WebGPU', () => {
  // Per layer, Llama: the qkv matvec, rotate + store k and v, attention, the output matvec, the
  // residual add fused with the MLP's norm, the gated [gate | up] matvec with SiLU, the down matvec,
  // the add fused with the next norm; GPT-2 runs GELU as its own pass. Around the layers: the
  // embedding (and learned positions), the first norm, the final norm and the head.
  for (const [name, perLayer, outside] of [['smollm2-bf16', 8, 4], ['gpt2', 9, 5]] as const) {
    it(`${name}: ${outside} + ${perLayer} L dispatches`, async () => {
      const lm = await loadLanguageModel(nodeModelFiles(`test/fixtures/generated/${name}`), { backend: 'webgpu' });
      try {
        const gpu = (lm.model.backend as CheckedBackend<WebGpuBackend>).inner;
        await lm.model.prefill([1, 2, 3]);
        const before = gpu.dispatchCount;
        await lm.model.decode(4);
        expect(gpu.dispatchCount - before).toBe(outside + perLayer * lm.config.L);
        // sampling on the GPU adds top-k's cut, top-p's cut and the draw
        const sampled = gpu.dispatchCount;
        await lm.model.decodeSampled(5, new Sampler({ temperature: 1, topK: 10, topP: 0.9 }));
        expect(gpu.dispatchCount - sampled).toBe(outside + perLayer * lm.config.L + 3);
      } finally {
        lm.dispose();
      }
    });
  }
});
