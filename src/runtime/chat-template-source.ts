/**
 * Where a model folder keeps its chat template. transformers wrote it into tokenizer_config.json
 * (`chat_template`) until 4.4x; recent versions save it beside it, as chat_template.jinja (the
 * Jinja source) or chat_template.json (`{"chat_template": ...}`, a string or a list of named
 * templates). transformers reads them in that order, the file winning over tokenizer_config.json,
 * and so do we. A chat model with no template at all gets the plain fallback, and a notice says so.
 */
import { parseJsonObject, type JsonObject } from '../formats/json.ts';
import type { ModelFiles } from '../formats/model-files.ts';
import { ChatTemplate } from './chat-template.ts';

type Specials = { readonly bosToken: string | null; readonly eosToken: string | null };

/** The chat template of a model folder: chat_template.jinja, chat_template.json, or tokenizer_config.json's. */
export async function readChatTemplate(files: ModelFiles, tokenizerConfig: JsonObject, specials: Specials): Promise<ChatTemplate> {
  if (await files.has('chat_template.jinja')) {
    return new ChatTemplate(await files.text('chat_template.jinja'), specials, 'chat_template.jinja');
  }
  if (await files.has('chat_template.json')) {
    const json = parseJsonObject(await files.text('chat_template.json'), 'chat_template.json');
    if (json['chat_template'] !== undefined && json['chat_template'] !== null) return ChatTemplate.fromConfig(json, specials, 'chat_template.json');
  }
  return ChatTemplate.fromConfig(tokenizerConfig, specials);
}

// Names and special tokens that mark a model trained to chat: its replies follow a template, and
// the "User:/Assistant:" fallback gives it a prompt format it never saw.
const CHAT_NAME = /(^|[-_/.])(instruct|chat|it|sft|dpo|rlhf)([-_/.]|$)/i;
const CHAT_TOKENS = ['<|im_start|>', '<|user|>', '<|assistant|>', '[INST]', '<|start_header_id|>', '<start_of_turn>', '<|eot_id|>'];

/**
 * The ready notice for a chat model that has no chat template, or undefined. `location` is the
 * folder's URL or path; `specialTokens` the tokenizer's.
 */
export function missingTemplateNotice(template: ChatTemplate, location: string, specialTokens: readonly string[]): string | undefined {
  if (!template.isFallback) return undefined;
  // The folder's own name (for Hugging Face, the repository's): <org>/<name>/resolve/main/ -> <name>.
  const folder = location.replace(/\/(resolve|tree)\/[^/]+\/?$/, '').replace(/[/\\]+$/, '').split(/[/\\]/).pop() ?? '';
  const byName = CHAT_NAME.test(`/${folder}/`);
  const byTokens = specialTokens.some((t) => CHAT_TOKENS.includes(t));
  if (!byName && !byTokens) return undefined;
  return (
    'This looks like a chat model, but it has no chat template (no chat_template.jinja, chat_template.json ' +
    'or chat_template in tokenizer_config.json; in a GGUF, no tokenizer.chat_template), so it gets a plain ' +
    '"User: / Assistant:" prompt and may answer poorly. ' +
    "Add the model's chat_template.jinja to its folder, or use a GGUF converted with its template."
  );
}
