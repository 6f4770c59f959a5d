/**
 * The look of <gpt-template-editor>: the same `--gpt-chat-*` custom properties as <gpt-chat>, so
 * one theme styles both. The editor is a size container: below 36rem (a sidebar, a phone) the
 * tables become one card per row with the column name beside each input, and nothing is wider
 * than the editor; above it the tables are tables.
 */
import { css } from 'lit';
import { themeTokens } from './theme.ts';

export const templateEditorStyles = [
  themeTokens,
  css`
  :host {
    display: block;
    container: editor / inline-size;
    color: var(--_fg);
    font: 14px/1.45 var(--_font);
    min-width: 0;
  }
  :host([hidden]) { display: none; }
  *, *::before, *::after { box-sizing: border-box; }
  .base { display: grid; grid-template-columns: minmax(0, 1fr); gap: var(--_gap); padding: var(--_gap); background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius); }
  fieldset { border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); display: grid; grid-template-columns: minmax(0, 1fr); gap: 0.5rem; margin: 0; min-width: 0; }
  legend { font-weight: 600; padding: 0 0.25rem; }
  label { display: grid; gap: 0.2rem; min-width: 0; }
  .row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: end; }
  .row > label { flex: 1 1 10rem; }
  input, textarea, select, button, .button { font: inherit; color: inherit; background: var(--_bg); border: 1px solid var(--_border); border-radius: 6px; padding: 0.3rem 0.5rem; min-width: 0; max-width: 100%; }
  input:where(:not([type='radio'], [type='checkbox'])), textarea, select { width: 100%; } /* :where keeps it as weak as a plain input rule */
  /* a radio or checkbox sits beside its text, not above it */
  label:has(> input[type='radio'], > input[type='checkbox']) { display: flex; align-items: center; gap: 0.4rem; }
  .row > label:has(> input[type='radio'], > input[type='checkbox']) { flex: 0 1 auto; }
  textarea { resize: vertical; font-family: var(--_mono); }
  button, .button { cursor: pointer; white-space: nowrap; }
  .button { display: inline-block; }
  .button:focus-within { outline: 2px solid var(--_accent); outline-offset: 1px; }
  button.primary { background: var(--_accent); color: var(--_accent-fg); border-color: var(--_accent); }
  button:disabled { opacity: 0.5; cursor: default; }
  :focus-visible { outline: 2px solid var(--_accent); outline-offset: 1px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid var(--_border); padding: 0.2rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
  td.actions { white-space: nowrap; width: 1%; }
  td.actions button { padding: 0.2rem 0.45rem; }
  pre.preview { margin: 0; padding: 0.5rem; background: var(--_code-bg); color: var(--_on-code); border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 16rem; overflow: auto; font-family: var(--_mono); }
  .confusion-box { overflow-x: auto; max-width: 100%; }
  table.confusion { width: auto; min-width: min(100%, 26rem); }
  table.confusion caption { text-align: left; caption-side: top; padding-bottom: 0.25rem; }
  table.confusion td { text-align: right; font-variant-numeric: tabular-nums; min-width: 2.5rem; }
  table.confusion td.zero { color: var(--_muted); }
  .muted { color: var(--_muted); }
  .error { color: var(--_error); overflow-wrap: anywhere; }
  .status { margin: 0; overflow-wrap: anywhere; }
  .over { color: var(--_error); font-weight: 600; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

  /* Narrow: every table row is a card, each cell a line with its column name. */
  @container editor (max-width: 36rem) {
    table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; }
    table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    table.stack tr { border: 1px solid var(--_border); border-radius: 6px; padding: 0.4rem; margin-bottom: 0.5rem; }
    table.stack td { border: 0; padding: 0.15rem 0; display: grid; grid-template-columns: minmax(4.5rem, 30%) minmax(0, 1fr); gap: 0.4rem; align-items: center; }
    table.stack td::before { content: attr(data-label); color: var(--_muted); font-size: 0.9em; overflow-wrap: anywhere; }
    table.stack td.actions { display: flex; gap: 0.3rem; justify-content: flex-end; width: auto; }
    table.stack td.actions::before { content: none; }
    .library > label { flex-basis: 100%; }
  }
`,
];

