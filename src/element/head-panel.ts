/**
 * The editor's "Train a head" panel as one lazy chunk (template-editor.ts imports it on connect):
 * the panel, its run state and the learning curve are code most pages with an editor never run,
 * and gpt-chat.js has a size budget.
 */
export { HeadTraining } from './head-training.ts';
export { renderAnswerWith, renderTraining } from './template-train.ts';
export { panelStyles } from './learning-curve-chart.ts';
