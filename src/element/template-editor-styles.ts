/**
 * The look of <gpt-template-editor>: the same `--gpt-chat-*` custom properties as <gpt-chat>, so
 * one theme styles both.
 */
import { css } from 'lit';

export const templateEditorStyles = css`
  :host {
    --_bg: var(--gpt-chat-background, #ffffff);
    --_fg: var(--gpt-chat-color, #1b1d21);
    --_muted: var(--gpt-chat-muted-color, #5b6270);
    --_border: var(--gpt-chat-border-color, #d5d9e0);
    --_accent: var(--gpt-chat-accent-color, #1a56db);
    --_accent-fg: var(--gpt-chat-accent-text-color, #ffffff);
    --_error: var(--gpt-chat-error-color, #b42318);
    --_code-bg: var(--gpt-chat-code-background, #eef0f3);
    --_radius: var(--gpt-chat-radius, 10px);
    --_gap: var(--gpt-chat-gap, 0.75rem);
    display: block;
    color: var(--_fg);
    font: 14px/1.45 var(--gpt-chat-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_bg: var(--gpt-chat-background, #16181d);
      --_fg: var(--gpt-chat-color, #e6e8ec);
      --_muted: var(--gpt-chat-muted-color, #a3aab8);
      --_border: var(--gpt-chat-border-color, #353a45);
      --_accent: var(--gpt-chat-accent-color, #7aa2ff);
      --_accent-fg: var(--gpt-chat-accent-text-color, #0b1020);
      --_error: var(--gpt-chat-error-color, #ff8a80);
      --_code-bg: var(--gpt-chat-code-background, #2b2f38);
    }
  }
  :host([hidden]) { display: none; }
  *, *::before, *::after { box-sizing: border-box; }
  .base { display: grid; gap: var(--_gap); padding: var(--_gap); background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius); }
  fieldset { border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); display: grid; gap: 0.5rem; margin: 0; }
  legend { font-weight: 600; padding: 0 0.25rem; }
  label { display: grid; gap: 0.2rem; }
  .row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: end; }
  .row > label { flex: 1 1 10rem; }
  input, textarea, select, button { font: inherit; color: inherit; background: var(--_bg); border: 1px solid var(--_border); border-radius: 6px; padding: 0.3rem 0.5rem; }
  textarea { resize: vertical; font-family: var(--gpt-chat-mono-font, ui-monospace, Menlo, Consolas, monospace); }
  button { cursor: pointer; }
  button.primary { background: var(--_accent); color: var(--_accent-fg); border-color: var(--_accent); }
  button:disabled { opacity: 0.5; cursor: default; }
  :focus-visible { outline: 2px solid var(--_accent); outline-offset: 1px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid var(--_border); padding: 0.2rem; text-align: left; vertical-align: top; }
  td input { width: 100%; }
  pre.preview { margin: 0; padding: 0.5rem; background: var(--_code-bg); border-radius: 6px; white-space: pre-wrap; max-height: 16rem; overflow: auto; font-family: var(--gpt-chat-mono-font, ui-monospace, Menlo, Consolas, monospace); }
  .muted { color: var(--_muted); }
  .error { color: var(--_error); }
  .over { color: var(--_error); font-weight: 600; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
