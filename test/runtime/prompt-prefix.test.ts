// The known start of the next chat prompt (runtime/prompt-prefix.ts) on real chat templates, and
// LanguageModel.warm on a fixture model: what it prefills is exactly the start of every prompt a
// send can make, so a warm-up can only save work, never change what the model reads.
import { describe, expect, it } from 'vitest';
import { ChatTemplate, encodeChat, type ChatMessage } from '../../src/runtime/chat-template.ts';
import { knownPromptPrefix } from '../../src/runtime/prompt-prefix.ts';
import { TextTokenizer } from '../../src/runtime/tokenizer.ts';
import { loadLanguageModel, nodeModelFiles } from '../../src/node.ts';
import { byteLevelBpe, sentencePieceBpe } from '../helpers/inline-tokenizers.ts';

// HuggingFaceTB/SmolLM2-*-Instruct (ChatML), as in tools/make-fixtures.mjs
const CHATML =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
// meta-llama/Llama-2-7b-chat-hf: the system prompt goes inside the first [INST]
const LLAMA2 =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
// Mistral-style: the system prompt is repeated before the last user message only, so it moves
// with every turn; and a template that puts it after the user's message.
const SYSTEM_IN_LAST =
  "{% set sys = messages[0]['content'] if messages[0]['role'] == 'system' else '' %}{% for m in messages %}{% if m['role'] == 'user' %}{{ '[INST] ' }}{% if loop.last and sys %}{{ sys + '\\n\\n' }}{% endif %}{{ m['content'] + ' [/INST]' }}{% elif m['role'] == 'assistant' %}{{ m['content'] + '</s>' }}{% endif %}{% endfor %}";
const SYSTEM_AFTER =
  "{% for m in messages %}{% if m['role'] == 'user' %}{{ 'User: ' + m['content'] + '\\n' }}{% elif m['role'] == 'assistant' %}{{ 'Assistant: ' + m['content'] + '\\n' }}{% endif %}{% endfor %}{% if messages[0]['role'] == 'system' %}{{ 'System: ' + messages[0]['content'] + '\\n' }}{% endif %}{{ 'Assistant:' }}";

const chatml = TextTokenizer.fromJson(byteLevelBpe().tokenizerJson, byteLevelBpe().tokenizerConfig);
const llama = TextTokenizer.fromJson(sentencePieceBpe().tokenizerJson, sentencePieceBpe().tokenizerConfig);

const SYSTEM: ChatMessage = { role: 'system', content: 'You are a terse assistant.' };
const HISTORY: ChatMessage[] = [SYSTEM, { role: 'user', content: 'hi there' }, { role: 'assistant', content: 'Hello! How can I help?' }];
// what a visitor may type next: words, a leading space, punctuation, digits, non-Latin text
const NEXT = ['tell me a joke', ' spaced', '?!', '42 apples', 'Über café', 'a'];

function cases(tokenizer: TextTokenizer, source: string) {
  const template = new ChatTemplate(source, tokenizer);
  const encode = (m: readonly ChatMessage[]) => encodeChat(tokenizer, template, m);
  return { template, encode, prefix: (m: readonly ChatMessage[]) => knownPromptPrefix(encode, m) };
}

/** Asserts that `prefix` begins every prompt of `messages` plus a next user message. */
function expectPrefixOfEverySend(encode: (m: readonly ChatMessage[]) => number[], messages: readonly ChatMessage[], prefix: number[]) {
  for (const content of NEXT) expect(encode([...messages, { role: 'user', content }]).slice(0, prefix.length)).toEqual(prefix);
}

describe('knownPromptPrefix', () => {
  it('ChatML: covers the system prompt and every earlier turn, stopping just before the new text', () => {
    const { template, encode, prefix } = cases(chatml, CHATML);
    for (const messages of [[], [SYSTEM], HISTORY]) {
      const p = prefix(messages);
      expectPrefixOfEverySend(encode, messages, p);
      // the rendering before the new text, less at most its last token ("\n"): all of the
      // conversation so far (the default system prompt when there is none) and the turn's opening
      const rendered = template.render([...messages, { role: 'user', content: 'XYZ' }], { addGenerationPrompt: false });
      const before = rendered.slice(0, rendered.indexOf('XYZ'));
      const text = chatml.decode(p);
      expect(before.startsWith(text)).toBe(true);
      expect(text.length).toBeGreaterThanOrEqual(before.length - 1);
    }
  });

  it('Llama 2 with a system prompt: the [INST] block up to the user text', () => {
    const { encode, prefix } = cases(llama, LLAMA2);
    for (const messages of [[SYSTEM], HISTORY]) {
      const p = prefix(messages);
      expectPrefixOfEverySend(encode, messages, p);
      const text = llama.decode(p);
      expect(text).toContain('<<SYS>>');
      expect(text).toContain(SYSTEM.content);
      if (messages.length > 1) expect(text).toContain('How can I help?');
    }
  });

  it('stops early where the template moves or repeats the system prompt around the new message', () => {
    const last = cases(llama, SYSTEM_IN_LAST);
    const p = last.prefix(HISTORY);
    expectPrefixOfEverySend(last.encode, HISTORY, p);
    // the system prompt sits before the new text: kept; the earlier turns too
    expect(llama.decode(p)).toContain('How can I help?');

    const after = cases(chatml, SYSTEM_AFTER);
    const q = after.prefix(HISTORY);
    expectPrefixOfEverySend(after.encode, HISTORY, q);
    // the system prompt follows the new text: the prefix ends before it and before "User: <text>"
    const text = chatml.decode(q);
    expect(text).not.toContain(SYSTEM.content);
    expect(text).toContain('Hello! How can I help?');
    expect(text.length).toBeLessThan('User: hi there\nAssistant: Hello! How can I help?\nUser: '.length);
  });
});

describe('LanguageModel.warm', () => {
  it('prefills the known start so the send prefills only its new turn, and the greedy reply is unchanged', async () => {
    const load = () => loadLanguageModel(nodeModelFiles('test/fixtures/generated/smollm2-135m'), { backend: 'cpu' });
    const [cold, warm] = [await load(), await load()];
    try {
      const send = [...HISTORY, { role: 'user' as const, content: 'What is the capital of France?' }];
      const run = async (lm: typeof cold) => {
        const g = lm.generate(send, { temperature: 0, maxTokens: 12 });
        const ids: number[] = [];
        for (;;) {
          const s = await g.next();
          if (s.done) return { ids, result: s.value };
          ids.push(s.value.id);
        }
      };
      const cached = await warm.warm(HISTORY);
      expect(cached).toBeGreaterThan(0);
      expect(warm.model.position).toBe(cached);
      expect(await warm.warm(HISTORY)).toBe(cached); // again: nothing to do, the cache stays
      const a = await run(cold);
      const b = await run(warm);
      expect(a.result.cachedPromptTokens).toBe(0);
      expect(b.result.cachedPromptTokens).toBe(cached);
      expect(b.result.promptTokens).toBe(a.result.promptTokens);
      // only the new turn was prefilled: its opening and text, a handful of tokens
      expect(b.result.promptTokens - b.result.cachedPromptTokens).toBeLessThan(16);
      expect(b.ids).toEqual(a.ids);
      expect(b.result.text).toBe(a.result.text);
    } finally {
      cold.dispose();
      warm.dispose();
    }
  });
});
