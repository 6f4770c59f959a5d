import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GptError } from '../../src/errors.ts';
import { openGguf, type GgufReader } from '../../src/formats/gguf.ts';
import { ggufTokenizer } from '../../src/runtime/gguf-tokenizer.ts';
import { ggufBytes, kv } from '../../tools/gguf-writer.mjs';
import { tokenizerMetadata } from '../../tools/hf-to-gguf.mjs';
import { sharedDataDir } from '../helpers/shared-data.ts';

// llama.cpp's tokenizer test vectors (tests/test-tokenizer-0: inputs separated by
// `__ggml_vocab_test__` lines, the ids llama.cpp produces per input, no BOS) against the GGUF
// tokenizer path: GGUF metadata -> tokenizer.json equivalent -> @huggingface/tokenizers.
const SHARED = sharedDataDir() ?? '(no shared data folder)';
const VOCABS = [
  { name: 'llama-spm', model: 'llama', sameVocab: 'llama' },
  { name: 'gpt-2', model: 'gpt2', sameVocab: 'gpt2' },
] as const;

const stream = (bytes: Uint8Array, chunk = 1 << 16) => ({
  size: bytes.length,
  chunks: (async function* () {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  })(),
});

/** A U+FFFD (EF BF BD) in a binary file: bytes that were not UTF-8 replaced by a text-mode copy. */
function replacementCount(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) n++;
  return n;
}

for (const vocab of VOCABS) {
  const base = join(SHARED, 'gguf-vocab', `ggml-vocab-${vocab.name}.gguf`);
  const present = [base, `${base}.inp`, `${base}.out`].every((p) => existsSync(p));
  describe(`llama.cpp vocabulary ${vocab.name}`, () => {
    it.skipIf(!present)(`reproduces every test vector of ${vocab.name}.gguf.out${present ? '' : ' (skipped: ../shared/gguf-vocab is absent)'}`, async () => {
      const inputs = readFileSync(`${base}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
      const outputs = readFileSync(`${base}.out`, 'utf8').split('\n');
      expect(inputs.pop()).toBe(''); // the file ends with a separator
      expect(outputs.pop()).toBe('');
      expect(outputs).toHaveLength(inputs.length);

      const file = new Uint8Array(readFileSync(base));
      let reader: GgufReader;
      try {
        reader = await openGguf(stream(file), `ggml-vocab-${vocab.name}.gguf`);
      } catch (err) {
        // The shared copy may have gone through a text-mode transfer that replaced every non-UTF-8
        // byte (binary floats, large counts) with U+FFFD. Our reader must refuse such a file with
        // a field-naming error; the vectors then run on the same vocabulary converted to GGUF from
        // its Hugging Face tokenizer.json (../shared/tokenizer-conformance), by tools/hf-to-gguf.mjs.
        expect(err).toBeInstanceOf(GptError);
        expect((err as GptError).code).toBe('bad-gguf');
        expect((err as GptError).message).toMatch(/metadata|tensor_count|key|length/);
        const damage = replacementCount(file);
        expect(damage, `the reader refused an undamaged ${base}: ${(err as Error).message}`).toBeGreaterThan(0);
        const hf = join(SHARED, 'tokenizer-conformance', vocab.sameVocab);
        if (!existsSync(join(hf, 'tokenizer.json'))) throw new Error(`${base} is damaged (${damage} U+FFFD) and ${hf} is absent`);
        console.warn(
          `${base} is damaged (${damage} U+FFFD replacement sequences; refused: ${(err as Error).message.slice(0, 120)}...). ` +
            `Running its vectors on the same vocabulary converted from ${hf}/tokenizer.json.`,
        );
        const tokens = JSON.parse(readFileSync(join(hf, 'tokenizer.json'), 'utf8')) as { model: { vocab: object } };
        const V = Object.keys(tokens.model.vocab).length;
        const bytes = ggufBytes({ metadata: [kv.str('general.architecture', vocab.model), ...tokenizerMetadata(hf, V)] });
        reader = await openGguf(stream(bytes), `${vocab.name} (from tokenizer.json)`);
      }
      expect(reader.metadata.string('tokenizer.ggml.model')).toBe(vocab.model);
      const { tokenizer } = ggufTokenizer(reader.metadata);
      const failures: string[] = [];
      inputs.forEach((text, i) => {
        const want = outputs[i]!.trim() === '' ? [] : outputs[i]!.trim().split(/\s+/).map(Number);
        const got = tokenizer.encode(text);
        if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${JSON.stringify(text)}: got ${got.join(' ')}, llama.cpp ${want.join(' ')}`);
      });
      expect(failures, failures.join('\n')).toEqual([]);
      expect(inputs.length).toBeGreaterThan(40);
    });
  });
}
