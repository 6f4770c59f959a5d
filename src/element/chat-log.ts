/**
 * The conversation as <gpt-chat> shows it: the turns with speaker labels for screen readers, the
 * reply being written (or "Reading your message" before its first token), a Retry under a
 * message nobody answered, and template mode's queries with their bars. Model and user text is
 * rendered as text or through the safe markdown path, never as HTML.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { ChatStatus, type ChatController } from './chat-controller.ts';
import type { ChatTurn } from './events.ts';
import { renderMarkdown } from './markdown.ts';
import type { ReplyToken } from './reply-tokens.ts';
import { renderBars } from './template-bars.ts';
import { inputFormat, sameLabelHint, type TemplateMode } from './template-mode.ts';

/** What the buttons in the log do. */
export interface LogActions {
  copy(text: string, button: HTMLButtonElement): void;
  regenerate(): void;
  retry(): void;
  /** With show-confidence, once its view has loaded: mark tokens under `threshold` probability. */
  readonly confidence?: { readonly threshold: number; readonly view: typeof import('./chat-confidence.ts') };
}

/** Prompts at least this long say how many tokens are being read (short ones read at once). */
const LONG_PROMPT_TOKENS = 200;

/** Read aloud before each message, hidden on screen: the bubbles' side and colour say it there. */
const said = (role: ChatTurn['role']) => html`<span class="visually-hidden">${role === 'user' ? 'You said:' : 'Assistant said:'} </span>`;

/** A chat's turns, the reply being written, and a Retry for an unanswered last message. */
export function renderChatLog(c: ChatController, actions: LogActions): TemplateResult {
  const generating = c.status === ChatStatus.generating;
  const last = c.turns[c.turns.length - 1];
  const unanswered = last?.role === 'user' && !c.answering && !generating && !c.error;
  return html`${c.turns.length === 0 && !generating ? html`<p class="empty">Ask me something. The model runs on this device.</p>` : nothing}
    ${c.turns.map((t, i) => renderTurn(t, i === c.turns.length - 1 && !generating, actions, actions.confidence && c.confidence.of(t), String(i)))}
    ${unanswered
      ? html`<div class="unanswered notice" role="status">This message has no answer yet.
          <button type="button" part="retry-button" class="small" @click=${() => actions.retry()}>Retry</button></div>`
      : nothing}
    ${generating
      ? html`<div part="message message-assistant" class="message assistant streaming">${said('assistant')}${c.reply
          ? html`${actions.confidence && c.confidence.current.length ? actions.confidence.view.renderTokens(c.confidence.current, actions.confidence.threshold, 's') : renderMarkdown(c.reply)}<span class="cursor" aria-hidden="true"></span>`
          : html`<span class="reading">Reading your message${c.promptTokens !== undefined && c.promptTokens >= LONG_PROMPT_TOKENS ? ` (${c.promptTokens.toLocaleString('en')} tokens)` : ''}…</span>`}</div>`
      : nothing}`;
}

function renderTurn(t: ChatTurn, last: boolean, actions: LogActions, tokens: readonly ReplyToken[] | undefined, key: string): TemplateResult {
  if (t.role === 'user') return html`<div part="message message-user" class="message user">${said('user')}${t.content}</div>`;
  const conf = actions.confidence;
  return html`<div part="message message-assistant" class="message assistant">
    ${said('assistant')}${tokens && conf ? html`${conf.view.renderTokens(tokens, conf.threshold, key)}${conf.view.confidenceNote(conf.threshold, tokens)}` : renderMarkdown(t.content)}
    <div part="actions" class="actions">
      <button type="button" class="small" @click=${(e: Event) => actions.copy(t.content, e.currentTarget as HTMLButtonElement)} aria-label="Copy reply">Copy</button>
      ${last ? html`<button type="button" class="small regenerate" @click=${() => actions.regenerate()} aria-label="Regenerate reply">Regenerate</button>` : nothing}
    </div>
  </div>`;
}

/** Template mode: the expected input before the first query, then queries and their answers. */
export function renderTemplateLog(mode: TemplateMode, id: string): TemplateResult {
  const turns = mode.turns;
  const t = mode.describe(id);
  if (turns.length === 0) {
    return html`<p class="empty template-format">${t ? inputFormat(t) : `Template "${id}": each message is classified by the model on this device.`}</p>`;
  }
  const hint = sameLabelHint(turns);
  return html`${turns.map(
      (turn) => html`<div part="message message-user" class="message user">${said('user')}${turn.input}</div>
        <div part="message message-assistant" class="message assistant template-answer" aria-busy=${turn.pending ? 'true' : 'false'}>
          ${said('assistant')}${turn.error
            ? html`<span class="error" role="alert">${turn.error.message}</span>`
            : turn.result
              ? html`${renderBars(turn.result)}${turn.method ? html`<p class="template-method">Answered by: ${turn.method}</p>` : nothing}`
              : turn.completion !== undefined
                ? html`<span>${turn.completion}</span>`
                : html`<span class="notice">Scoring with “${turn.templateName}”…</span>`}
        </div>`,
    )}
    ${hint ? html`<p class="notice same-label-hint">${hint}</p>` : nothing}`;
}

/** Copies `text`, and says so on `button` for a moment. */
export async function copyText(text: string, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Copy failed';
  }
  setTimeout(() => (button.textContent = 'Copy'), 1500);
}

/** A click in the log: the Copy button of a code block (rendered by markdown.ts) copies the code beside it. */
export function copyCodeOnClick(e: Event): void {
  const button = (e.target as Element).closest?.('button.copy-code') as HTMLButtonElement | null;
  const code = button?.parentElement?.querySelector('pre');
  if (button && code) void copyText(code.textContent ?? '', button);
}
