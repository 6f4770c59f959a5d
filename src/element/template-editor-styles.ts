/**
 * The look of <gpt-template-editor>: the same `--gpt-chat-*` custom properties as <gpt-chat>, so
 * one theme styles both.
 */
import { css } from 'lit';
import { themeTokens } from './theme.ts';

export const templateEditorStyles = [
  themeTokens,
  css`
  :host {
    display: block;
    color: var(--_fg);
    font: 14px/1.45 var(--_font);
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
`,
];
