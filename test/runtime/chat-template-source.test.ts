// Chat templates where model folders keep them (src/runtime/chat-template-source.ts), on the
// generated fixtures (tools/make-fixtures.mjs): chat_template.jinja as transformers 4.56 saves it,
// chat_template.json with named templates, and a chat model with no template at all.
import { describe, expect, it } from 'vitest';
import { missingTemplateNotice } from '../../src/runtime/chat-template-source.ts';
import { ChatTemplate, type ChatMessage } from '../../src/runtime/chat-template.ts';
import { loadLanguageModel } from '../../src/runtime/load-model.ts';
import { nodeModelFiles } from '../../src/runtime/model-files-node.ts';

const load = (name: string) => loadLanguageModel(nodeModelFiles(`test/fixtures/generated/${name}`), { backend: 'cpu' });
const chat: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }];

describe('chat templates beside tokenizer_config.json', () => {
  it('reads chat_template.jinja: the same prompt ids as the template in tokenizer_config.json', async () => {
    const [inConfig, inFile] = await Promise.all([load('tinyllama'), load('tinyllama-jinja')]);
    expect(inFile.chatTemplate.isFallback).toBe(false);
    expect(inFile.chatTemplate.source).toBe(inConfig.chatTemplate.source);
    expect(inFile.encode(chat)).toEqual(inConfig.encode(chat));
    expect(inFile.notice).toBeUndefined();
    inConfig.dispose();
    inFile.dispose();
  });

  it('reads chat_template.json and picks its "default" named template', async () => {
    const [inConfig, inFile] = await Promise.all([load('smollm2-135m'), load('smollm2-template-json')]);
    expect(inFile.chatTemplate.source).toBe(inConfig.chatTemplate.source);
    expect(inFile.encode(chat)).toEqual(inConfig.encode(chat));
    inConfig.dispose();
    inFile.dispose();
  });

  it('says so in the notice when a chat model has no template, and not for a base model', async () => {
    const [bare, base] = await Promise.all([load('tinyllama-chat-notemplate'), load('gpt2')]);
    expect(bare.chatTemplate.isFallback).toBe(true);
    expect(bare.notice).toMatch(/chat model.*no chat template.*chat_template\.jinja/);
    expect(base.chatTemplate.isFallback).toBe(true);
    expect(base.notice).toBeUndefined();
    bare.dispose();
    base.dispose();
  });

  it('tells chat models by the folder name or their special tokens', () => {
    const fallback = new ChatTemplate(null, { bosToken: null, eosToken: null });
    const named = new ChatTemplate('{{ messages[0].content }}', { bosToken: null, eosToken: null });
    const notice = (location: string, specials: string[] = []) => missingTemplateNotice(fallback, location, specials) !== undefined;
    expect(notice('https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/resolve/main/')).toBe(true);
    expect(notice('https://huggingface.co/google/gemma-2b-it/resolve/main/')).toBe(true);
    expect(notice('/models/TinyLlama-1.1B-Chat-v1.0')).toBe(true);
    expect(notice('https://example.com/gpt-chat/models/base-model/', ['<|im_start|>'])).toBe(true);
    expect(notice('https://example.com/gpt-chat/models/gpt2/', ['<|endoftext|>'])).toBe(false);
    expect(notice('https://huggingface.co/openai-community/gpt2/resolve/main/')).toBe(false);
    expect(missingTemplateNotice(named, '/models/TinyLlama-1.1B-Chat-v1.0', [])).toBeUndefined();
  });
});
