/**
 * The async state of "train a head" in <gpt-template-editor>: one run at a time (training or a
 * learning curve), its progress, and a cancel that reaches the worker. Like the chat controller,
 * a status the editor renders from and an AbortSignal per run.
 */
import type { ReactiveControllerHost } from 'lit';
import type { HeadTrainingOptions, TemplateRunOptions, TemplateScores } from '../engine/engine.ts';
import { GptError } from '../errors.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import { learningCurve, type LearningCurve } from '../templates/head/learning-curve.ts';
import type { TrainHeadProgress } from '../templates/head/train-head.ts';
import type { FewShotTemplate, TemplateExample } from '../templates/schema.ts';

/** What training needs of <gpt-chat> (its public template API). */
export interface HeadRunner {
  classify(t: FewShotTemplate, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<'summed' | 'mean' | 'calibrated'>, signal?: AbortSignal): Promise<TemplateScores>;
  choose(t: FewShotTemplate, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<'summed' | 'mean' | 'length' | 'unconditional'>, signal?: AbortSignal): Promise<TemplateScores>;
  trainHead?(t: FewShotTemplate, rows: readonly unknown[], options?: HeadTrainingOptions, onProgress?: (p: TrainHeadProgress) => void, signal?: AbortSignal): Promise<TaskHead>;
}

/** Progress as the editor shows it. */
export interface TrainingProgress {
  readonly what: string;
  readonly done: number;
  readonly total: number;
}

export class HeadTraining {
  progress: TrainingProgress | undefined;
  curve: LearningCurve | undefined;
  #abort: AbortController | undefined;

  constructor(private readonly host: ReactiveControllerHost) {}

  get busy(): boolean {
    return !!this.#abort;
  }

  /** Stops the run in progress (training or a curve); it ends with GptError 'aborted'. */
  cancel(): void {
    this.#abort?.abort();
  }

  /** Trains a head on `rows`; throws GptError (the editor shows it) and changes nothing on failure. */
  train(runner: HeadRunner, t: FewShotTemplate, rows: readonly TemplateExample[]): Promise<TaskHead> {
    return this.#run(async (signal) => {
      const train = trainOf(runner);
      return train(t, rows, {}, (p) => this.#show({ what: p.phase === 'features' ? 'Reading rows' : 'Fitting (cross-validation)', done: p.done, total: p.total }), signal);
    });
  }

  /** Measures few-shot vs head accuracy against the number of rows (learning-curve.ts). */
  measureCurve(runner: HeadRunner, t: FewShotTemplate, rows: readonly TemplateExample[]): Promise<LearningCurve> {
    return this.#run(async (signal) => {
      const train = trainOf(runner);
      this.#show({ what: 'Learning curve', done: 0, total: 1 });
      this.curve = await learningCurve(
        {
          train: (tt, r, s) => train(tt, r, {}, undefined, s),
          answer: async (tt, fields, head, s) => {
            const options = head ? { head } : {};
            return (tt.task === 'multiple-choice' ? await runner.choose(tt, fields, options, s) : await runner.classify(tt, fields, options, s)).answer;
          },
        },
        t,
        rows,
        { signal, onProgress: (done, total) => this.#show({ what: 'Learning curve', done, total }) },
      );
      return this.curve;
    });
  }

  async #run<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#abort) throw new GptError('bad-argument', 'A head is being trained: wait for it or cancel it.');
    const abort = (this.#abort = new AbortController());
    this.#show({ what: 'Starting', done: 0, total: 1 });
    try {
      return await fn(abort.signal);
    } catch (e) {
      const error = GptError.from(e);
      throw abort.signal.aborted ? new GptError('aborted', 'Cancelled: nothing was changed.') : error;
    } finally {
      this.#abort = undefined;
      this.#show(undefined);
    }
  }

  #show(progress: TrainingProgress | undefined): void {
    this.progress = progress;
    this.host.requestUpdate();
  }
}

function trainOf(runner: HeadRunner): NonNullable<HeadRunner['trainHead']> {
  if (!runner.trainHead) throw new GptError('bad-argument', 'This chat cannot train a task head. HINT: use a <gpt-chat> of this version, on engine "auto", "webgpu" or "cpu".');
  return runner.trainHead.bind(runner);
}
