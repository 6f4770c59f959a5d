/**
 * Label probabilities as horizontal bars: used by <gpt-chat> in template mode and by the "try it"
 * box of <gpt-template-editor>. Labels are user text, rendered as text nodes.
 *
 * @csspart bars - the list of bars; `bar-row` each row, `bar` the track, `bar-fill` the filled part
 * @cssprop --gpt-chat-accent-color - the fill (also `--gpt-chat-bar-color` for the bars alone); the
 * empty track is a tint of the text colour, so it reads on light and dark backgrounds alike
 */
import { css, html, type TemplateResult } from 'lit';
import type { TemplateScores } from '../engine/engine.ts';

/** The bars of one result, best first in bold; `aria-valuenow` carries the percentage. */
export function renderBars(result: TemplateScores): TemplateResult {
  return html`<div part="bars" class="bars" role="list" aria-label="Label probabilities">
    ${result.candidates.map((name, i) => {
      const p = result.probabilities[i]!;
      const pct = Math.round(p * 1000) / 10;
      return html`<div part="bar-row" class="bar-row ${i === result.best ? 'best' : ''}" role="listitem">
        <span class="bar-label">${name}</span>
        <span part="bar" class="bar" role="meter" aria-label=${name} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${pct}>
          <span part="bar-fill" class="bar-fill" style="width: ${pct}%"></span>
        </span>
        <span class="bar-value">${pct.toFixed(1)}%</span>
      </div>`;
    })}
    <div class="bar-meta">${result.promptTokens} prompt tokens · ${Math.round(result.ms)} ms · ${result.normalisation}${
      result.droppedExamples.length ? ` · ${result.droppedExamples.length} example${result.droppedExamples.length > 1 ? 's' : ''} left out to fit the context` : ''
    }</div>
  </div>`;
}

export const templateBarStyles = css`
  .bars { display: grid; gap: 0.3rem; min-width: min(22rem, 100%); max-width: 100%; }
  .bar-row { display: grid; grid-template-columns: minmax(3rem, max-content) minmax(3rem, 1fr) 3.5rem; gap: 0.5rem; align-items: center; }
  .bar-label { overflow-wrap: anywhere; min-width: 0; }
  .bar-row.best .bar-label { font-weight: 600; }
  .bar { display: block; height: 0.7rem; border-radius: 999px; background: var(--_track); overflow: hidden; }
  .bar-fill { display: block; height: 100%; background: var(--gpt-chat-bar-color, var(--_accent)); }
  .bar-value { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .bar-meta { font-size: 0.8em; color: var(--_muted); overflow-wrap: anywhere; }
`;
