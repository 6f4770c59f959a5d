// The text path against Python transformers on ../shared/tokenizer-conformance/ (read where
// present; its README says where the data comes from): the ids transformers 4.57.1 gives for 30
// multilingual inputs (kana, Hangul, Han, RTL, Indic, Thai, astral glyphs, ZWJ clusters, mixed
// code) with GPT-2's and TinyLlama's (Llama-2) tokenizer files, default special tokens (GPT-2 adds
// none, TinyLlama adds <s>). And TinyLlama's chat template as transformers 4.56 saves it, in
// chat_template.jinja, rendered as transformers renders it.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../src/runtime/chat-template.ts';
import { TextTokenizer } from '../../src/runtime/tokenizer.ts';

const DATA = '/work/shared/tokenizer-conformance';
const SHARED = process.env.GPT_CHAT_TOKENIZER_CONFORMANCE ?? (existsSync(DATA) ? DATA : new URL('../../../shared/tokenizer-conformance', import.meta.url).pathname);
const present = existsSync(`${SHARED}/inputs.json`);
if (!present) console.warn(`tokenizer conformance: skipped, no ${SHARED}/inputs.json (the shared data set is absent on this machine).`);

const read = (path: string) => JSON.parse(readFileSync(`${SHARED}/${path}`, 'utf8'));

describe.skipIf(!present)('tokenizer conformance with Python transformers', () => {
  const inputs: { id: string; text: string }[] = present ? read('inputs.json').inputs : [];

  for (const [name, folder] of [['gpt2', 'gpt2'], ['tinyllama', 'llama']] as const) {
    it(`${name}: the same ids as transformers for all ${inputs.length} inputs`, () => {
      const tok = TextTokenizer.fromJson(read(`${folder}/tokenizer.json`), read(`${folder}/tokenizer_config.json`));
      const baseline: Record<string, { input_ids: number[]; decoded_skip_special: string }> = read(`baseline-${name}.json`).entries;
      expect(Object.keys(baseline).sort()).toEqual(inputs.map((i) => i.id).sort());
      const wrong = inputs.filter((i) => JSON.stringify(tok.encodePrompt(i.text)) !== JSON.stringify(baseline[i.id]!.input_ids)).map((i) => i.id);
      expect(wrong).toEqual([]);
      for (const i of inputs) expect(tok.decode(baseline[i.id]!.input_ids, { skipSpecialTokens: true }), i.id).toBe(baseline[i.id]!.decoded_skip_special);
    });
  }

  it.skipIf(!existsSync(`${SHARED}/tinyllama-chat/chat_template.jinja`))('renders TinyLlama-Chat chat_template.jinja as transformers does', () => {
    const source = readFileSync(`${SHARED}/tinyllama-chat/chat_template.jinja`, 'utf8');
    const t = new ChatTemplate(source, { bosToken: '<s>', eosToken: '</s>' }, 'chat_template.jinja');
    // transformers renders with trim_blocks and lstrip_blocks: the newline after a block tag
    // vanishes, the one after an expression stays (the output of its documentation's example).
    expect(t.render([{ role: 'system', content: 'You are a friendly chatbot.' }, { role: 'user', content: 'Hello' }])).toBe(
      '<|system|>\nYou are a friendly chatbot.</s>\n<|user|>\nHello</s>\n<|assistant|>\n',
    );
  });
});
