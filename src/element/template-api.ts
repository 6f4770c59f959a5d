/**
 * The template methods of <gpt-chat> (classify, choose, trainHead, countTokens), kept out of the
 * element's file: each resolves a template id (built-in or saved) and runs on the engine the chat
 * controller owns, loading the model first when needed.
 */
import type { HeadTrainingOptions, TemplateRunOptions, TemplateScores } from '../engine/engine.ts';
import { GptError } from '../errors.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import type { TrainHeadProgress } from '../templates/head/train-head.ts';
import type { ChooseNormalisation, ClassifyNormalisation, FewShotTemplate } from '../templates/schema.ts';
import type { TemplateStore } from '../templates/template-store.ts';
import { resolveTemplate, type WithEngine } from './template-mode.ts';

export class TemplateApi {
  constructor(
    private readonly withEngine: WithEngine,
    private readonly store: () => TemplateStore,
  ) {}

  #template(t: FewShotTemplate | string): Promise<FewShotTemplate> {
    return typeof t === 'string' ? resolveTemplate(t, this.store()) : Promise.resolve(t);
  }

  async classify(template: FewShotTemplate | string, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<ClassifyNormalisation>, signal?: AbortSignal): Promise<TemplateScores> {
    const t = await this.#template(template);
    return this.withEngine((engine) => {
      if (!engine.classify) throw new GptError('bad-argument', 'This engine cannot score few-shot templates.');
      return engine.classify(t, fields, options, signal);
    });
  }

  async choose(template: FewShotTemplate | string, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<ChooseNormalisation>, signal?: AbortSignal): Promise<TemplateScores> {
    const t = await this.#template(template);
    return this.withEngine((engine) => {
      if (!engine.choose) throw new GptError('bad-argument', 'This engine cannot score few-shot templates.');
      return engine.choose(t, fields, options, signal);
    });
  }

  async trainHead(template: FewShotTemplate | string, rows: readonly unknown[], options?: HeadTrainingOptions, onProgress?: (p: TrainHeadProgress) => void, signal?: AbortSignal): Promise<TaskHead> {
    const t = await this.#template(template);
    return this.withEngine((engine) => {
      if (!engine.trainHead) throw new GptError('bad-argument', 'This engine cannot train a task head (it gives no hidden states). HINT: use engine "auto", "webgpu" or "cpu".');
      return engine.trainHead(t, rows, options, onProgress, signal);
    });
  }

  countTokens(text: string): Promise<number> {
    return this.withEngine((engine) => {
      if (!engine.countTokens) throw new GptError('bad-argument', 'This engine cannot count prompt tokens.');
      return engine.countTokens(text);
    });
  }
}
