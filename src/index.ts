/**
 * The public API for bundler users: classes and types, no side effects. Import
 * `gpt-chat/gpt-chat.js` (or call `customElements.define('gpt-chat', GptChat)`) to register the
 * element.
 */
export { GptChat } from './element/gpt-chat.ts';
export { ChatController, ChatStatus, LARGE_DOWNLOAD_BYTES, type ChatDeps, type ChatSettings } from './element/chat-controller.ts';
export { idbConversationStore, memoryConversationStore, type ConversationStore } from './element/conversation-store.ts';
export type { ChatTurn, GptChatEventMap } from './element/events.ts';
export { parseMarkdown, renderMarkdown, safeHref, type Block, type Inline } from './element/markdown.ts';
export type { ChatMessage, Engine, EngineEvent, EngineKind, EngineLoadProgress, ModelInfo, ModelSpec, SamplingOptions } from './engine/engine.ts';
export { createEngine, type EngineChoice } from './engine/engine-choice.ts';
export { WorkerClient, liveWorkerCount, type WorkerClientOptions } from './engine/worker-client.ts';
export { clearCache, deleteCachedModel, isModelCached, listCachedModels, remoteModelBytes } from './engine/cache-admin.ts';
export { GptError, type GptErrorCode } from './runtime/errors.ts';
export { openCachedModel, refreshModel, checkModelUpdate, type CacheProgress, type CachedModel } from './cache/index.ts';
