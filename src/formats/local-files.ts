import { GptError } from '../errors.ts';
import type { FileStream, ModelFiles } from './model-files.ts';
import { ggufFileName } from './model-location.ts';

/**
 * Model files from this computer (a file input, drag and drop, the File System Access API): a
 * Hugging Face folder or one `.gguf` file, as Blobs (Files are Blobs, and both cross to a worker
 * by structured clone without copying their bytes).
 */

/** One file as picked: its path inside what was picked ("SmolLM2/config.json") and its bytes. */
export interface PickedFile {
  readonly path: string;
  readonly blob: Blob;
}

/** A file of a local model, named as in the model folder ("config.json", "model.safetensors"). */
export interface LocalModelFile {
  readonly name: string;
  readonly blob: Blob;
}

/** The model among the picked files: a folder (config.json ...) or one GGUF file. */
export interface LocalModel {
  /** The folder's name, or the GGUF file's name. */
  readonly name: string;
  /** Set for a GGUF file: its name, the one file. */
  readonly ggufFile?: string;
  /** The files the loader reads; the folder's other files (README.md, *.bin, onnx/...) are left out. */
  readonly files: readonly LocalModelFile[];
}

/** Files of a Hugging Face folder that the runtime reads (besides *.safetensors). */
const FOLDER_FILES = new Set([
  'config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json',
  'chat_template.jinja', 'chat_template.json', 'model.safetensors.index.json',
]);

/**
 * Picks the model out of what the user picked: a folder's top-level files (from
 * `<input webkitdirectory>` the paths start with the folder's name), loose files dropped together,
 * or one `.gguf` file. A folder with config.json is a Hugging Face folder; without it, one `.gguf`
 * file in it is the model. Throws GptError 'file-missing' naming what is missing, 'unsupported-model'
 * for several GGUF files or one part of a split GGUF.
 */
export function pickLocalModel(picked: readonly PickedFile[]): LocalModel {
  if (picked.length === 0) throw new GptError('file-missing', 'No files were chosen. HINT: choose a model folder (config.json, tokenizer.json, *.safetensors) or one .gguf file.');
  const parts = picked.map((p) => p.path.split(/[\\/]/).filter(Boolean));
  // A folder: every path starts with the same first segment and has more after it.
  const first = parts[0]![0]!;
  const inFolder = parts.every((s) => s.length > 1 && s[0] === first);
  const top = picked.flatMap((p, i) => {
    const rest = inFolder ? parts[i]!.slice(1) : parts[i]!.slice(-1);
    return rest.length === 1 ? [{ name: rest[0]!, blob: p.blob }] : []; // subfolders (onnx/, original/) are not read
  });
  const ggufs = top.filter((f) => /\.gguf$/i.test(f.name));
  const config = top.find((f) => f.name === 'config.json');
  const name = inFolder ? first : config || ggufs.length !== 1 ? 'local-model' : ggufs[0]!.name;
  if (config) {
    const files = top.filter((f) => FOLDER_FILES.has(f.name) || /\.safetensors$/i.test(f.name));
    if (!files.some((f) => /\.safetensors$/i.test(f.name))) {
      throw new GptError('file-missing', `${name}/ has config.json but no .safetensors weights (found ${listing(top)}). HINT: choose the folder the model was saved to, with model.safetensors (or its shards and model.safetensors.index.json).`);
    }
    return { name, files };
  }
  if (ggufs.length === 1) {
    ggufFileName(ggufs[0]!.name); // refuses one part of a split GGUF, with the hint to merge it
    return { name: ggufs[0]!.name, ggufFile: ggufs[0]!.name, files: ggufs };
  }
  if (ggufs.length > 1) {
    throw new GptError('unsupported-model', `${name}/ holds ${ggufs.length} GGUF files (${listing(ggufs)}); a model is one of them. HINT: choose the one .gguf file to load.`);
  }
  throw new GptError(
    'file-missing',
    `${name}${inFolder ? '/' : ''} has no config.json (found ${listing(top)}), so it is not a Hugging Face model folder, and no .gguf file. ` +
      'HINT: choose the folder holding config.json, tokenizer.json and the *.safetensors weights, or one .gguf file.',
  );
}

function listing(files: readonly { name: string }[]): string {
  if (files.length === 0) return 'no files';
  const names = files.map((f) => f.name);
  return names.length > 8 ? `${names.slice(0, 8).join(', ')} and ${names.length - 8} more` : names.join(', ');
}

/** 4 MiB reads: few enough for a large checkpoint, small next to one tensor. */
const READ_BYTES = 4 << 20;

/**
 * {@link ModelFiles} over a local model's Blobs, read in slices so a large file is never whole in
 * memory. `location` names the model in errors ("SmolLM2-135M/"). A file that cannot be read (moved
 * or changed on disk since it was chosen) is GptError 'file-missing' naming it.
 */
export function localModelFiles(model: LocalModel, location = model.ggufFile ? model.name : `${model.name}/`): ModelFiles {
  const find = (name: string): Blob => {
    const f = model.files.find((x) => x.name === name);
    if (!f) throw new GptError('file-missing', `${where(name)} is not among the chosen files. HINT: choose the whole model folder.`);
    return f.blob;
  };
  const where = (name: string) => (model.ggufFile ? location : `${location}${name}`);
  const unreadable = (name: string, e: unknown) =>
    new GptError('file-missing', `Cannot read ${where(name)} (${e instanceof Error ? e.message : String(e)}). HINT: the file was moved or changed after it was chosen; choose it again.`);
  async function* chunks(name: string, blob: Blob, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < blob.size; at += READ_BYTES) {
      if (signal?.aborted) throw new GptError('aborted', `Reading ${where(name)} was aborted.`);
      let bytes: ArrayBuffer;
      try {
        bytes = await blob.slice(at, Math.min(blob.size, at + READ_BYTES)).arrayBuffer();
      } catch (e) {
        throw unreadable(name, e);
      }
      yield new Uint8Array(bytes);
    }
  }
  return {
    location,
    ...(model.ggufFile ? { ggufFile: model.ggufFile } : {}),
    async has(name) {
      return model.files.some((f) => f.name === name);
    },
    async text(name) {
      const blob = find(name);
      try {
        return await blob.text();
      } catch (e) {
        throw unreadable(name, e);
      }
    },
    async open(name, signal): Promise<FileStream> {
      const blob = find(name);
      return { size: blob.size, chunks: chunks(name, blob, signal) };
    },
  };
}
