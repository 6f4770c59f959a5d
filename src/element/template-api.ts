/**
 * The template methods of <gpt-chat> (classify, choose, trainHead, countTokens), kept out of the
 * element's file: each resolves a template id (built-in or saved) and runs on the engine the chat
 * controller owns, loading the model first when needed.
 */
import type { Engine, HeadTrainingOptions, TemplateRunOptions, TemplateScores } from '../engine/engine.ts';
import { GptError } from '../errors.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import type { TrainHeadProgress } from '../templates/head/train-head.ts';
import type { ChooseNormalisation, ClassifyNormalisation, FewShotTemplate } from '../templates/schema.ts';
import type { TemplateStore } from '../templates/template-store.ts';
import { resolveTemplate, type WithEngine } from './template-mode.ts';

type Method = 'classify' | 'choose' | 'trainHead';

export class TemplateApi {
  constructor(
    private readonly withEngine: WithEngine,
    private readonly store: () => TemplateStore,
  ) {}

  /** Runs engine method `name` on `template` (an id is resolved first); engines without it (web-llm) refuse. */
  async #call<T>(name: Method, template: FewShotTemplate | string, ...args: unknown[]): Promise<T> {
    const t = typeof template === 'string' ? await resolveTemplate(template, this.store()) : template;
    return this.withEngine((engine) => {
      const method = engine[name] as ((t: FewShotTemplate, ...a: unknown[]) => Promise<T>) | undefined;
      if (!method) throw new GptError('bad-argument', `This engine cannot run ${name} (no token-level access). HINT: use engine "auto", "webgpu" or "cpu".`);
      return method.call(engine, t, ...args);
    });
  }

  classify(template: FewShotTemplate | string, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<ClassifyNormalisation>, signal?: AbortSignal): Promise<TemplateScores> {
    return this.#call('classify', template, fields, options, signal);
  }

  choose(template: FewShotTemplate | string, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<ChooseNormalisation>, signal?: AbortSignal): Promise<TemplateScores> {
    return this.#call('choose', template, fields, options, signal);
  }

  trainHead(template: FewShotTemplate | string, rows: readonly unknown[], options?: HeadTrainingOptions, onProgress?: (p: TrainHeadProgress) => void, signal?: AbortSignal): Promise<TaskHead> {
    return this.#call('trainHead', template, rows, options, onProgress, signal);
  }

  countTokens(text: string): Promise<number> {
    return this.withEngine((engine: Engine) => {
      if (!engine.countTokens) throw new GptError('bad-argument', 'This engine cannot count prompt tokens.');
      return engine.countTokens(text);
    });
  }
}
