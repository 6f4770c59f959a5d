import { Template } from '@huggingface/jinja';
import type { JsonObject } from '../formats/json.ts';
import { GptError } from '../errors.ts';
import { renderWithinBudget, TemplateBudgetError } from './template-budget.ts';
import type { TextSegment, TextTokenizer } from './tokenizer.ts';

/** Who wrote a message of the conversation. */
export type ChatRole = 'system' | 'user' | 'assistant';

/** One message of the conversation. */
export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
}

/**
 * The template for models that ship none (GPT-2 and other base models): one line per message,
 * "System: ...", "User: ...", "Assistant: ...", then "Assistant:" for the reply. A base model
 * continues such a transcript well enough, and {@link FALLBACK_STOP_STRINGS} end its reply when it
 * starts writing the next turn itself.
 */
const FALLBACK_CHAT_TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'system' %}{{ 'System: ' }}" +
  "{% elif message['role'] == 'user' %}{{ 'User: ' }}{% else %}{{ 'Assistant: ' }}{% endif %}" +
  "{{ message['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

/** Where a reply under {@link FALLBACK_CHAT_TEMPLATE} ends: the model starting another turn. */
export const FALLBACK_STOP_STRINGS: readonly string[] = ['\nUser:', '\nSystem:'];

const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant']);
// Private-use characters that wrap message contents in a second rendering, to find where the
// template put them. Models never see them.
const OPEN = '\uE000';
const CLOSE = '\uE001';

/**
 * A model's chat template (tokenizer_config.json `chat_template`, Jinja), rendered with
 * @huggingface/jinja as transformers' `apply_chat_template` does: with `messages`, `bos_token`,
 * `eos_token` and `add_generation_prompt`.
 */
export class ChatTemplate {
  /** The Jinja source in use. */
  readonly source: string;
  /** True when the model has no template and the plain fallback is used. */
  readonly isFallback: boolean;
  /** Stop strings the template needs besides the EOS ids; only the fallback has any. */
  readonly stopStrings: readonly string[];
  private readonly template: Template;

  /**
   * @param source the Jinja source; null for the {@link FALLBACK_CHAT_TEMPLATE}
   * @param specials the tokenizer's bos_token and eos_token strings (TextTokenizer.bosToken, eosToken)
   * @param file where the template came from, for error messages
   */
  constructor(
    source: string | null,
    private readonly specials: { readonly bosToken: string | null; readonly eosToken: string | null },
    private readonly file = 'tokenizer_config.json chat_template',
  ) {
    this.isFallback = source === null;
    this.source = source ?? FALLBACK_CHAT_TEMPLATE;
    this.stopStrings = this.isFallback ? FALLBACK_STOP_STRINGS : [];
    try {
      this.template = new Template(this.source);
    } catch (err) {
      throw new GptError(
        'bad-config',
        `${file} is not a Jinja template we can parse: ${message(err)}. ` +
          `Hint: fix the template, or remove it to use the plain "User: / Assistant:" fallback.`,
      );
    }
  }

  /**
   * The template of a tokenizer_config.json: its `chat_template` string, or the "default" entry
   * when it is a list of named templates, or the fallback when it has none.
   */
  static fromConfig(
    tokenizerConfig: JsonObject,
    specials: { readonly bosToken: string | null; readonly eosToken: string | null },
    file = 'tokenizer_config.json',
  ): ChatTemplate {
    const value = tokenizerConfig['chat_template'];
    const field = `${file} chat_template`;
    if (value === undefined || value === null) return new ChatTemplate(null, specials, field);
    if (typeof value === 'string') return new ChatTemplate(value, specials, field);
    if (Array.isArray(value)) {
      const named = value as { name?: unknown; template?: unknown }[];
      const chosen = named.find((t) => t?.name === 'default') ?? named[0];
      if (typeof chosen?.template === 'string') return new ChatTemplate(chosen.template, specials, field);
    }
    throw new GptError(
      'bad-config',
      `${field} must be a Jinja string or a list of {"name", "template"}, found ${JSON.stringify(value).slice(0, 80)}.`,
    );
  }

  /** The prompt text for these messages, ending with the assistant's turn opening. */
  render(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    checkMessages(messages);
    return this.renderRaw(messages, options.addGenerationPrompt ?? true);
  }

  /**
   * The rendered prompt cut into the template's own text (`specials: true`) and the message
   * contents as the template inserted them (`specials: false`); or null when the template changes
   * contents on the way in (`| trim`, slicing) so that they cannot be found exactly.
   */
  renderSegments(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): TextSegment[] | null {
    checkMessages(messages);
    const addGenerationPrompt = options.addGenerationPrompt ?? true;
    if (messages.some((m) => m.content.includes(OPEN) || m.content.includes(CLOSE))) return null;
    const truth = this.renderRaw(messages, addGenerationPrompt);
    const wrapped = messages.map((m) => ({ ...m, content: OPEN + m.content + CLOSE }));
    const marked = this.renderRaw(wrapped, addGenerationPrompt);
    const segments: TextSegment[] = [];
    let at = 0;
    while (at < marked.length) {
      const open = marked.indexOf(OPEN, at);
      if (open < 0) {
        segments.push({ text: marked.slice(at), specials: true });
        break;
      }
      const close = marked.indexOf(CLOSE, open + 1);
      if (close < 0) return null;
      const content = marked.slice(open + 1, close);
      if (content.includes(OPEN)) return null;
      segments.push({ text: marked.slice(at, open), specials: true }, { text: content, specials: false });
      at = close + 1;
    }
    if (segments.some((s) => s.specials && s.text.includes(CLOSE))) return null;
    return segments.map((s) => s.text).join('') === truth ? segments.filter((s) => s.text.length > 0) : null;
  }

  private renderRaw(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
    try {
      return renderWithinBudget(this.template, {
        messages,
        bos_token: this.specials.bosToken ?? '',
        eos_token: this.specials.eosToken ?? '',
        add_generation_prompt: addGenerationPrompt,
      });
    } catch (err) {
      if (err instanceof TemplateBudgetError || err instanceof RangeError) {
        throw new GptError(
          'bad-template',
          `${this.file} was stopped while rendering ${messages.length} message(s): ${err instanceof TemplateBudgetError ? err.message : `it ran out of room (${(err as Error).message})`}. ` +
            'A chat template this costly is broken or hostile. Hint: use the model\'s original tokenizer_config.json or chat_template.jinja.',
        );
      }
      throw new GptError(
        'bad-config',
        `${this.file} failed to render ${messages.length} message(s): ${message(err)}. ` +
          `Hint: some templates require alternating user/assistant roles or a first system message.`,
      );
    }
  }
}

/**
 * The token ids of a conversation, ready for the model: the template rendered, with only the
 * template's own special tokens special. Message contents are encoded as typed text, so a user
 * who writes "<|im_end|>" cannot close their turn and forge the assistant's.
 *
 * A BOS is put first when the tokenizer adds one to prompts ({@link TextTokenizer.addBos}) and the
 * template did not write it: as llama.cpp does, since transformers would leave it out for templates
 * like TinyLlama's that do not write `bos_token`, although the model was trained with it.
 *
 * For a template that changes contents (`| trim`), the positions of the contents cannot be found
 * exactly; then special-token strings inside contents are broken with a zero-width space (U+200B)
 * after their first character, which keeps them text at the cost of one invisible character.
 */
export function encodeChat(tokenizer: TextTokenizer, template: ChatTemplate, messages: readonly ChatMessage[]): number[] {
  checkMessages(messages);
  const typedSpecials = messages.some((m) => tokenizer.specialTokens.some((s) => m.content.includes(s)));
  let ids: number[];
  if (!typedSpecials) {
    // nothing to tell apart: encode the rendered text whole, exactly as transformers would
    ids = tokenizer.encodeWithSpecials(template.render(messages));
  } else {
    const segments = template.renderSegments(messages);
    if (segments !== null) {
      ids = tokenizer.encodeSegments(segments);
    } else {
      const defanged = messages.map((m) => ({ ...m, content: breakSpecials(m.content, tokenizer.specialTokens) }));
      ids = tokenizer.encodeWithSpecials(template.render(defanged));
    }
  }
  const bos = tokenizer.bosTokenId;
  if (tokenizer.addBos && bos !== null && ids[0] !== bos) ids.unshift(bos);
  return ids;
}

/** Inserts U+200B after the first character of every special-token string in `text`. */
function breakSpecials(text: string, specials: readonly string[]): string {
  let out = text;
  for (const s of specials) {
    if (s.length < 2) continue;
    const first = String.fromCodePoint(s.codePointAt(0)!);
    out = out.split(s).join(first + '\u200B' + s.slice(first.length));
  }
  return out;
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages)) {
    throw new GptError('bad-argument', 'messages must be a list of {role, content}.');
  }
  messages.forEach((m, i) => {
    if (m === null || typeof m !== 'object' || !ROLES.has(m.role) || typeof m.content !== 'string') {
      throw new GptError(
        'bad-argument',
        `messages[${i}] must be {role: 'system' | 'user' | 'assistant', content: string}, found ${JSON.stringify(m)?.slice(0, 80)}.`,
      );
    }
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
