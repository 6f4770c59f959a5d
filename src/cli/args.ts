import { GptError } from '../errors.ts';

/** Parsed command line of `gpt-run`. */
export interface RunArgs {
  modelDir: string;
  prompt: string | null;
  ids: number[] | null;
  chat: boolean;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  backend: 'webgpu' | 'cpu' | 'auto';
  quantize: 'q8_0' | 'q4_0' | null;
  printIds: boolean;
  scoreIds: number[] | null;
  help: boolean;
}

export const USAGE = `Usage: gpt-run MODEL_DIR|MODEL.gguf [options]

Runs a decoder-only GPT from a Hugging Face folder (config.json, model.safetensors,
tokenizer.json ...) or one GGUF file (llama, qwen2, gpt2; F32, F16, BF16, Q8_0, Q4_0, Q4_K,
Q6_K) on WebGPU (Dawn) or the CPU, and streams the generated text to stdout.

  --prompt TEXT        text to continue (or, with --chat, the user message)
  --ids 1,2,3          token ids to start from instead of --prompt
  --chat               wrap the prompt in the model's chat template
  --max-tokens N       tokens to generate (default 64)
  --temperature T      0 = greedy (default 0)
  --top-k K            keep the K most likely tokens (default 0 = off)
  --top-p P            nucleus sampling (default 1 = off)
  --seed S             seed of the sampler (default 0)
  --backend B          webgpu | cpu | auto (default auto: WebGPU when available)
  --quantize Q         q8_0 | q4_0: quantize the float matrices as they load
  --print-ids          last stdout line: the generated ids, comma separated
  --score-ids 4,5,6    last stdout line: the summed natural-log probability of these ids
                       after the prompt (nothing is generated)
Timing (load, prefill tok/s, decode tok/s) goes to stderr.`;

/** Parses argv (without node and the script). Throws GptError('bad-argument') with a hint. */
export function parseArgs(argv: readonly string[]): RunArgs {
  const a: RunArgs = {
    modelDir: '', prompt: null, ids: null, chat: false, maxTokens: 64, temperature: 0, topK: 0, topP: 1,
    seed: 0, backend: 'auto', quantize: null, printIds: false, scoreIds: null, help: false,
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new GptError('bad-argument', `${flag} needs a value. See gpt-run --help.`);
    return v;
  };
  const num = (v: string, flag: string, ok: (n: number) => boolean, what: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new GptError('bad-argument', `${flag} ${v}: expected ${what}.`);
    return n;
  };
  const idList = (v: string, flag: string): number[] =>
    v.split(',').map((s) => num(s, flag, (n) => Number.isInteger(n) && n >= 0, 'comma separated non-negative token ids'));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '--help': case '-h': a.help = true; break;
      case '--prompt': a.prompt = value(i++, arg); break;
      case '--ids': a.ids = idList(value(i++, arg), arg); break;
      case '--chat': a.chat = true; break;
      case '--max-tokens': a.maxTokens = num(value(i++, arg), arg, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0'); break;
      case '--temperature': a.temperature = num(value(i++, arg), arg, (n) => n >= 0, 'a number >= 0'); break;
      case '--top-k': a.topK = num(value(i++, arg), arg, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0'); break;
      case '--top-p': a.topP = num(value(i++, arg), arg, (n) => n > 0 && n <= 1, 'a number in (0, 1]'); break;
      case '--seed': a.seed = num(value(i++, arg), arg, Number.isInteger, 'a whole number'); break;
      case '--backend': {
        const b = value(i++, arg);
        if (b !== 'webgpu' && b !== 'cpu' && b !== 'auto') throw new GptError('bad-argument', `--backend ${b}: expected webgpu, cpu or auto.`);
        a.backend = b;
        break;
      }
      case '--quantize': {
        const q = value(i++, arg);
        if (q !== 'q8_0' && q !== 'q4_0') throw new GptError('bad-argument', `--quantize ${q}: expected q8_0 or q4_0.`);
        a.quantize = q;
        break;
      }
      case '--print-ids': a.printIds = true; break;
      case '--score-ids': a.scoreIds = idList(value(i++, arg), arg); break;
      default:
        if (arg.startsWith('-')) throw new GptError('bad-argument', `Unknown option ${arg}. See gpt-run --help.`);
        if (a.modelDir) throw new GptError('bad-argument', `Only one MODEL_DIR is allowed (got ${a.modelDir} and ${arg}).`);
        a.modelDir = arg;
    }
  }
  if (!a.help) {
    if (!a.modelDir) throw new GptError('bad-argument', 'Missing MODEL_DIR: the folder with config.json and model.safetensors. See gpt-run --help.');
    if (a.prompt !== null && a.ids !== null) throw new GptError('bad-argument', 'Give either --prompt or --ids, not both.');
    if (a.chat && a.prompt === null) throw new GptError('bad-argument', '--chat needs --prompt (the user message).');
  }
  return a;
}
