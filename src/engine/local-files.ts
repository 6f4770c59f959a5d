/**
 * The files of a "load from this computer" as the engine takes them: whatever the page has (the
 * FileList of `<input type=file webkitdirectory>`, Files of a drop, a FileSystemDirectoryHandle
 * from `showDirectoryPicker`) turned into paths and Blobs, and the {@link ModelSpec} of their load.
 * Which of them make the model is decided in the worker (formats/local-files.ts pickLocalModel), so
 * a folder without config.json fails like any load, with the element showing the error.
 */
import { pickLocalModel, type PickedFile } from '../formats/local-files.ts';
import { LOCAL_SCHEME } from '../formats/model-location.ts';
import type { LocalFilesInput, LocalLoadOptions, ModelSpec } from './engine.ts';

/** The entries of a directory handle (the async iterator of lib.dom.asynciterable, not in our lib). */
type DirectoryEntries = { entries(): AsyncIterable<[string, FileSystemHandle]> };

function isDirectoryHandle(input: LocalFilesInput): input is FileSystemDirectoryHandle {
  return typeof (input as Partial<FileSystemDirectoryHandle>).getFileHandle === 'function';
}

/**
 * The top-level files of a folder handle, named "<folder>/<file>" like a webkitdirectory input
 * names them. Subfolders are not walked: the model's files are at the top (a Hugging Face repo's
 * onnx/ or original/ are not read).
 */
export async function filesOfDirectory(dir: FileSystemDirectoryHandle): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  for await (const [name, handle] of (dir as unknown as DirectoryEntries).entries()) {
    if (handle.kind === 'file') out.push({ path: `${dir.name}/${name}`, blob: await (handle as FileSystemFileHandle).getFile() });
  }
  return out;
}

/** Paths and Blobs of `input`: a File's path inside a chosen folder (webkitRelativePath) or its name. */
export async function pickedFiles(input: LocalFilesInput): Promise<PickedFile[]> {
  if (isDirectoryHandle(input)) return filesOfDirectory(input);
  return Array.from(input as ArrayLike<File | PickedFile>, (f) => ('blob' in f ? f : { path: f.webkitRelativePath || f.name, blob: f }));
}

let loads = 0;

/**
 * The spec of a load of `files`. Its `url` names this load only (`local:load-<n>/<name>/`): the
 * model's lasting `local:` id comes from its contents, in the worker, and returns as ModelInfo.url.
 */
export function localSpec(files: readonly PickedFile[], options: LocalLoadOptions = {}): ModelSpec {
  let name = 'local-model';
  let gguf = false;
  try {
    const model = pickLocalModel(files);
    name = model.name;
    gguf = model.ggufFile !== undefined;
  } catch {
    // The worker's load gives the error, through the same path as every load error.
  }
  const url = `${LOCAL_SCHEME}load-${++loads}-${Date.now().toString(36)}/${encodeURIComponent(name)}${gguf ? '' : '/'}`;
  return { ...options, url, files };
}

/** True for a spec whose url names a load of files (not a stored `local:` id). */
export function isFilesLoadUrl(url: string): boolean {
  return url.startsWith(`${LOCAL_SCHEME}load-`);
}
