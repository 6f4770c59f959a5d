/**
 * The public API for bundler users: classes and types, no side effects. Import
 * `gpt-chat/gpt-chat.js` (or call `customElements.define('gpt-chat', GptChat)`) to register the
 * element.
 */
export { GptChat } from './element/gpt-chat.ts';
export { ChatController, ChatStatus, LARGE_DOWNLOAD_BYTES, type ChatDeps, type ChatSettings } from './element/chat-controller.ts';
export { idbConversationStore, memoryConversationStore, type ConversationStore } from './element/conversation-store.ts';
export type { ChatTurn, GptChatEventMap } from './element/events.ts';
export type { GptChatTagNameMap } from './element/tag-names.ts';
export { parseMarkdown, renderMarkdown, safeHref, type Block, type Inline } from './element/markdown.ts';
export type { ChatMessage, Engine, EngineEvent, EngineKind, EngineLoadProgress, LocalFilesInput, LocalLoadOptions, ModelInfo, ModelSpec, PickedFile, SamplingOptions } from './engine/engine.ts';
export { createEngine, type EngineChoice } from './engine/engine-choice.ts';
export { WorkerClient, liveWorkerCount, type WorkerClientOptions } from './engine/worker-client.ts';
export { clearCache, deleteCachedModel, exportCachedModel, isModelCached, listCachedModels } from './engine/cache-admin.ts';
export type { ExportTarget } from './element/chat-local-files.ts';
export { GptError, type GptErrorCode } from './errors.ts';
export { openCachedModel, refreshModel, checkModelUpdate, type CacheProgress, type CachedModel } from './cache/index.ts';
export { LoadTimings, type LoadPhase, type LoadTimingsRecord } from './formats/load-timings.ts';
export { GptTemplateEditor, type TemplateRunner } from './element/template-editor.ts';
export type { TemplateTurn } from './element/template-mode.ts';
export type { TemplateRunOptions, TemplateScores } from './engine/engine.ts';
export {
  BUILTIN_TEMPLATES,
  builtinTemplate,
  validateTemplate,
  parseTemplateJson,
  renderPrompt,
  classify,
  choose,
  templatePrompt,
  idbTemplateStore,
  memoryTemplateStore,
  TEMPLATE_VERSION,
  trainHead,
  validateHead,
  HEAD_VERSION,
  type TaskHead,
  type FeatureRecipe,
  type TrainHeadOptions,
  type TrainHeadProgress,
  type FeatureModel,
  type FewShotTemplate,
  type TemplateStore,
  type ClassifyNormalisation,
  type ChooseNormalisation,
  type ScoringModel,
  type EvaluationReport,
} from './templates/index.ts';
