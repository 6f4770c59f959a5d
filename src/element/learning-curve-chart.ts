/**
 * The learning curve as a small SVG chart (held-out accuracy against rows, log scale) and the same
 * numbers as a table. Few-shot and the head differ by line style and marker shape (dashed with
 * circles, solid with squares), not by colour alone; the SVG is one image with a title and a
 * description, and the table is the text alternative.
 */
import { css, html, svg, nothing, type TemplateResult } from 'lit';
import type { LearningCurve } from '../templates/head/learning-curve.ts';

const W = 320;
const H = 170;
const M = { left: 36, right: 10, top: 10, bottom: 40 };
const pct = (a: number | undefined) => (a === undefined ? '—' : `${(a * 100).toFixed(0)}%`);

export function renderLearningCurve(curve: LearningCurve): TemplateResult {
  const pts = curve.points;
  const lo = Math.log2(pts[0]!.rows);
  const hi = Math.log2(pts[pts.length - 1]!.rows);
  const x = (rows: number) => M.left + (hi === lo ? 0.5 : (Math.log2(rows) - lo) / (hi - lo)) * (W - M.left - M.right);
  const y = (acc: number) => M.top + (1 - acc) * (H - M.top - M.bottom);
  const line = (key: 'fewShot' | 'head') => pts.filter((p) => p[key] !== undefined).map((p) => `${x(p.rows).toFixed(1)},${y(p[key]!).toFixed(1)}`).join(' ');
  const summary = pts.map((p) => `${p.rows} rows: few-shot ${pct(p.fewShot)}, head ${pct(p.head)}`).join('; ');
  return html`<figure class="curve">
    <svg viewBox="0 0 ${W} ${H}" width=${W} height=${H} role="img" aria-labelledby="curve-title curve-desc" class="curve-chart">
      <title id="curve-title">Learning curve: held-out accuracy against labelled rows</title>
      <desc id="curve-desc">${summary}</desc>
      ${[0, 0.5, 1].map((a) => svg`<line x1=${M.left} x2=${W - M.right} y1=${y(a)} y2=${y(a)} class="grid"></line><text x=${M.left - 4} y=${y(a) + 4} text-anchor="end">${a * 100}%</text>`)}
      ${pts.map((p) => svg`<text x=${x(p.rows)} y=${H - M.bottom + 14} text-anchor="middle">${p.rows}</text>`)}
      <text x=${(M.left + W - M.right) / 2} y=${H - 4} text-anchor="middle">labelled rows</text>
      <polyline points=${line('fewShot')} class="few-shot"></polyline>
      <polyline points=${line('head')} class="head"></polyline>
      ${pts.map((p) => svg`<circle cx=${x(p.rows)} cy=${y(p.fewShot)} r="3.5" class="few-shot"></circle>`)}
      ${pts.filter((p) => p.head !== undefined).map((p) => svg`<rect x=${x(p.rows) - 3.5} y=${y(p.head!) - 3.5} width="7" height="7" class="head"></rect>`)}
    </svg>
    <figcaption class="muted">Dashed, circles: few-shot (the rows as examples in the prompt). Solid, squares: trained head. ${curve.heldOut} rows held out.</figcaption>
    <table class="curve-table">
      <caption>Held-out accuracy (${curve.heldOut} rows held out)</caption>
      <thead><tr><th scope="col">Rows</th><th scope="col">Few-shot</th><th scope="col">Head</th></tr></thead>
      <tbody>${pts.map((p) => html`<tr><th scope="row">${p.rows}</th><td>${pct(p.fewShot)}</td><td>${p.head === undefined ? html`<span title="no head: too few rows or one class">—</span>` : pct(p.head)}</td></tr>`)}</tbody>
    </table>
  </figure>${nothing}`;
}

/** The learning curve chart, the training progress and the try-it switch (adopted when the panel loads). */
export const panelStyles = css`
  .curve { margin: 0.5rem 0 0; display: grid; gap: 0.4rem; max-width: 100%; }
  .curve-chart { max-width: 100%; height: auto; font-size: 10px; fill: var(--_fg); }
  .curve-chart .grid { stroke: var(--_border); stroke-width: 1; }
  .curve-chart polyline { fill: none; stroke: var(--_accent); stroke-width: 2; }
  .curve-chart polyline.few-shot { stroke: var(--_muted); stroke-dasharray: 5 4; }
  .curve-chart circle.few-shot { fill: var(--_bg); stroke: var(--_muted); stroke-width: 2; }
  .curve-chart rect.head { fill: var(--_accent); }
  table.curve-table { width: auto; }
  table.curve-table caption { text-align: left; caption-side: top; }
  table.curve-table td { text-align: right; font-variant-numeric: tabular-nums; }
  .train-progress { width: 12rem; vertical-align: middle; margin-left: 0.4rem; }
  .answer-with label { display: inline-flex; gap: 0.3rem; align-items: center; }
`;
