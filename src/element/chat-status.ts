/**
 * The status area of <gpt-chat> under the conversation: one progress bar for the whole model load
 * with a Cancel button, the question before a large download (how much is left when part of it is
 * already on this device), notices, errors with Retry, and Undo after Clear.
 */
import { html, type TemplateResult } from 'lit';
import { ChatStatus, type ChatController } from './chat-controller.ts';
import { formatBytes, formatDuration } from './format.ts';
import type { LoadStage } from './load-progress.ts';

/** What the status area's buttons do. */
export interface StatusActions {
  download(): void;
  cancel(): void;
  retry(): void;
  undo(): void;
}

/** The line above the bar: which phase, and its own bytes. */
function stageLine(p: LoadStage): string {
  const of = p.total > 0 ? `: ${formatBytes(p.loaded)} of ${formatBytes(p.total)}` : '';
  switch (p.phase) {
    case 'download':
      return `Downloading the model${of}${p.eta !== undefined && p.loaded < p.total ? ` · ${formatDuration(p.eta)} left` : ''}`;
    case 'cache':
      return `Reading the model from this device${of}`;
    case 'weights':
      return `Preparing the weights${of}`;
    case 'compile':
      return 'Getting the model ready on this device…';
    case 'prepare':
      return `Preparing the GPU: ${p.loaded} of ${p.total} kernels`;
    case 'confirm':
      return 'Waiting for the go-ahead to download';
  }
}

/** The status area's contents (empty when there is nothing to say). */
export function renderStatus(c: ChatController, a: StatusActions): TemplateResult[] {
  const out: TemplateResult[] = [];
  const cancel = html`<button type="button" part="cancel-button" class="small" @click=${() => a.cancel()} aria-keyshortcuts="Escape">Cancel</button>`;
  if (c.status === ChatStatus.loading) {
    const p = c.progress;
    const pct = Math.floor((p?.fraction ?? 0) * 100);
    out.push(html`<div class="progress">
      <div class="progress-line"><span>${p ? stageLine(p) : 'Loading the model…'} (${pct}%)</span>${cancel}</div>
      <progress part="progress" max="100" .value=${pct} aria-label="Model loading progress"></progress>
    </div>`);
  }
  if (c.status === ChatStatus.confirm) out.push(renderConfirm(c, a));
  if (c.info?.notice && c.status !== ChatStatus.loading) out.push(html`<p class="notice">${c.info.notice}</p>`);
  if (c.notice) out.push(html`<p class="notice">${c.notice}</p>`);
  if (c.cleared) {
    out.push(html`<p class="notice cleared">Conversation cleared.
      <button type="button" part="undo-button" class="small" @click=${() => a.undo()}>Undo</button></p>`);
  }
  if (c.error && c.error.code !== 'aborted') {
    out.push(html`<div class="error" role="alert">
      <span>${c.error.message}</span>
      <button type="button" part="retry-button" @click=${() => a.retry()}>Retry</button>
    </div>`);
  }
  return out;
}

/** Before a large download, or after a cancelled load: what it costs, and the button to go on. */
function renderConfirm(c: ChatController, a: StatusActions): TemplateResult {
  const left = c.pendingBytes;
  const stored = c.storedBytes;
  const kept = stored > 0 ? ` (${formatBytes(stored)} already on this device)` : '';
  let text: string;
  let button: string;
  if (c.cancelled && left === 0) {
    text = 'Loading was cancelled. The model is on this device.';
    button = 'Load';
  } else if (c.cancelled) {
    text = `Loading was cancelled.${left ? ` ${formatBytes(left)} left to download${kept}.` : ''} What was downloaded is kept.`;
    button = 'Resume download';
  } else {
    text = stored > 0 ? `This model has ${formatBytes(left ?? 0)} left to download${kept}, kept on this device afterwards.` : `This model is a ${formatBytes(left ?? 0)} download, kept on this device afterwards.`;
    button = stored > 0 ? 'Resume download' : 'Download';
  }
  return html`<div class="confirm">${text} <button type="button" part="download-button" class="primary" @click=${() => a.download()}>${button}</button></div>`;
}

/** The send button's words while a download waits: sending starts it, so the button says so. */
export function sendLabel(c: ChatController): { text: string; label: string } {
  if (c.status !== ChatStatus.confirm) return { text: 'Send', label: 'Send' };
  const left = c.pendingBytes;
  if (left === 0) return { text: 'Load & send', label: 'Load the model and send' };
  return { text: 'Download & send', label: `Download the model${left ? ` (${formatBytes(left)})` : ''} and send` };
}
