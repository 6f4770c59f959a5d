/**
 * The header line of <gpt-chat>: which model (its name from the URL, its architecture, what runs
 * it) and the state, with the reply's speed when `show-speed` is set.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { ChatStatus, type ChatController } from './chat-controller.ts';

/** "SmolLM2-135M-Instruct" for .../SmolLM2-135M-Instruct/resolve/main/: the last named path segment. */
export function modelName(url: string): string {
  const parts = url.replace(/[?#].*$/, '').split('/').filter((p) => p && p !== 'resolve' && p !== 'main' && !/^https?:$/.test(p));
  const last = parts[parts.length - 1] ?? url;
  try {
    return decodeURIComponent(last); // a local: id spells its folder name encoded
  } catch {
    return last;
  }
}

function modelLabel(c: ChatController, url: string): string {
  const name = modelName(url);
  if (!c.info) return name;
  const backend = c.info.backend === 'webgpu' ? 'WebGPU' : c.info.backend === 'webllm' ? 'web-llm' : c.info.backend.toUpperCase();
  return `${name} · ${c.info.modelType} · ${backend}${c.info.backendReason ? ` (${c.info.backendReason})` : ''}`;
}

function stateLabel(c: ChatController, showSpeed: boolean): string {
  const speed = showSpeed && c.tokensPerSecond !== undefined ? ` · ${c.tokensPerSecond.toFixed(1)} tok/s` : '';
  switch (c.status) {
    case ChatStatus.loading:
      return 'loading…';
    case ChatStatus.confirm:
      return c.cancelled ? 'cancelled' : 'not downloaded';
    case ChatStatus.generating:
      return `writing…${speed}`;
    case ChatStatus.ready:
      return (c.info?.fromCache ? 'ready (from this device)' : c.stored ? 'ready' : 'ready (not stored on this device)') + speed;
    case ChatStatus.error:
      return 'not loaded';
    default:
      return '';
  }
}

/** The header of the chat for the model at `url`. */
export function renderHeader(c: ChatController, url: string, showSpeed: boolean): TemplateResult {
  return html`<div part="header" class="header">
    <span class="model" title=${c.info?.backendReason ?? nothing}>${modelLabel(c, url)}</span>
    <span class="state">${stateLabel(c, showSpeed)}</span>
  </div>`;
}
