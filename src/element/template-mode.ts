/**
 * <gpt-chat> in template mode (the `template` attribute set): every user message is a query of
 * that few-shot template, answered with the label probabilities (classification, multiple
 * choice) or a completion (generation). Async state in a controller, like ChatController: a
 * generation counter drops results of a cleared or superseded run.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Engine, ModelInfo, TemplateScores } from '../engine/engine.ts';
import { GptError } from '../errors.ts';
import { builtinTemplate } from '../templates/builtins.ts';
import { fieldsFromMessage } from '../templates/message-fields.ts';
import type { FewShotTemplate } from '../templates/schema.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import { chooseHead, methodLabel, type TemplateModeSetting } from './head-choice.ts';
import type { TemplateStore } from '../templates/template-store.ts';

/** One query and its answer. */
export interface TemplateTurn {
  readonly input: string;
  readonly templateName: string;
  /** Classification and multiple choice. */
  readonly result?: TemplateScores;
  /** Generation: the completion (growing while it streams). */
  readonly completion?: string;
  readonly error?: GptError;
  readonly pending: boolean;
  /** How the answer was reached: "few-shot" or "trained head (...)", and why a head was passed over. */
  readonly method?: string;
}

/** The chat controller's way to the engine (ChatController.withEngine). */
export type WithEngine = <T>(fn: (engine: Engine, info: ModelInfo) => Promise<T>) => Promise<T>;

/** A template id: a built-in, else one saved in `store`. Throws GptError('bad-template') naming it. */
export async function resolveTemplate(id: string, store: TemplateStore): Promise<FewShotTemplate> {
  const t = builtinTemplate(id) ?? (await store.get(id));
  if (!t) {
    throw new GptError('bad-template', `There is no template "${id}". HINT: use a built-in (sentiment, topic, entailment, similarity, multiple-choice) or the id of a template saved in <gpt-template-editor>.`);
  }
  return t;
}

/** Runs a template on the engine: classify, choose or a streamed completion. */
export async function runTemplate(engine: Engine, t: FewShotTemplate, fields: Record<string, string>, onText: (text: string) => void, signal?: AbortSignal, head?: TaskHead): Promise<TemplateScores | string> {
  if (t.task === 'generation') {
    if (!engine.complete) throw new GptError('bad-argument', 'This engine cannot run generation templates.');
    let text = '';
    for await (const ev of engine.complete(t, fields, { maxTokens: 64, temperature: 0, stop: [t.separator] }, signal)) {
      if (ev.type === 'token') onText((text += ev.text));
    }
    return text;
  }
  const run = t.task === 'classification' ? engine.classify : engine.choose;
  if (!run) throw new GptError('bad-argument', 'This engine cannot score few-shot templates; use engine="auto", "webgpu" or "cpu".');
  return run.call(engine, t, fields, head ? { head } : {}, signal);
}

/** A label is "always" predicted when it wins every one of at least this many queries ... */
const SAME_LABEL_RUNS = 3;
/** ... each with at least this probability: the model is not reading the input. */
const SAME_LABEL_P = 0.97;

/**
 * A hint when every answered query gave the same label near 100%: a model too small for the
 * template, or examples that all share one label, answer that way whatever the input.
 */
export function sameLabelHint(turns: readonly TemplateTurn[]): string | undefined {
  const results = turns.map((t) => t.result).filter((r): r is TemplateScores => !!r);
  if (results.length < SAME_LABEL_RUNS) return undefined;
  const label = results[0]!.answer;
  if (!results.every((r) => r.answer === label && (r.probabilities[r.best] ?? 0) >= SAME_LABEL_P)) return undefined;
  return `The model gave "${label}" near 100% for every message: it may be too small for this template, or the examples may favour that label. Try a larger model, or balance the examples.`;
}

/** What to type in template mode, shown before the first message. */
export function inputFormat(t: FewShotTemplate): string {
  if (t.fields.length === 1) {
    const what = t.task === 'classification' ? ` Labels: ${t.labels.map((l) => l.name).join(', ')}.` : '';
    return `Template "${t.name}": each message is one ${t.fields[0]}.${what}`;
  }
  return `Template "${t.name}": write one line per field:\n${t.fields.map((f) => `${f}: …`).join('\n')}`;
}

export class TemplateMode implements ReactiveController {
  turns: TemplateTurn[] = [];
  /** The template of the `template` attribute, once resolved (built-in or saved). */
  template: FewShotTemplate | undefined;
  #templateId: string | undefined;
  #gen = 0;
  #abort: AbortController | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly withEngine: WithEngine,
    private readonly store: () => TemplateStore,
    /** The `template-mode` attribute: few-shot or the template's trained head. */
    private readonly mode: () => TemplateModeSetting = () => 'auto',
  ) {
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.#abort?.abort();
  }

  /** Resolves template `id` for display (the input format); re-renders when it arrives. */
  describe(id: string): FewShotTemplate | undefined {
    if (id !== this.#templateId) {
      this.#templateId = id;
      this.template = undefined;
      resolveTemplate(id, this.store()).then(
        (t) => {
          if (this.#templateId !== id) return;
          this.template = t;
          this.host.requestUpdate();
        },
        () => {}, // an unknown id is reported when a message is sent
      );
    }
    return this.template;
  }

  get busy(): boolean {
    return this.turns.some((t) => t.pending);
  }

  /** Answers `text` with template `id`. False (nothing kept) when empty or while one runs. */
  send(id: string, text: string): boolean {
    const input = text.trim();
    if (!input || this.busy) return false;
    const gen = this.#gen;
    const index = this.turns.length;
    this.#put(index, { input, templateName: id, pending: true });
    const abort = (this.#abort = new AbortController());
    void (async () => {
      try {
        const t = await resolveTemplate(id, this.store());
        const fields = fieldsFromMessage(t, input);
        this.#put(index, { input, templateName: t.name, pending: true });
        let method = '';
        const out = await this.withEngine((engine, info) => {
          const { head, note } = chooseHead(t, info, this.mode());
          method = [methodLabel(head), note].filter(Boolean).join('. ');
          return runTemplate(engine, t, fields, (completion) => gen === this.#gen && this.#put(index, { input, templateName: t.name, completion, pending: true }), abort.signal, head);
        });
        if (gen !== this.#gen) return;
        this.#put(index, typeof out === 'string' ? { input, templateName: t.name, completion: out, pending: false } : { input, templateName: t.name, result: out, pending: false, method });
      } catch (e) {
        if (gen !== this.#gen) return;
        this.#put(index, { ...this.turns[index]!, error: GptError.from(e), pending: false });
      }
    })();
    return true;
  }

  stop(): void {
    this.#abort?.abort();
  }

  clear(): void {
    this.#gen++;
    this.#abort?.abort();
    this.turns = [];
    this.host.requestUpdate();
  }

  #put(index: number, turn: TemplateTurn): void {
    const turns = this.turns.slice();
    turns[index] = turn;
    this.turns = turns;
    this.host.requestUpdate();
  }
}
