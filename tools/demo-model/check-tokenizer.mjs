// Checks the written tokenizer.json and chat template with the JS libraries the runtime uses:
// @huggingface/tokenizers must give the same ids as the Python encoder, and @huggingface/jinja
// must render the chat template exactly as the training corpus wrote chats.
// Usage: node tools/demo-model/check-tokenizer.mjs <model folder> <cases.json>
//   cases.json: { encode: [{ text, ids }], chats: [{ messages, addGenerationPrompt, text }] }
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';

const [folder, casesPath] = process.argv.slice(2);
const tokenizerJson = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8'));
const tokenizerConfig = JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8'));
const cases = JSON.parse(readFileSync(casesPath, 'utf8'));
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);

let failures = 0;
for (const { text, ids } of cases.encode) {
  const got = tokenizer.encode(text).ids;
  const same = got.length === ids.length && got.every((id, i) => id === ids[i]);
  const decoded = tokenizer.decode(got, { skip_special_tokens: false });
  if (!same || decoded !== text) {
    failures++;
    console.error(`MISMATCH ${JSON.stringify(text.slice(0, 80))}\n  js ${got.slice(0, 40)}\n  py ${ids.slice(0, 40)}\n  decoded ${JSON.stringify(decoded.slice(0, 80))}`);
  }
}
const template = new Template(tokenizerConfig.chat_template);
for (const { messages, addGenerationPrompt, text } of cases.chats) {
  const got = template.render({ messages, add_generation_prompt: addGenerationPrompt });
  if (got !== text) {
    failures++;
    console.error(`TEMPLATE MISMATCH\n  js ${JSON.stringify(got)}\n  py ${JSON.stringify(text)}`);
  }
}
console.log(`checked ${cases.encode.length} encodings and ${cases.chats.length} chat renders: ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
