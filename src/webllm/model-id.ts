/**
 * Which web-llm model a `model` attribute names. web-llm runs only models it has compiled WebGPU
 * libraries for, listed in its `prebuiltAppConfig`, so `model` must name one of those ids: bare
 * ("SmolLM2-135M-Instruct-q0f16-MLC") or as the last path segment of a URL
 * ("https://huggingface.co/mlc-ai/SmolLM2-135M-Instruct-q0f16-MLC"). The element resolves a bare
 * id against the page, so a URL on the page's own origin is read as that; a URL on another origin
 * is a mirror of the weights folder (Hugging Face layout) run with the prebuilt library.
 */
import { GptError } from '../errors.ts';
import type { WebLlmAppConfig, WebLlmModelRecord } from './webllm-api.ts';

/** web-llm's `ModelType.embedding`: those models embed text and cannot chat. */
const EMBEDDING = 1;

/** Where the full list of ids is, for error messages. */
const MODEL_LIST_URL = 'https://github.com/mlc-ai/web-llm/blob/main/src/config.ts';

export interface ResolvedWebLlmModel {
  readonly modelId: string;
  readonly record: WebLlmModelRecord;
  /** The app config to hand MLCEngine: this one record, its weights address possibly a mirror. */
  readonly appConfig: WebLlmAppConfig;
}

/**
 * Finds the prebuilt record `model` names, or throws a GptError ('bad-argument' for an unknown
 * id, 'unsupported-model' for an embedding model) that lists valid ids.
 * `pageOrigin` is the origin the element resolved a bare id against (a seam for tests).
 */
export function resolveWebLlmModel(model: string, appConfig: WebLlmAppConfig, pageOrigin: string | undefined = globalThis.location?.origin): ResolvedWebLlmModel {
  const trimmed = model.trim().replace(/\/+$/, '');
  const modelId = decodeURIComponent(trimmed.slice(trimmed.lastIndexOf('/') + 1));
  const record = appConfig.model_list.find((r) => r.model_id === modelId);
  if (!record) throw unknownModel(model, modelId, appConfig);
  if (record.model_type === EMBEDDING) {
    throw new GptError('unsupported-model', `web-llm model "${modelId}" is an embedding model and cannot chat. Pick a chat model, e.g. ${examples(appConfig, '').join(', ')}.`);
  }
  const mirror = isMirror(trimmed, record, pageOrigin);
  return { modelId, record, appConfig: { model_list: [mirror ? { ...record, model: trimmed } : record] } };
}

/** True when `url` is an absolute URL off the page's origin and not the record's own folder. */
function isMirror(url: string, record: WebLlmModelRecord, pageOrigin: string | undefined): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false; // a bare id
  }
  if (parsed.origin === pageOrigin) return false;
  return parsed.href.replace(/\/+$/, '') !== record.model.replace(/\/+$/, '');
}

function unknownModel(model: string, modelId: string, appConfig: WebLlmAppConfig): GptError {
  // "SmolLM2-135M" or "smollm2-135m-instruct": offer the ids that contain what was typed.
  const stem = modelId.toLowerCase().replace(/-mlc$/, '');
  const near = stem.length >= 3 ? appConfig.model_list.filter((r) => r.model_id.toLowerCase().includes(stem) && r.model_type !== EMBEDDING).map((r) => `"${r.model_id}"`) : [];
  const some = near.length ? near.slice(0, 6) : examples(appConfig, '"');
  return new GptError(
    'bad-argument',
    `engine="webllm" has no prebuilt model "${modelId}" (model="${model}"). ` +
      (near.length ? `Did you mean ${some.join(', ')}? ` : `Use an id of web-llm's prebuiltAppConfig, e.g. ${some.join(', ')}. `) +
      `All ${appConfig.model_list.length} ids are listed in ${MODEL_LIST_URL}; for our own models use engine="auto".`,
  );
}

/** A few small chat model ids from the list, quoted with `q`. */
function examples(appConfig: WebLlmAppConfig, q: string): string[] {
  const chat = appConfig.model_list.filter((r) => r.model_type !== EMBEDDING);
  const small = [...chat].sort((a, b) => (a.vram_required_MB ?? Infinity) - (b.vram_required_MB ?? Infinity));
  return small.slice(0, 4).map((r) => `${q}${r.model_id}${q}`);
}
