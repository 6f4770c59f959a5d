/**
 * Read access to the files of one model folder (Hugging Face layout), wherever they live: a local
 * directory (Node), an HTTP(S) URL (browser, Node), or the IndexedDB cache. The loader only ever
 * talks to this interface.
 */
export interface ModelFiles {
  /** Where the folder lives, for error messages ("https://.../SmolLM2-135M/" or "/path/to/dir"). */
  readonly location: string;
  /**
   * Set when the model is one GGUF file rather than a folder: its name, the one file `open` serves
   * (see formats/model-location.ts). Absent for a Hugging Face folder.
   */
  readonly ggufFile?: string;
  /** True when the file exists. */
  has(name: string): Promise<boolean>;
  /** A whole text file (config.json, tokenizer.json ...). Throws GptError 'file-missing'. */
  text(name: string): Promise<string>;
  /**
   * A binary file as a stream of chunks, in order, so large weights are never held whole in
   * memory. Throws GptError 'file-missing'.
   */
  open(name: string, signal?: AbortSignal): Promise<FileStream>;
  /**
   * Resolves once every chunk `open` handed out so far has passed the source's own check of its
   * bytes; rejects with the GptError of the first that failed ('integrity'). A source that checks
   * its bytes before handing them out, or has nothing to check, leaves it out. The loader awaits it
   * before a model can run, and before an error in the bytes is blamed on the file.
   */
  verified?(): Promise<void>;
}

export interface FileStream {
  /** Total size in bytes. */
  readonly size: number;
  /** The file's bytes, in order, in chunks of any size. */
  readonly chunks: AsyncIterable<Uint8Array>;
}

/** Progress of a load: bytes of weight files read so far out of the total. */
export interface LoadProgress {
  readonly file: string;
  readonly loaded: number;
  readonly total: number;
}
