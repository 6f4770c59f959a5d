/**
 * The theme shared by <gpt-chat> and <gpt-template-editor>: every colour and size is a
 * `--gpt-chat-*` custom property with a light default and a dark one from prefers-color-scheme,
 * read inside the components through private `--_*` aliases. One page theme styles both.
 */
import { css } from 'lit';

export const themeTokens = css`
  :host {
    --_bg: var(--gpt-chat-background, #ffffff);
    --_fg: var(--gpt-chat-color, #1b1d21);
    --_muted: var(--gpt-chat-muted-color, #5b6270);
    --_border: var(--gpt-chat-border-color, #d5d9e0);
    --_user-bg: var(--gpt-chat-user-background, #e8f0fe);
    --_bot-bg: var(--gpt-chat-assistant-background, #f3f4f6);
    --_accent: var(--gpt-chat-accent-color, #1a56db);
    --_accent-fg: var(--gpt-chat-accent-text-color, #ffffff);
    --_error: var(--gpt-chat-error-color, #b42318);
    --_code-bg: var(--gpt-chat-code-background, #eef0f3);
    --_radius: var(--gpt-chat-radius, 10px);
    --_gap: var(--gpt-chat-gap, 0.75rem);
    --_font: var(--gpt-chat-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --_mono: var(--gpt-chat-mono-font, ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_bg: var(--gpt-chat-background, #16181d);
      --_fg: var(--gpt-chat-color, #e6e8ec);
      --_muted: var(--gpt-chat-muted-color, #a3aab8);
      --_border: var(--gpt-chat-border-color, #353a45);
      --_user-bg: var(--gpt-chat-user-background, #1f3157);
      --_bot-bg: var(--gpt-chat-assistant-background, #23262e);
      --_accent: var(--gpt-chat-accent-color, #7aa2ff);
      --_accent-fg: var(--gpt-chat-accent-text-color, #0b1020);
      --_error: var(--gpt-chat-error-color, #ff8a80);
      --_code-bg: var(--gpt-chat-code-background, #2b2f38);
    }
  }
`;
