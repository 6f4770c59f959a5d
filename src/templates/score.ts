/**
 * Running a template on a loaded model: `classify` scores every label, `choose` every option,
 * `templatePrompt` renders a generation prompt. The prompt is prefilled once; each candidate is
 * then teacher-forced on top of its KV cache and rewound (GptModel.scoreContinuation), so k
 * candidates cost one prompt plus k short continuations, not k prompts.
 *
 * Works on any model with the shape of the runtime's LanguageModel ({@link ScoringModel}), so this
 * module imports no runtime code and runs in the worker, on the page and in Node alike.
 */
import { GptError } from '../errors.ts';
import {
  argmax,
  calibrated,
  contentFreeDistribution,
  perByteMean,
  perTokenMean,
  softmax,
  unconditionalNormalised,
} from './normalise.ts';
import { answerParts, candidateTexts, fitPrompt, renderPrompt, type FittedPrompt } from './render.ts';
import type { ChooseNormalisation, ClassifyNormalisation, FewShotTemplate } from './schema.ts';
import { checkFields, validateTemplate } from './validate.ts';
import { checkHeadFits, headScores } from './head/apply-head.ts';
import type { FeatureModel } from './head/features.ts';
import type { TaskHead } from './head/head-schema.ts';

/** What scoring needs of a loaded model; the runtime's LanguageModel has this shape. */
export interface ScoringModel {
  readonly tokenizer: {
    /** Text as typed: special-token strings stay text. */
    encode(text: string): number[];
    /** A raw prompt: BOS first when the model wants one, then {@link encode}. */
    encodePrompt(text: string): number[];
  };
  readonly model: {
    readonly contextLength: number;
    /** Makes the KV cache hold exactly `ids`, keeping the longest common prefix. */
    sync(ids: ArrayLike<number>, signal?: AbortSignal): Promise<unknown>;
    /** log p(ids | cache), teacher-forced, then rewound to the cache. */
    scoreContinuation(ids: ArrayLike<number>, signal?: AbortSignal): Promise<{ readonly total: number; readonly perToken: ArrayLike<number> }>;
  };
}

/** Options of {@link classify} and {@link choose}. */
export interface ScoreOptions<N extends string> {
  /** How scores become probabilities (default 'summed'). */
  readonly normalisation?: N;
  /** Use at most the last k examples (default all; 0 is zero-shot). */
  readonly k?: number;
  /**
   * Score with a trained task head (trainHead) instead of label likelihoods: the model must be
   * the one it was trained on, the template's labels those it was trained for (GptError
   * 'bad-head' otherwise). `normalisation` and `k` do not apply.
   */
  readonly head?: TaskHead;
  readonly signal?: AbortSignal;
  /** The clock for `ms` (tests pass their own). */
  readonly now?: () => number;
}

/** The result of scoring a template's candidates after one query. Plain data: it crosses a worker. */
export interface TemplateScores {
  readonly templateId: string;
  readonly task: 'classification' | 'multiple-choice';
  /** Label names (classification) or option texts (multiple choice), in template order. */
  readonly candidates: readonly string[];
  /** The text scored for each candidate, lead whitespace included (" positive"). */
  readonly continuations: readonly string[];
  /** How scores became probabilities: a normalisation of label likelihoods, or 'head' (a trained head's scores). */
  readonly normalisation: ClassifyNormalisation | ChooseNormalisation | 'head';
  /** softmax(scores): sums to 1 over the candidates. */
  readonly probabilities: readonly number[];
  /** The normalised score of each candidate (what the probabilities are a softmax of). */
  readonly scores: readonly number[];
  /** Summed natural-log probability of each continuation: log p(continuation | prompt). With a head: log of its probabilities. */
  readonly logProbs: readonly number[];
  /** Per-token log-probabilities of each continuation (empty lists with a head). */
  readonly perToken: readonly (readonly number[])[];
  /** Index of the best candidate under `normalisation`. */
  readonly best: number;
  /** candidates[best]. */
  readonly answer: string;
  /** The prompt as scored (up to the answer stem). */
  readonly prompt: string;
  readonly promptTokens: number;
  /** Indices of the template's examples left out to fit the context window (oldest first). */
  readonly droppedExamples: readonly number[];
  /** Milliseconds from the call to the result. */
  readonly ms: number;
  /** 'calibrated': the content-free label distribution divided out. */
  readonly contentFree?: readonly number[];
  /** 'unconditional': each option's log p(option | answer stem). */
  readonly unconditional?: readonly number[];
}

const CLASSIFY: readonly ClassifyNormalisation[] = ['summed', 'mean', 'calibrated'];
const CHOOSE: readonly ChooseNormalisation[] = ['summed', 'mean', 'length', 'unconditional'];

/**
 * Scores every label of a classification template after the query `fields`.
 * @param lm a loaded model (the runtime's LanguageModel)
 * @param template a template (validated again here: it may come from a file or a worker message)
 * @param fields a value for every field of the template
 */
export async function classify(lm: ScoringModel, template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: ScoreOptions<ClassifyNormalisation> = {}): Promise<TemplateScores> {
  if (options.head) return scoreWithHead(lm, template, fields, options, 'classification');
  const { t, normalisation, run, finish } = await scoreQuery(lm, template, fields, options, 'classification', CLASSIFY);
  if (normalisation === 'mean') return finish(perTokenMean(run.logProbs, run.tokenCounts));
  if (normalisation === 'calibrated') {
    // the same examples, every field of the query replaced by a content-free string
    const cfTotals: number[][] = [];
    for (const cf of t.contentFree) {
      const cfFields = Object.fromEntries(t.fields.map((f) => [f, cf]));
      const ids = lm.tokenizer.encodePrompt(renderPrompt(t, cfFields, t.examples.filter((_, i) => run.fitted.kept.includes(i))));
      cfTotals.push((await scoreAfter(lm, ids, run.continuationIds, options.signal)).map((s) => s.total));
    }
    const contentFree = contentFreeDistribution(cfTotals);
    return finish(calibrated(run.logProbs, contentFree), { contentFree });
  }
  return finish(run.logProbs);
}

/**
 * Scores every option of a multiple-choice query (the option fields of `fields`).
 * 'unconditional' also scores each option after the answer stem alone ("Answer:").
 */
export async function choose(lm: ScoringModel, template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: ScoreOptions<ChooseNormalisation> = {}): Promise<TemplateScores> {
  if (options.head) return scoreWithHead(lm, template, fields, options, 'multiple-choice');
  const { t, normalisation, run, finish } = await scoreQuery(lm, template, fields, options, 'multiple-choice', CHOOSE);
  if (normalisation === 'mean') return finish(perTokenMean(run.logProbs, run.tokenCounts));
  if (normalisation === 'length') return finish(perByteMean(run.logProbs, run.texts));
  if (normalisation === 'unconditional') {
    const ids = lm.tokenizer.encodePrompt(answerParts(t).stem);
    if (ids.length === 0) throw new GptError('bad-template', `template "${t.id}": "answer" has no text before {{answer}}, so there is no context for the unconditional score. HINT: use an answer line like "Answer: {{answer}}", or another normalisation.`);
    const unconditional = (await scoreAfter(lm, ids, run.continuationIds, options.signal)).map((s) => s.total);
    return finish(unconditionalNormalised(run.logProbs, unconditional), { unconditional });
  }
  return finish(run.logProbs);
}

/**
 * What classify and choose share: the template checked for `task`, the normalisation picked
 * (default 'summed'), every candidate scored after the query, and `finish` turning the normalised
 * scores into the result, timed from the call.
 */
async function scoreQuery<N extends ClassifyNormalisation | ChooseNormalisation>(
  lm: ScoringModel,
  template: FewShotTemplate,
  fields: Readonly<Record<string, string>>,
  options: ScoreOptions<N>,
  task: TemplateScores['task'],
  allowed: readonly N[],
) {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const t = validateTemplate(template);
  if (t.task !== task) throw wrongTask(t, task);
  const normalisation = pick(options.normalisation, allowed, 'summed' as N);
  const run = await scoreCandidates(lm, t, checkFields(t, fields, `template "${t.id}": the query`), options);
  const finish = (scores: number[], extra: Pick<TemplateScores, 'contentFree' | 'unconditional'> = {}) => result(t, normalisation, run, scores, now() - started, extra);
  return { t, normalisation, run, finish };
}

/** Scores the query with a trained task head instead of the template's label likelihoods. */
function scoreWithHead<N extends string>(lm: ScoringModel, template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: ScoreOptions<N>, task: TemplateScores['task']): Promise<TemplateScores> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const t = validateTemplate(template);
  if (t.task !== task) throw wrongTask(t, task);
  return withHead(lm, t, fields, options.head!, options.signal, () => now() - started);
}

/**
 * The prompt of a generation template (or of any template) for `fields`, fitted to leave
 * `reserve` tokens for the completion: stream a completion after it with the model's generate().
 */
export function templatePrompt(lm: ScoringModel, template: FewShotTemplate, fields: Readonly<Record<string, string>>, reserve = 64, k?: number): FittedPrompt {
  const t = validateTemplate(template);
  const f = checkFields(t, fields, `template "${t.id}": the query`);
  return fitPrompt(t, f, (text) => lm.tokenizer.encodePrompt(text).length, lm.model.contextLength - reserve, k);
}

interface CandidateRun {
  readonly candidates: string[];
  readonly texts: string[];
  readonly continuationIds: number[][];
  readonly tokenCounts: number[];
  readonly logProbs: number[];
  readonly perToken: number[][];
  readonly fitted: FittedPrompt;
}

/** Fits the prompt, prefills it once and scores every candidate on its cache. */
async function scoreCandidates(lm: ScoringModel, t: FewShotTemplate, fields: Record<string, string>, options: ScoreOptions<string>): Promise<CandidateRun> {
  const { lead } = answerParts(t);
  const texts = candidateTexts(t, fields).map((c) => lead + c);
  const continuationIds = texts.map((text) => lm.tokenizer.encode(text));
  // The last continuation token is scored from the logits before it and never enters the cache.
  const longest = Math.max(...continuationIds.map((ids) => ids.length));
  const fitted = fitPrompt(t, fields, (text) => lm.tokenizer.encodePrompt(text).length, lm.model.contextLength - (longest - 1), options.k);
  const scored = await scoreAfter(lm, lm.tokenizer.encodePrompt(fitted.text), continuationIds, options.signal);
  return {
    candidates: t.task === 'classification' ? t.labels.map((l) => l.name) : candidateTexts(t, fields),
    texts,
    continuationIds,
    tokenCounts: continuationIds.map((ids) => ids.length),
    logProbs: scored.map((s) => s.total),
    perToken: scored.map((s) => Array.from(s.perToken)),
    fitted,
  };
}

/** Prefills `prefix` (reusing whatever the cache shares with it) and scores each continuation. */
async function scoreAfter(lm: ScoringModel, prefix: number[], continuations: readonly number[][], signal?: AbortSignal) {
  if (prefix.length === 0) throw new GptError('bad-argument', 'The rendered prompt is empty; a template needs some text before the answer.');
  await lm.model.sync(prefix, signal);
  const out: { total: number; perToken: ArrayLike<number> }[] = [];
  for (const ids of continuations) {
    signal?.throwIfAborted();
    if (ids.length === 0) throw new GptError('bad-template', 'A candidate answer encodes to no tokens. HINT: give every label some text.');
    out.push(await lm.model.scoreContinuation(ids, signal));
  }
  return out;
}

function result(t: FewShotTemplate, normalisation: ClassifyNormalisation | ChooseNormalisation, run: CandidateRun, scores: number[], ms: number, extra: Pick<TemplateScores, 'contentFree' | 'unconditional'>): TemplateScores {
  const best = argmax(scores);
  return {
    templateId: t.id,
    task: t.task as 'classification' | 'multiple-choice',
    candidates: run.candidates,
    continuations: run.texts,
    normalisation,
    probabilities: softmax(scores),
    scores,
    logProbs: run.logProbs,
    perToken: run.perToken,
    best,
    answer: run.candidates[best]!,
    prompt: run.fitted.text,
    promptTokens: run.fitted.tokens,
    droppedExamples: run.fitted.dropped,
    ms,
    ...extra,
  };
}

/** classify / choose through a trained head: features of the query, the linear layer, a softmax. */
async function withHead(lm: ScoringModel, t: FewShotTemplate, fields: Readonly<Record<string, string>>, head: TaskHead, signal: AbortSignal | undefined, elapsed: () => number): Promise<TemplateScores> {
  const checked = checkFields(t, fields, `template "${t.id}": the query`);
  if (!isFeatureModel(lm)) throw new GptError('bad-head', 'This model gives no hidden states, so a trained head cannot run on it. HINT: use our runtime (engine "auto", "webgpu" or "cpu"), or few-shot scoring.');
  const h = checkHeadFits(head, t, lm);
  const { scores, prompt } = await headScores(lm, t, h, checked, signal);
  const probabilities = softmax(scores);
  const best = argmax(scores);
  const { lead } = answerParts(t);
  const candidates = t.task === 'classification' ? t.labels.map((l) => l.name) : candidateTexts(t, checked);
  return {
    templateId: t.id,
    task: t.task as 'classification' | 'multiple-choice',
    candidates,
    continuations: candidateTexts(t, checked).map((c) => lead + c),
    normalisation: 'head',
    probabilities,
    scores,
    logProbs: probabilities.map((p) => Math.log(p)),
    perToken: candidates.map(() => []),
    best,
    answer: candidates[best]!,
    prompt: prompt.text,
    promptTokens: prompt.tokens,
    droppedExamples: prompt.dropped,
    ms: elapsed(),
  };
}

function isFeatureModel(lm: ScoringModel): lm is FeatureModel {
  return typeof (lm as Partial<FeatureModel>).hiddenStates === 'function';
}

function pick<N extends string>(value: N | undefined, allowed: readonly N[], fallback: N): N {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw new GptError('bad-argument', `normalisation "${value}" is not one of ${allowed.join(', ')}.`);
  return value;
}

function wrongTask(t: FewShotTemplate, task: TemplateScores['task']): GptError {
  const fn = (task: string) => (task === 'classification' ? 'classify()' : task === 'multiple-choice' ? 'choose()' : 'templatePrompt() and generate()');
  return new GptError('bad-argument', `${fn(task)} runs ${task} templates, but template "${t.id}" is ${t.task}. HINT: use ${fn(t.task)}.`);
}
