import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles, type LanguageModel } from '../../src/node.ts'; // Dawn for 'webgpu'

// The bundled demo model (models/gpt-chat-demo, trained by tools/demo-model/train.py) through the
// same loader as any Hugging Face folder. Its held-out chat messages and the keywords an on-topic
// reply contains were written by the training script (eval/chat.json).
const DIR = 'models/gpt-chat-demo';
interface ChatItem { user: string; keywords: string[]; onTopic: boolean }
const chat = JSON.parse(readFileSync(`${DIR}/eval/chat.json`, 'utf8')) as { system: string; items: ChatItem[] };

async function reply(lm: LanguageModel, user: string): Promise<{ text: string; ids: number[] }> {
  const ids: number[] = [];
  let text = '';
  for await (const ev of lm.generate([{ role: 'system', content: chat.system }, { role: 'user', content: user }], { maxTokens: 60 })) {
    if (ev.id >= 0) ids.push(ev.id);
    text += ev.text;
  }
  return { text, ids };
}

describe('the bundled demo model', () => {
  it('loads as a Llama checkpoint and answers held-out greetings and questions on topic (CPU)', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(DIR), { backend: 'cpu' });
    try {
      expect(lm.config.modelType).toBe('llama');
      const onTopic = chat.items.filter((i) => i.onTopic);
      expect(onTopic.length).toBeGreaterThanOrEqual(5);
      for (const item of onTopic) {
        const { text } = await reply(lm, item.user);
        expect(item.keywords.some((k) => text.toLowerCase().includes(k.toLowerCase())), `${item.user} -> ${text}`).toBe(true);
      }
    } finally {
      lm.dispose();
    }
  });

  it('gives the same greedy replies on WebGPU as on the CPU', async () => {
    const cpu = await loadLanguageModel(nodeModelFiles(DIR), { backend: 'cpu' });
    const gpu = await loadLanguageModel(nodeModelFiles(DIR), { backend: 'webgpu' });
    try {
      for (const item of chat.items.slice(0, 3)) {
        const a = await reply(cpu, item.user);
        const b = await reply(gpu, item.user);
        expect(b.ids).toEqual(a.ids);
      }
    } finally {
      cpu.dispose();
      gpu.dispose();
    }
  });
});
