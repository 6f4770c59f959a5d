/**
 * The look of <gpt-chat>, over the shared `--gpt-chat-*` theme (theme.ts); pages theme it from
 * outside through those properties or through the `part` names. The element fills its container
 * (give the container a height).
 */
import { css } from 'lit';
import { themeTokens } from './theme.ts';

export const gptChatStyles = [
  themeTokens,
  css`
  :host {
    display: block;
    height: 100%;
    min-height: 16rem;
    box-sizing: border-box;
    color: var(--_fg);
    font: 15px/1.5 var(--_font);
    contain: content;
  }
  :host([hidden]) { display: none; }
  *, *::before, *::after { box-sizing: inherit; }
  .base {
    display: flex; flex-direction: column; height: 100%;
    background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius); overflow: hidden;
  }
  .header {
    display: flex; gap: 0.5rem; align-items: center; justify-content: space-between;
    padding: 0.4rem var(--_gap); border-bottom: 1px solid var(--_border); color: var(--_muted); font-size: 0.85em;
  }
  .log-box { flex: 1; min-height: 0; position: relative; display: flex; flex-direction: column; }
  .model { min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .log { flex: 1; overflow-y: auto; padding: var(--_gap); display: flex; flex-direction: column; gap: var(--_gap); overscroll-behavior: contain; }
  .empty { color: var(--_muted); margin: auto; text-align: center; }
  .message { max-width: 92%; padding: 0.5rem 0.75rem; border-radius: var(--_radius); overflow-wrap: anywhere; }
  .message.user { align-self: flex-end; background: var(--_user-bg); color: var(--_on-user); white-space: pre-wrap; }
  .message.assistant { align-self: flex-start; background: var(--_bot-bg); color: var(--_on-bot); }
  .message p { margin: 0 0 0.5em; }
  .message p:last-child, .message ul:last-child, .message ol:last-child, .message pre:last-child { margin-bottom: 0; }
  .message ul, .message ol { margin: 0 0 0.5em; padding-left: 1.4em; }
  .message pre { background: var(--_code-bg); color: var(--_on-code); padding: 0.5rem; border-radius: 6px; overflow-x: auto; margin: 0 0 0.5em; }
  .message code { font-family: var(--_mono); font-size: 0.9em; }
  .message :not(pre) > code { background: var(--_code-bg); color: var(--_on-code); padding: 0 0.25em; border-radius: 4px; }
  .message a { color: var(--_accent); }
  .message table { border-collapse: collapse; margin: 0 0 0.5em; font-size: 0.95em; }
  .message th, .message td { border: 1px solid var(--_border); padding: 0.2rem 0.5rem; overflow-wrap: normal; }
  .table-box { overflow-x: auto; max-width: 100%; }
  .code-block { position: relative; }
  .code-block .copy-code { position: absolute; top: 0.25rem; right: 0.25rem; background: var(--_code-bg); }
  .reading { color: var(--_muted); font-style: italic; }
  .unanswered { align-self: flex-end; display: flex; gap: 0.5rem; align-items: center; margin: 0; }
  .jump { position: absolute; bottom: 0.5rem; left: 50%; transform: translateX(-50%); background: var(--_bg); box-shadow: 0 1px 4px color-mix(in srgb, var(--_fg) 25%, transparent); }
  .progress-line { display: flex; gap: 0.5rem; align-items: center; justify-content: space-between; flex-wrap: wrap; }
  .cursor { display: inline-block; width: 0.55em; height: 1.1em; vertical-align: text-bottom; background: currentColor; animation: blink 1s steps(1) infinite; }
  @keyframes blink { 50% { opacity: 0; } }
  @media (prefers-reduced-motion: reduce) { .cursor { animation: none; opacity: 0.6; } }
  .actions { display: flex; gap: 0.25rem; margin-top: 0.25rem; }
  .status { padding: 0 var(--_gap); }
  .status:empty { display: none; }
  .notice, .error, .progress, .confirm { margin: 0.5rem 0; font-size: 0.9em; }
  .notice { color: var(--_muted); }
  .error { color: var(--_error); display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
  progress { width: 100%; height: 0.5rem; accent-color: var(--_accent); }
  .composer { display: flex; gap: 0.5rem; padding: var(--_gap); border-top: 1px solid var(--_border); align-items: flex-end; }
  textarea {
    flex: 1; resize: none; min-height: 2.5rem; max-height: 10rem; padding: 0.5rem 0.6rem; min-width: 0;
    field-sizing: content; overflow-y: auto;
    font: inherit; color: inherit; background: transparent; border: 1px solid var(--_border); border-radius: calc(var(--_radius) - 2px);
  }
  button {
    font: inherit; font-size: 0.9em; padding: 0.45rem 0.8rem; border-radius: calc(var(--_radius) - 2px); cursor: pointer;
    border: 1px solid var(--_border); background: transparent; color: inherit;
  }
  button.primary { background: var(--_accent); color: var(--_accent-fg); border-color: var(--_accent); }
  button.small { padding: 0.1rem 0.5rem; font-size: 0.8em; color: var(--_muted); }
  button:disabled { opacity: 0.5; cursor: default; }
  button:focus-visible, textarea:focus-visible, a:focus-visible, .log:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`,
];
