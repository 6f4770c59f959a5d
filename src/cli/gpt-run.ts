import { GptError } from '../errors.ts';
import { loadLanguageModel } from '../runtime/index.ts';
import { nodeModelFiles } from '../runtime/model-files-node.ts';
import { nodeGpu } from '../runtime/webgpu/node-gpu.ts';
import { parseArgs, USAGE } from './args.ts';

/** `gpt-run`: returns the process exit code. Text goes to stdout, timing and errors to stderr. */
export async function main(argv: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.help) {
      out.write(USAGE + '\n');
      return 0;
    }
    const t0 = performance.now();
    const lm = await loadLanguageModel(nodeModelFiles(args.modelDir), { backend: args.backend, device: { gpu: nodeGpu }, ...(args.quantize ? { quantize: args.quantize } : {}) });
    const loadMs = performance.now() - t0;
    err.write(`gpt-run: loaded ${lm.config.modelType} (${lm.config.L} layers, C ${lm.config.C}, V ${lm.config.V}) on ${lm.backendKind} in ${loadMs.toFixed(0)} ms\n`);
    if (lm.notice) err.write(`gpt-run: ${lm.notice}\n`);
    try {
      const input = args.ids ? { ids: args.ids } : args.chat ? [{ role: 'user' as const, content: args.prompt ?? '' }] : args.prompt ?? '';
      const promptIds = lm.encode(input);
      if (promptIds.length === 0) {
        throw new GptError('bad-argument', 'The prompt is empty. Pass --prompt TEXT or --ids 1,2,3.');
      }

      if (args.scoreIds) {
        const t1 = performance.now();
        const score = await lm.scoreContinuation(promptIds, args.scoreIds);
        err.write(`gpt-run: scored ${args.scoreIds.length} tokens after ${promptIds.length} in ${(performance.now() - t1).toFixed(0)} ms\n`);
        out.write(`${score.total}\n`);
        return 0;
      }

      // prefill and decode are timed apart: the first token's latency is the prefill
      const ids: number[] = [];
      const t1 = performance.now();
      let tFirst = 0;
      const gen = lm.generate({ ids: promptIds }, {
        maxTokens: args.maxTokens, temperature: args.temperature, topK: args.topK, topP: args.topP, seed: args.seed,
      });
      for (;;) {
        const next = await gen.next();
        if (next.done) break;
        if (ids.length === 0 && next.value.id >= 0) tFirst = performance.now();
        if (next.value.id >= 0) ids.push(next.value.id);
        out.write(next.value.text);
      }
      const t2 = performance.now();
      out.write('\n');
      const prefillS = ((tFirst || t2) - t1) / 1000;
      const decodeS = (t2 - (tFirst || t2)) / 1000;
      const decodeRate = ids.length > 1 ? ((ids.length - 1) / decodeS).toFixed(1) : 'n/a';
      err.write(`gpt-run: prefill ${promptIds.length} tokens at ${(promptIds.length / prefillS).toFixed(1)} tok/s, decode ${ids.length} tokens at ${decodeRate} tok/s (${lm.backendKind})\n`);
      if (args.printIds) out.write(ids.join(',') + '\n');
      return 0;
    } finally {
      lm.dispose();
    }
  } catch (e) {
    const error = GptError.from(e);
    err.write(`gpt-run: error (${error.code}): ${error.message}\n`);
    return error.code === 'bad-argument' ? 2 : 1;
  }
}
