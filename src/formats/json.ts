import { GptError } from '../errors.ts';

/** A parsed JSON object: the shape every model-folder JSON file (config, index, tokenizer) has. */
export type JsonObject = Record<string, unknown>;

/**
 * Parses the text of a model-folder JSON file. Throws GptError 'bad-json' naming `file` when the
 * text is not JSON or is not an object at the top level (every Hugging Face JSON file is one).
 */
export function parseJsonObject(text: string, file: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const start = JSON.stringify(text.slice(0, 40));
    throw new GptError(
      'bad-json',
      `${file} is not valid JSON (${reason}); it starts with ${start}. ` +
        `Hint: the file may be truncated or an HTML error page; download it again.`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GptError('bad-json', `${file} must hold a JSON object at the top level, found ${describe(value)}.`);
  }
  return value as JsonObject;
}

/** A short description of a JSON value for error messages: `array`, `null`, `string "abc"`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `array ${truncate(JSON.stringify(value))}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${truncate(JSON.stringify(value))}`;
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
