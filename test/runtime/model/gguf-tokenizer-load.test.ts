import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GptError } from '../../../src/errors.ts';
import { createBackend } from '../../../src/runtime/backend-choice.ts';
import { loadGgufLanguageModel } from '../../../src/runtime/load-gguf.ts';
import type { BackendFactory } from '../../../src/runtime/load-model.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import { kv, type GgufEntry } from '../../../tools/gguf-writer.mjs';
import { convertFolder } from '../../../tools/hf-to-gguf.mjs';

// A GGUF's tokenizer is read and checked before any backend is made (runtime/load-gguf.ts): a file
// with a bad tokenizer fails with an error that names the key, and no backend is ever created.

const dir = mkdtempSync(join(tmpdir(), 'gguf-tokenizer-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURES = 'test/fixtures/generated';
const BPE = `${FIXTURES}/smollm2-135m`; // gpt2 tokenizer, pre "smollm", 395 tokens = token_embd rows
const SPM = `${FIXTURES}/tinyllama`; // llama (SentencePiece) tokenizer
const HINT_CONVERT = 'Hint: the file was written by an incompatible converter; convert the model again with a current llama.cpp.';

/** Writes the folder as a GGUF named `file`, its metadata changed by `edit`. */
function gguf(folder: string, file: string, edit: (md: GgufEntry[]) => GgufEntry[] = (md) => md): string {
  const path = join(dir, file);
  writeFileSync(path, convertFolder(folder, { dtype: 'f32', edit }));
  return path;
}
const replace = (md: GgufEntry[], entry: GgufEntry) => md.map((e) => (e.key === entry.key ? entry : e));
const valueOf = <T>(md: GgufEntry[], key: string) => md.find((e) => e.key === key)!.value as T[];

/** A CPU backend factory that counts the backends it made and those destroyed. */
function countingFactory() {
  const count = { created: 0, destroyed: 0 };
  const factory: BackendFactory = async (config) => {
    const made = await createBackend('cpu', { config });
    count.created++;
    const destroy = made.backend.destroy.bind(made.backend);
    made.backend.destroy = () => {
      count.destroyed++;
      destroy();
    };
    return made;
  };
  return { count, factory };
}

async function loadError(path: string) {
  const files = nodeModelFiles(path);
  const { count, factory } = countingFactory();
  const err = await loadGgufLanguageModel(files, files.ggufFile!, {}, factory).then(
    (lm) => {
      lm.dispose();
      throw new Error(`${path} loaded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GptError);
  return { err: err as GptError, count };
}

describe('a GGUF tokenizer that fails its checks fails before any backend is made', () => {
  const cases: { name: string; folder: string; edit: (md: GgufEntry[]) => GgufEntry[]; code: string; message: RegExp | string }[] = [
    {
      name: 'an unsupported tokenizer model',
      folder: BPE,
      edit: (md) => replace(md, kv.str('tokenizer.ggml.model', 'bert')),
      code: 'unsupported-model',
      message: 'bad.gguf: tokenizer.ggml.model is "bert"; gpt-chat reads "gpt2" (byte-level BPE) and "llama" (SentencePiece) tokenizers. Hint: pick a model of a supported family.',
    },
    {
      name: 'an unsupported pre-tokenizer',
      folder: BPE,
      edit: (md) => replace(md, kv.str('tokenizer.ggml.pre', 'falcon')),
      code: 'unsupported-model',
      message: 'bad.gguf: tokenizer.ggml.pre is "falcon", a pre-tokenizer gpt-chat does not implement; supported: default, gpt-2, llama3, llama-v3, llama-bpe, qwen2, smollm. Hint: pick a model of a supported family.',
    },
    {
      name: 'a token_type array one short',
      folder: BPE,
      edit: (md) => replace(md, kv.arr('tokenizer.ggml.token_type', 'int32', valueOf<number>(md, 'tokenizer.ggml.token_type').slice(1))),
      code: 'bad-gguf',
      message: `bad.gguf: metadata tokenizer.ggml.token_type should be an array of 395 token types (one per token), found 394 items. ${HINT_CONVERT}`,
    },
    {
      name: 'SentencePiece scores one short',
      folder: SPM,
      edit: (md) => replace(md, kv.arr('tokenizer.ggml.scores', 'float32', valueOf<number>(md, 'tokenizer.ggml.scores').slice(1))),
      code: 'bad-gguf',
      message: /^bad\.gguf: metadata tokenizer\.ggml\.scores should be an array of (\d+) scores \(one per token\), found \d+ items\./,
    },
    {
      name: 'an eos token id past the vocabulary',
      folder: BPE,
      edit: (md) => replace(md, kv.u32('tokenizer.ggml.eos_token_id', 395)),
      code: 'bad-gguf',
      message: `bad.gguf: metadata tokenizer.ggml.eos_token_id should be a token id below 395 (the vocabulary size), found 395. ${HINT_CONVERT}`,
    },
    {
      name: 'more tokens than token_embd.weight rows',
      folder: BPE,
      edit: (md) => {
        const extra = [0, 1, 2, 3, 4].map((i) => `[EXTRA${i}]`);
        md = replace(md, kv.arr('tokenizer.ggml.tokens', 'string', [...valueOf<string>(md, 'tokenizer.ggml.tokens'), ...extra]));
        return replace(md, kv.arr('tokenizer.ggml.token_type', 'int32', [...valueOf<number>(md, 'tokenizer.ggml.token_type'), ...extra.map(() => 1)]));
      },
      code: 'bad-config',
      message: 'bad.gguf: tokenizer.ggml.tokens has 400 tokens but token_embd.weight only 395 rows: the file is inconsistent. Hint: convert the model again.',
    },
    {
      name: 'a chat template that does not parse',
      folder: BPE,
      edit: (md) => [...md.filter((e) => e.key !== 'tokenizer.chat_template'), kv.str('tokenizer.chat_template', '{% for m in messages %}{{ m.content }')],
      code: 'bad-config',
      message: /^bad\.gguf tokenizer\.chat_template is not a Jinja template we can parse: .+ Hint: fix the template/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.code}, no backend made`, async () => {
      const { err, count } = await loadError(gguf(c.folder, 'bad.gguf', c.edit));
      expect(err.code).toBe(c.code);
      if (typeof c.message === 'string') expect(err.message).toBe(c.message);
      else expect(err.message).toMatch(c.message);
      expect(count).toEqual({ created: 0, destroyed: 0 });
    });
  }
});
