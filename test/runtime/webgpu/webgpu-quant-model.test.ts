import { describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles, type LanguageModel, type QuantizeOnLoad } from '../../../src/node.ts'; // Dawn for 'webgpu'
import { argmax, maxAbsDiff } from '../../helpers/parity-cases.ts';

// The bundled demo model (a trained 1.9M-parameter Llama, F16 on disk) quantized on load, run on
// the CPU (WebAssembly SIMD, 8-bit activations) and on WebGPU (Dawn, f32 activations) against the
// same model unquantized. Greedy decoding follows each backend's own argmax, so equal ids mean the
// quantized model takes the same path on both; the logits are compared with the unquantized
// model's, teacher-forced on those ids.
//
// Measured on this prompt (a 35-token chat prompt; the largest |logit difference| over the
// prompt's last position and 32 decode steps; the logits of one position span about 27):
//   q8_0: CPU vs F16 0.137, WebGPU vs F16 0.086, CPU vs WebGPU 0.100
//   q4_0: CPU vs F16 1.50,  WebGPU vs F16 1.48,  CPU vs WebGPU 0.107
// and all 32 greedy tokens equal to the F16 model's, for both types on both backends. The bounds
// are these plus about a third.

const demo = () => nodeModelFiles('models/gpt-chat-demo');
const STEPS = 32;

interface Run {
  ids: number[]; // the prompt, then the greedy tokens
  logits: Float32Array[]; // after the prompt, then after each greedy token
}

async function greedy(lm: LanguageModel, prompt: number[]): Promise<Run> {
  lm.model.rewind(0);
  let logits = (await lm.model.prefill(prompt)).slice();
  const run: Run = { ids: [...prompt], logits: [logits] };
  for (let i = 0; i < STEPS; i++) {
    const id = argmax(logits);
    run.ids.push(id);
    logits = (await lm.model.decode(id)).slice();
    run.logits.push(logits);
  }
  return run;
}

// the logits of `lm` after each position from prompt.length - 1 on, fed `ids`
async function teacherForced(lm: LanguageModel, ids: number[], promptLength: number): Promise<Float32Array[]> {
  lm.model.rewind(0);
  const out = [(await lm.model.prefill(ids.slice(0, promptLength))).slice()];
  for (let i = promptLength; i < ids.length; i++) out.push((await lm.model.decode(ids[i])).slice());
  return out;
}

const worst = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((x, i) => maxAbsDiff(x, b[i])));

async function load(backend: 'cpu' | 'webgpu', quantize?: QuantizeOnLoad) {
  return loadLanguageModel(demo(), { backend, quantize, contextLength: 128 });
}

describe('a model quantized on load, on the CPU and on WebGPU', () => {
  const BOUNDS = {
    q8_0: { cpu: 0.18, gpu: 0.12, cpuVsGpu: 0.13 },
    q4_0: { cpu: 2.0, gpu: 2.0, cpuVsGpu: 0.15 },
  } as const;

  for (const quantize of ['q8_0', 'q4_0'] as const) {
    it(`${quantize}: the greedy ids of the unquantized model on both backends, logits near its own`, async () => {
      const f16 = await load('cpu');
      const cpu = await load('cpu', quantize);
      const gpu = await load('webgpu', quantize);
      try {
        const prompt = f16.encode([{ role: 'user', content: 'Hello! What can you do?' }]);
        const onCpu = await greedy(cpu, prompt);
        const onGpu = await greedy(gpu, prompt);
        expect(onCpu.ids).toEqual((await greedy(f16, prompt)).ids);
        expect(onGpu.ids).toEqual(onCpu.ids);
        const ref = await teacherForced(f16, onCpu.ids, prompt.length);
        const report = { cpu: worst(onCpu.logits, ref), gpu: worst(onGpu.logits, ref), cpuVsGpu: worst(onCpu.logits, onGpu.logits) };
        expect(report.cpu).toBeLessThan(BOUNDS[quantize].cpu);
        expect(report.gpu).toBeLessThan(BOUNDS[quantize].gpu);
        expect(report.cpuVsGpu).toBeLessThan(BOUNDS[quantize].cpuVsGpu);
      } finally {
        f16.dispose();
        cpu.dispose();
        gpu.dispose();
      }
    });
  }
});
