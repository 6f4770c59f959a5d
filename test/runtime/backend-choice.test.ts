import { describe, expect, it } from 'vitest';
import { createBackend, loadLanguageModel, nodeGpu, nodeModelFiles, type BackendProbe, type ProbeStore } from '../../src/node.ts';
import { parseModelConfig } from '../../src/runtime/model/hf-config.ts';
import { readFileSync } from 'node:fs';

const DIR = 'test/fixtures/generated/smollm2-135m';
const config = () => parseModelConfig(readFileSync(`${DIR}/config.json`, 'utf8'), 'config.json');

/** A probe store in memory that counts its writes. */
function memoryProbes(initial: Record<string, BackendProbe> = {}): ProbeStore & { writes: number; values: Map<string, unknown> } {
  const values = new Map<string, unknown>(Object.entries(initial));
  return {
    writes: 0,
    values,
    async get(key) {
      return values.get(key);
    },
    async set(key, value) {
      this.writes++;
      values.set(key, value);
    },
  };
}

describe("createBackend: 'auto' takes the faster backend", () => {
  it("on SwiftShader (a CPU-backed adapter) 'auto' runs the CPU path and says why", async () => {
    const { backend, reason, notice } = await createBackend('auto', { device: { gpu: nodeGpu } });
    try {
      expect(backend.kind).toBe('cpu');
      expect(reason).toMatch(/WebGPU here runs in software \(.*\), slower than the CPU path/);
      expect(notice).toBeUndefined(); // not a fallback: the CPU is the better choice here
    } finally {
      backend.destroy();
    }
  });

  it("'webgpu' still forces WebGPU on the same adapter, and 'cpu' the CPU", async () => {
    const gpu = await createBackend('webgpu', { device: { gpu: nodeGpu } });
    const cpu = await createBackend('cpu');
    try {
      expect(gpu.backend.kind).toBe('webgpu');
      expect(gpu.reason).toBe('asked for');
      expect(cpu.backend.kind).toBe('cpu');
    } finally {
      gpu.backend.destroy();
      cpu.backend.destroy();
    }
  });

  it('where the adapter is unclear, a timed probe decides (the CPU on SwiftShader) and is stored, so it runs once', async () => {
    const store = memoryProbes();
    const unclear = () => null;
    const first = await createBackend('auto', { device: { gpu: nodeGpu }, config: config(), probeStore: store, cpuBacked: unclear });
    first.backend.destroy();
    expect(first.backend.kind).toBe('cpu');
    expect(first.reason).toMatch(/^faster on this device \(CPU [\d.]+ vs [\d.]+ ms a token on WebGPU\)$/);
    expect(store.writes).toBe(1);
    const [probe] = [...store.values.values()] as BackendProbe[];
    expect(probe.cpuMs).toBeLessThan(probe.webgpuMs);

    // The stored result is used as it is: no second probe (and a stored verdict for WebGPU is obeyed).
    const key = [...store.values.keys()][0];
    store.values.set(key, { cpuMs: 50, webgpuMs: 5 });
    const second = await createBackend('auto', { device: { gpu: nodeGpu }, config: config(), probeStore: store, cpuBacked: unclear });
    second.backend.destroy();
    expect(store.writes).toBe(1);
    expect(second.backend.kind).toBe('webgpu');
    expect(second.reason).toBe('faster on this device (WebGPU 5.0 vs 50.0 ms a token on the CPU)');
  });

  it('a loaded model carries the reason', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(DIR));
    try {
      expect(lm.backendKind).toBe('cpu');
      expect(lm.backendReason).toMatch(/runs in software/);
    } finally {
      lm.dispose();
    }
  });
});
