import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.ts';
import { loadLanguageModel } from '../../src/runtime/index.ts';
import { nodeModelFiles } from '../../src/runtime/model-files-node.ts';

const run = promisify(execFile);
const model = 'test/fixtures/generated/smollm2-135m';

// `npx gpt-run` is bin/gpt-run.js over the built dist/node/cli.js: npm test builds first, and
// without a build the bin says to run `npm run build`, which fails these tests visibly.
async function gptRun(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('npx', ['gpt-run', ...args], { timeout: 120_000 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

describe('gpt-run', () => {
  it('generates text and reports tok/s on both backends, with the same greedy ids', async () => {
    const ids: Record<string, string> = {};
    for (const backend of ['cpu', 'webgpu']) {
      const r = await gptRun(model, '--prompt', 'Hello world', '--max-tokens', '8', '--backend', backend, '--print-ids');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`decode 8 tokens at [0-9.]+ tok/s \\(${backend}\\)`));
      expect(r.stderr).toMatch(/prefill \d+ tokens at [0-9.]+ tok\/s/);
      const lines = r.stdout.trimEnd().split('\n');
      ids[backend] = lines[lines.length - 1];
      expect(ids[backend]).toMatch(/^\d+(,\d+){7}$/);
    }
    expect(ids['webgpu']).toBe(ids['cpu']);
  });

  it('prints the summed log-probability of --score-ids as its last line', async () => {
    const r = await gptRun(model, '--ids', '5,6,7', '--score-ids', '8,9', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const printed = Number(r.stdout.trimEnd().split('\n').pop());
    const lm = await loadLanguageModel(nodeModelFiles(model), { backend: 'cpu' });
    const expected = (await lm.scoreContinuation([5, 6, 7], [8, 9])).total;
    lm.dispose();
    expect(printed).toBeCloseTo(expected, 5);
  });

  it('runs a .gguf file like its folder: the same greedy ids; a sharded GGUF is refused by name', async () => {
    const folder = await gptRun(model, '--prompt', 'Hello world', '--max-tokens', '6', '--backend', 'cpu', '--print-ids');
    const gguf = await gptRun('test/fixtures/generated/gguf/smollm2-135m.gguf', '--prompt', 'Hello world', '--max-tokens', '6', '--backend', 'cpu', '--print-ids');
    expect(gguf.code, gguf.stderr).toBe(0);
    expect(gguf.stderr).toMatch(/loaded llama \(2 layers, C 96/);
    expect(gguf.stdout.trimEnd().split('\n').pop()).toBe(folder.stdout.trimEnd().split('\n').pop());
    const sharded = await gptRun('model-00001-of-00003.gguf', '--prompt', 'hi');
    expect(sharded.code).toBe(1);
    expect(sharded.stderr).toMatch(/model-00001-of-00003.gguf is part 1 of a GGUF split into 3 files.*llama-gguf-split --merge/);
  });

  it('says what is wrong with a bad folder or flag, with a non-zero exit', async () => {
    const missing = await gptRun('no/such/dir', '--prompt', 'hi');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no/such/dir/config.json');
    const flag = await gptRun(model, '--top-p', '2');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--top-p 2: expected a number in (0, 1]');
  });

  it('parses every documented flag', () => {
    const a = parseArgs(['m', '--ids', '1,2', '--max-tokens', '3', '--temperature', '0.5', '--top-k', '4', '--top-p', '0.9', '--seed', '7', '--backend', 'cpu', '--quantize', 'q4_0', '--print-ids', '--score-ids', '4,5']);
    expect(a).toMatchObject({ modelDir: 'm', ids: [1, 2], maxTokens: 3, temperature: 0.5, topK: 4, topP: 0.9, seed: 7, backend: 'cpu', quantize: 'q4_0', printIds: true, scoreIds: [4, 5] });
    expect(() => parseArgs(['m', '--quantize', 'q4_k'])).toThrow(/--quantize q4_k: expected q8_0 or q4_0/);
    expect(() => parseArgs(['m', '--ids', '1,x'])).toThrow(/comma separated/);
    expect(() => parseArgs([])).toThrow(/Missing MODEL_DIR/);
    expect(parseArgs(['m', '--chat', '--prompt', 'hi'])).toMatchObject({ chat: true, prompt: 'hi' });
    expect(() => parseArgs(['m', '--chat', '--ids', '1'])).toThrow(/--chat needs --prompt/);
  });
});
