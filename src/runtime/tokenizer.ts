import { Tokenizer } from '@huggingface/tokenizers';
import { parseJsonObject, type JsonObject } from '../formats/json.ts';
import type { ModelFiles } from '../formats/model-files.ts';
import { GptError } from '../errors.ts';

/** Where the tokenizer's inputs came from, and the other files that name end-of-sequence ids. */
export interface TokenizerSources {
  /** Name of the tokenizer.json file for error messages. Default 'tokenizer.json'. */
  readonly tokenizerFile?: string;
  /** Name of the tokenizer_config.json file for error messages. Default 'tokenizer_config.json'. */
  readonly configFile?: string;
  /** `eos_token_id` of config.json, already normalised to a list (ModelConfig.eosTokenIds). */
  readonly modelEosTokenIds?: readonly number[];
  /** The parsed generation_config.json, when the model has one. */
  readonly generationConfig?: JsonObject | null;
  /** Name of the generation_config.json file for error messages. Default 'generation_config.json'. */
  readonly generationConfigFile?: string;
}

/** A run of text to encode, and whether special-token strings in it are real special tokens. */
export interface TextSegment {
  readonly text: string;
  /** True for text our code wrote (a rendered chat template); false for text a person typed. */
  readonly specials: boolean;
}

interface AddedTokenJson {
  readonly id: number;
  readonly content: string;
  readonly special?: boolean;
  readonly lstrip?: boolean;
  readonly rstrip?: boolean;
  readonly normalized?: boolean;
}

/**
 * Text to token ids and back, for one model, built from its tokenizer.json and
 * tokenizer_config.json on top of @huggingface/tokenizers (BPE byte-level like GPT-2 and Qwen2,
 * SentencePiece-style BPE with byte fallback like Llama and TinyLlama).
 *
 * Two kinds of text are kept apart. Text a person typed is encoded with {@link encode}: a typed
 * "<|im_end|>" stays the characters it is and can never end a turn or forge one. Text our code
 * produced (a rendered chat template) is encoded with {@link encodeWithSpecials}, where those
 * strings are the special tokens. The library always matches special tokens, so plain encoding
 * uses a second library tokenizer whose added tokens exclude the special ones (as the Rust
 * tokenizers' `encode_special_tokens` does); it is built lazily, the first time typed text
 * actually contains a special token's string, so ordinary chats pay nothing for it.
 *
 * BOS rule ({@link addBos}): tokenizer_config.json `add_bos_token` when it is a boolean (that is
 * what transformers' Llama tokenizers obey); otherwise whether tokenizer.json's post_processor
 * (TemplateProcessing, alone or in a Sequence) starts its single-sequence template with a special
 * token. GPT-2, SmolLM2 and Qwen2 add none; Llama, TinyLlama and Mistral add `<s>`. An EOS is never
 * appended to a prompt (`add_eos_token` is ignored): the model is asked to continue, not to stop.
 */
export class TextTokenizer {
  /** Number of token ids the tokenizer knows: 1 + the largest id of the vocabulary and added tokens. */
  readonly vocabSize: number;
  /** Whether a fresh prompt starts with {@link bosTokenId} (see the BOS rule above). */
  readonly addBos: boolean;
  readonly bosToken: string | null;
  readonly bosTokenId: number | null;
  /** The tokenizer's own end-of-sequence token (tokenizer_config.json `eos_token`). */
  readonly eosToken: string | null;
  readonly eosTokenId: number | null;
  readonly padToken: string | null;
  readonly padTokenId: number | null;
  /**
   * Every id that ends a reply: generation_config.json `eos_token_id` (number or list) first, then
   * config.json's, then tokenizer_config.json's `eos_token`, without repeats. Chat models often
   * list their end-of-turn token (`<|im_end|>`) in only one of the three.
   */
  readonly eosTokenIds: readonly number[];
  /** The strings of the special added tokens ("<|im_start|>", "</s>" ...), longest first. */
  readonly specialTokens: readonly string[];

  private plainTokenizer: Tokenizer | null = null;
  private readonly specialIds: ReadonlySet<number>;
  private readonly specialByContent: ReadonlyMap<string, AddedTokenJson>;
  private readonly specialPattern: RegExp | null;
  // normalized special tokens, when a normalizer could turn typed text into one
  private readonly normalizedSpecials: readonly string[];

  private constructor(
    private readonly full: Tokenizer,
    private readonly json: JsonObject,
    private readonly config: JsonObject,
    addedTokens: readonly AddedTokenJson[],
    sources: Required<Omit<TokenizerSources, 'generationConfig'>> & { generationConfig: JsonObject | null },
  ) {
    const specials = addedTokens.filter((t) => t.special === true);
    this.specialIds = new Set(specials.map((t) => t.id));
    this.specialByContent = new Map(specials.map((t) => [t.content, t]));
    this.specialTokens = [...new Set(specials.map((t) => t.content))].sort((a, b) => b.length - a.length);
    this.specialPattern =
      this.specialTokens.length > 0 ? new RegExp(this.specialTokens.map(escapeRegExp).join('|'), 'g') : null;
    const normalizer = full.normalizer;
    this.normalizedSpecials =
      normalizer === null ? [] : specials.filter((t) => t.normalized === true).map((t) => normalizer(t.content));

    this.vocabSize = full.model?.vocab.length ?? 0;

    const cfg = sources.configFile;
    this.bosToken = tokenString(config['bos_token'], `${cfg} bos_token`);
    this.eosToken = tokenString(config['eos_token'], `${cfg} eos_token`);
    this.padToken = tokenString(config['pad_token'], `${cfg} pad_token`);
    const templateBos = postProcessorBos(json['post_processor']);
    this.bosTokenId = this.bosToken !== null ? this.requireId(this.bosToken, `${cfg} bos_token`) : templateBos;
    this.eosTokenId = this.eosToken !== null ? this.requireId(this.eosToken, `${cfg} eos_token`) : null;
    this.padTokenId = this.padToken !== null ? this.requireId(this.padToken, `${cfg} pad_token`) : null;
    const addBosSetting = config['add_bos_token'];
    this.addBos = typeof addBosSetting === 'boolean' ? addBosSetting : templateBos !== null;
    if (this.addBos && this.bosTokenId === null) {
      throw new GptError(
        'bad-config',
        `${cfg} sets add_bos_token but names no bos_token, and ${sources.tokenizerFile} has no BOS in its post_processor. ` +
          `Hint: add "bos_token" to ${cfg} or set "add_bos_token": false.`,
      );
    }

    const eos: number[] = [];
    const gen = sources.generationConfig;
    if (gen !== null && gen['eos_token_id'] !== undefined && gen['eos_token_id'] !== null) {
      eos.push(...tokenIdList(gen['eos_token_id'], `${sources.generationConfigFile} eos_token_id`));
    }
    eos.push(...sources.modelEosTokenIds);
    if (this.eosTokenId !== null) eos.push(this.eosTokenId);
    for (const id of eos) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new GptError(
          'bad-config',
          `end-of-sequence id ${id} (from ${sources.generationConfigFile}, config.json or ${cfg}) is not a token of ` +
            `${sources.tokenizerFile}, which has ${this.vocabSize} ids. Hint: the files may come from different models.`,
        );
      }
    }
    this.eosTokenIds = [...new Set(eos)];
  }

  /**
   * Builds the tokenizer from the parsed JSON files. Throws GptError 'bad-config' naming the file
   * and field when they are not a tokenizer we can use.
   * @param tokenizerJson the parsed tokenizer.json
   * @param tokenizerConfig the parsed tokenizer_config.json ({} when the model has none)
   * @param sources file names for error messages and the other sources of EOS ids
   */
  static fromJson(tokenizerJson: unknown, tokenizerConfig: unknown, sources: TokenizerSources = {}): TextTokenizer {
    const src = {
      tokenizerFile: sources.tokenizerFile ?? 'tokenizer.json',
      configFile: sources.configFile ?? 'tokenizer_config.json',
      generationConfigFile: sources.generationConfigFile ?? 'generation_config.json',
      modelEosTokenIds: sources.modelEosTokenIds ?? [],
      generationConfig: sources.generationConfig ?? null,
    };
    const json = requireObject(tokenizerJson, src.tokenizerFile);
    const config = requireObject(tokenizerConfig, src.configFile);
    const model = json['model'];
    if (model === null || typeof model !== 'object' || Array.isArray(model)) {
      throw new GptError(
        'bad-config',
        `${src.tokenizerFile} has no "model" object (found ${JSON.stringify(model) ?? 'nothing'}). ` +
          `Hint: use the tokenizer.json written by Hugging Face tokenizers ("fast" tokenizer), not vocab.json or tokenizer.model.`,
      );
    }
    const addedTokens = readAddedTokens(json['added_tokens'], src.tokenizerFile);
    // The library insists that these keys exist; older files leave out the ones that are null.
    const normalised: JsonObject = {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      ...json,
      added_tokens: addedTokens,
    };
    const full = buildLibraryTokenizer(normalised, config, src.tokenizerFile);
    return new TextTokenizer(full, normalised, config, addedTokens, src);
  }

  /**
   * Reads tokenizer.json (required), tokenizer_config.json and generation_config.json (optional)
   * from a model folder.
   * @param modelEosTokenIds config.json's end-of-sequence ids (ModelConfig.eosTokenIds)
   */
  static async load(files: ModelFiles, modelEosTokenIds: readonly number[] = []): Promise<TextTokenizer> {
    const readOptional = async (name: string): Promise<JsonObject | null> =>
      (await files.has(name)) ? parseJsonObject(await files.text(name), name) : null;
    const tokenizerJson = parseJsonObject(await files.text('tokenizer.json'), 'tokenizer.json');
    const tokenizerConfig = (await readOptional('tokenizer_config.json')) ?? {};
    const generationConfig = await readOptional('generation_config.json');
    return TextTokenizer.fromJson(tokenizerJson, tokenizerConfig, { modelEosTokenIds, generationConfig });
  }

  /**
   * Encodes text a person typed: special-token strings in it ("<|im_end|>", "</s>") are ordinary
   * characters, and no BOS/EOS is added.
   */
  encode(text: string): number[] {
    if (text.length === 0) return [];
    const tokenizer = this.mayHoldSpecial(text) ? this.plain() : this.full;
    return tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * Encodes text our code produced, such as a rendered chat template: special-token strings in it
   * are the special tokens. No BOS/EOS is added (a template writes its own).
   */
  encodeWithSpecials(text: string): number[] {
    if (text.length === 0) return [];
    return this.full.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * Encodes a raw prompt for plain completion (no chat template): the BOS when {@link addBos},
   * then the text as typed.
   */
  encodePrompt(text: string): number[] {
    const ids = this.encode(text);
    return this.addBos && this.bosTokenId !== null ? [this.bosTokenId, ...ids] : ids;
  }

  /**
   * Encodes a text made of pieces, where only the pieces marked `specials` may contain special
   * tokens. The pieces are encoded as one text would be (plain runs that meet are joined before
   * encoding), so a template's newline followed by typed words gives the same ids as encoding
   * the whole rendered string, except that typed special-token strings stay text.
   */
  encodeSegments(segments: readonly TextSegment[]): number[] {
    type Piece = { text: string } | { special: AddedTokenJson };
    const pieces: Piece[] = [];
    const addText = (text: string): void => {
      if (text.length === 0) return;
      const last = pieces[pieces.length - 1];
      if (last !== undefined && 'text' in last) last.text += text;
      else pieces.push({ text });
    };
    for (const segment of segments) {
      if (!segment.specials || this.specialPattern === null) {
        addText(segment.text);
        continue;
      }
      let at = 0;
      for (const match of segment.text.matchAll(this.specialPattern)) {
        addText(segment.text.slice(at, match.index));
        pieces.push({ special: this.specialByContent.get(match[0])! });
        at = match.index + match[0].length;
      }
      addText(segment.text.slice(at));
    }
    // lstrip / rstrip special tokens swallow the whitespace next to them, as the library does
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (!('special' in piece)) continue;
      const before = pieces[i - 1];
      const after = pieces[i + 1];
      if (piece.special.lstrip === true && before !== undefined && 'text' in before) before.text = before.text.trimEnd();
      if (piece.special.rstrip === true && after !== undefined && 'text' in after) after.text = after.text.trimStart();
    }
    const ids: number[] = [];
    for (const piece of pieces) {
      if ('special' in piece) ids.push(piece.special.id);
      else ids.push(...this.encode(piece.text));
    }
    return ids;
  }

  /**
   * Token ids back to text. Ids that name no token (the padding rows of a model whose embedding
   * is larger than its vocabulary) decode to nothing, as in Hugging Face tokenizers. No
   * "clean up tokenization spaces": it would change text the model wrote ("a , b") and break
   * streaming, where the deltas must add up to exactly this string.
   * @param options.skipSpecialTokens leave out special tokens (default false)
   */
  decode(ids: ArrayLike<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    const known: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0) {
        throw new GptError('bad-argument', `decode: ids[${i}] is ${id}, not a token id (an integer >= 0).`);
      }
      if (this.full.id_to_token(id) !== undefined) known.push(id);
    }
    if (known.length === 0) return '';
    return this.full.decode(known, {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  /** The id of a token string ("<|im_end|>", "Ġthe"), or null when the vocabulary lacks it. */
  idOf(token: string): number | null {
    return this.full.token_to_id(token) ?? null;
  }

  /** The token string of an id, or null when no token has it. */
  tokenOf(id: number): string | null {
    return this.full.id_to_token(id) ?? null;
  }

  /** True for the ids of special added tokens (`"special": true` in tokenizer.json). */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** A library tokenizer that matches only the non-special added tokens; built on first use. */
  private plain(): Tokenizer {
    this.plainTokenizer ??= new Tokenizer(
      { ...this.json, added_tokens: (this.json['added_tokens'] as AddedTokenJson[]).filter((t) => t.special !== true) },
      this.config,
    );
    return this.plainTokenizer;
  }

  /** Cheap test: could the library find a special token in this typed text? */
  private mayHoldSpecial(text: string): boolean {
    for (const token of this.specialTokens) if (text.includes(token)) return true;
    if (this.normalizedSpecials.length > 0) {
      const normalized = this.full.normalizer!(text);
      for (const token of this.normalizedSpecials) if (normalized.includes(token)) return true;
    }
    return false;
  }

  private requireId(token: string, field: string): number {
    const id = this.idOf(token);
    if (id === null) {
      throw new GptError(
        'bad-config',
        `${field} is ${JSON.stringify(token)}, which is not a token of the vocabulary. ` +
          `Hint: tokenizer.json and tokenizer_config.json may come from different models.`,
      );
    }
    return id;
  }
}

function buildLibraryTokenizer(json: JsonObject, config: JsonObject, file: string): Tokenizer {
  try {
    return new Tokenizer(json, config);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const model = json['model'] as JsonObject;
    throw new GptError(
      'bad-config',
      `${file} could not be loaded as a tokenizer (model type ${JSON.stringify(model['type'] ?? null)}): ${reason}. ` +
        `Hint: gpt-chat reads tokenizer.json files written by Hugging Face tokenizers (BPE, byte-level or with byte fallback).`,
    );
  }
}

function readAddedTokens(value: unknown, file: string): AddedTokenJson[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new GptError('bad-config', `${file} added_tokens must be a list, found ${typeof value}.`);
  }
  return value.map((token: unknown, i): AddedTokenJson => {
    const t = token as Partial<AddedTokenJson> | null;
    if (t === null || typeof t !== 'object' || !Number.isInteger(t.id) || (t.id as number) < 0 || typeof t.content !== 'string') {
      throw new GptError(
        'bad-config',
        `${file} added_tokens[${i}] must be an object with an integer "id" >= 0 and a string "content", found ${JSON.stringify(token)}.`,
      );
    }
    return t as AddedTokenJson;
  });
}

function requireObject(value: unknown, file: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GptError('bad-config', `${file} must hold a JSON object, found ${Array.isArray(value) ? 'a list' : String(value)}.`);
  }
  return value as JsonObject;
}

/** A token named in tokenizer_config.json: a string, `{ "content": ... }` (older files) or null. */
function tokenString(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw new GptError('bad-config', `${field} must be a string or {"content": string}, found ${JSON.stringify(value)}.`);
}

/** An `eos_token_id`: a number or a list of numbers. */
function tokenIdList(value: unknown, field: string): number[] {
  const list = Array.isArray(value) ? value : [value];
  for (const id of list) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new GptError('bad-config', `${field} must be a token id or a list of token ids, found ${JSON.stringify(value)}.`);
    }
  }
  return list as number[];
}

/**
 * The BOS id that tokenizer.json's post_processor puts before a single sequence, or null. Looks at
 * TemplateProcessing, alone or inside a Sequence (Llama 3 pairs it with ByteLevel).
 */
function postProcessorBos(processor: unknown): number | null {
  if (processor === null || typeof processor !== 'object') return null;
  const p = processor as JsonObject;
  if (p['type'] === 'Sequence' && Array.isArray(p['processors'])) {
    for (const inner of p['processors']) {
      const id = postProcessorBos(inner);
      if (id !== null) return id;
    }
    return null;
  }
  if (p['type'] !== 'TemplateProcessing' || !Array.isArray(p['single'])) return null;
  const first = p['single'][0] as { SpecialToken?: { id?: unknown } } | undefined;
  const name = first?.SpecialToken?.id;
  if (typeof name !== 'string') return null;
  const special = (p['special_tokens'] as Record<string, { ids?: unknown }> | undefined)?.[name];
  const ids = special?.ids;
  return Array.isArray(ids) && Number.isInteger(ids[0]) ? (ids[0] as number) : null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
