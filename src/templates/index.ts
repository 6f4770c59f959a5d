/**
 * Few-shot task templates: the JSON format, validation, rendering, built-ins and label scoring.
 * No side effects on import; storage (IndexedDB) is in template-store.ts.
 */
export { TEMPLATE_VERSION, type FewShotTemplate, type TaskKind, type TemplateLabel, type TemplateExample, type ClassifyNormalisation, type ChooseNormalisation } from './schema.ts';
export { validateTemplate, parseTemplateJson, checkExample, checkFields } from './validate.ts';
export { renderPrompt, renderExample, renderQuery, renderInstruction, answerParts, candidateTexts, fitPrompt, type FittedPrompt } from './render.ts';
export { BUILTIN_TEMPLATES, builtinTemplate } from './builtins.ts';
export { softmax, logSumExp, perTokenMean, perByteMean, unconditionalNormalised, contentFreeDistribution, calibrated, argmax } from './normalise.ts';
export { classify, choose, templatePrompt, type ScoringModel, type ScoreOptions, type TemplateScores } from './score.ts';
export { fillSlots, slotNames } from './slots.ts';
export { idbTemplateStore, memoryTemplateStore, type TemplateStore } from './template-store.ts';
export { fieldsFromMessage } from './message-fields.ts';
export { parseExampleRows, evaluationReport, type EvaluationReport } from './rows.ts';
export { trainHead, type TrainHeadOptions, type TrainHeadProgress } from './head/train-head.ts';
export { HEAD_VERSION, type TaskHead, type FeatureRecipe, type HeadValidation } from './head/head-schema.ts';
export { validateHead } from './head/validate-head.ts';
export type { FeatureModel } from './head/features.ts';
