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
import { parseLabelledRows } from '../templates/labelled-rows.ts';
import type { FewShotTemplate, TemplateExample } from '../templates/schema.ts';

/** What training needs of <gpt-chat> (its public template API). */
export interface HeadRunner {
  classify(t: FewShotTemplate, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<'summed' | 'mean' | 'calibrated'>, signal?: AbortSignal): Promise<TemplateScores>;
  choose(t: FewShotTemplate, fields: Readonly<Record<string, string>>, options?: TemplateRunOptions<'summed' | 'mean' | 'length' | 'unconditional'>, signal?: AbortSignal): Promise<TemplateScores>;
  trainHead?(t: FewShotTemplate, rows: readonly unknown[], options?: HeadTrainingOptions, onProgress?: (p: TrainHeadProgress) => void, signal?: AbortSignal): Promise<TaskHead>;
}

/** A line of the editor's status. */
export interface EditorStatus {
  readonly kind: 'error' | 'info';
  readonly text: string;
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

  /**
   * Trains a head on pasted rows (`text`: tab- or comma-separated) or on the examples (no text);
   * throws GptError (the editor shows it) and changes nothing on failure.
   */
  train(runner: HeadRunner, t: FewShotTemplate, text: string | undefined): Promise<TaskHead> {
    return this.#run(async (signal) => {
      const rows = trainingRows(t, text);
      const train = trainOf(runner);
      return train(t, rows, {}, (p) => this.#show({ what: p.phase === 'features' ? 'Reading rows' : 'Fitting (cross-validation)', done: p.done, total: p.total }), signal);
    });
  }

  /** Measures few-shot vs head accuracy against the number of rows (learning-curve.ts). */
  measureCurve(runner: HeadRunner, t: FewShotTemplate, text: string | undefined): Promise<LearningCurve> {
    return this.#run(async (signal) => {
      const rows = trainingRows(t, text);
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

  /**
   * The editor's "Train": `draft()` gives the template and the runner (either may throw, as the
   * editor's do for an invalid draft or a missing chat); the head, or the status that says why not.
   */
  async trainFor(draft: () => [FewShotTemplate, HeadRunner], text: string | undefined): Promise<{ head?: TaskHead; status: EditorStatus }> {
    try {
      const [t, runner] = draft();
      const head = await this.train(runner, t, text);
      return { head, status: { kind: 'info', text: `Trained a head: ${(head.validation.accuracy * 100).toFixed(1)}% cross-validated accuracy on ${head.validation.rows} rows. Save to keep it with the template.` } };
    } catch (e) {
      return { status: { kind: 'error', text: `No head was trained: ${GptError.from(e).message}` } };
    }
  }

  /** The editor's "Learning curve": undefined when measured, else the status that says why not. */
  async curveFor(draft: () => [FewShotTemplate, HeadRunner], text: string | undefined): Promise<EditorStatus | undefined> {
    try {
      const [t, runner] = draft();
      await this.measureCurve(runner, t, text);
      return undefined;
    } catch (e) {
      return { kind: 'error', text: GptError.from(e).message };
    }
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

/** Labelled rows to learn from: pasted ones, else the template's examples. */
function trainingRows(t: FewShotTemplate, text: string | undefined): readonly TemplateExample[] {
  if (text === undefined) return t.examples;
  if (!text.trim()) throw new GptError('bad-template', 'Paste labelled rows first (one per line: the fields, then the label), or train on the examples.');
  return parseLabelledRows(t, text);
}

function trainOf(runner: HeadRunner): NonNullable<HeadRunner['trainHead']> {
  if (!runner.trainHead) throw new GptError('bad-argument', 'This chat cannot train a task head. HINT: use a <gpt-chat> of this version, on engine "auto", "webgpu" or "cpu".');
  return runner.trainHead.bind(runner);
}
