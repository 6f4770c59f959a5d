/**
 * Token confidence in replies (<gpt-chat show-confidence>), the view: the reply drawn token by
 * token with the unlikely ones marked (the tokens themselves are kept by reply-tokens.ts). A lazy
 * chunk, imported once show-confidence is set: pages without it never fetch it. A marked token is underlined
 * (dotted, not colour alone), focusable, and described by a tooltip with its probability and the
 * model's top alternatives, shown on hover and on focus and read by screen readers through
 * aria-describedby.
 *
 * @csspart token-low - a token under the confidence threshold
 * @csspart token-tip - its tooltip
 */
import { css, html, nothing, type TemplateResult } from 'lit';
import type { ReplyToken } from './reply-tokens.ts';

const percent = (logprob: number) => {
  const p = 100 * Math.exp(logprob);
  return p >= 10 || p === 0 ? `${p.toFixed(0)}%` : `${p.toPrecision(1)}%`;
};

/** A token's text as it reads in a tooltip: quoted, whitespace and newlines visible. */
const shown = (text: string) => JSON.stringify(text);

/** What a marked token's tooltip says (also its accessible description). */
export function describeToken(t: ReplyToken): string {
  const alternatives = (t.top ?? []).map((a) => `${shown(a.text)} ${percent(a.logprob)}`).join(', ');
  return `Probability ${percent(t.logprob!)}.${alternatives ? ` Most likely: ${alternatives}.` : ''}`;
}

/**
 * A reply's tokens as text, the ones under `threshold` probability marked. Plain text, not
 * markdown: markup tokens (`**`, a code fence) would otherwise vanish into the formatting and their
 * confidence with them. `key` keeps the tooltip ids unique in the shadow root.
 */
export function renderTokens(tokens: readonly ReplyToken[], threshold: number, key: string): TemplateResult {
  const cut = Math.log(threshold);
  return html`<p class="tokens">${tokens.map((t, i) => {
    if (t.logprob === undefined || t.logprob >= cut || !t.text.trim()) return t.text;
    const id = `tok-${key}-${i}`;
    return html`<mark part="token-low" class="token-low" tabindex="0" aria-describedby=${id}>${t.text}<span part="token-tip" class="token-tip" role="tooltip" id=${id}>${describeToken(t)}</span></mark>`;
  })}</p>`;
}

/** Confidence legend under a reply: what the marks mean. */
export function confidenceNote(threshold: number, tokens: readonly ReplyToken[] | undefined): TemplateResult | typeof nothing {
  if (!tokens) return nothing;
  const marked = tokens.filter((t) => t.logprob !== undefined && t.logprob < Math.log(threshold) && t.text.trim()).length;
  return html`<p class="confidence-note">${marked} token${marked === 1 ? '' : 's'} under ${Math.round(threshold * 100)}% probability, underlined: focus or hover one for the alternatives.</p>`;
}

export const confidenceStyles = css`
  .tokens { white-space: pre-wrap; margin: 0; }
  .token-low { position: relative; background: none; color: inherit; text-decoration: underline dotted 2px; text-underline-offset: 3px; cursor: help; border-radius: 2px; }
  .token-low:focus-visible { outline: 2px solid var(--_accent); outline-offset: 1px; }
  .token-tip {
    display: none; position: absolute; left: 0; top: calc(100% + 4px); z-index: 2; width: max-content; max-width: 18rem;
    padding: 0.3rem 0.5rem; border-radius: 6px; background: var(--_fg); color: var(--_bg); font-size: 0.8em; white-space: normal; text-decoration: none;
  }
  .token-low:hover .token-tip, .token-low:focus .token-tip { display: block; }
  .confidence-note { margin: 0.3rem 0 0; font-size: 0.8em; color: var(--_muted); }
`;
