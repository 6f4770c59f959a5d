/**
 * "Use files from this computer" in <gpt-chat>: a model folder through `<input type=file
 * webkitdirectory>` or `showDirectoryPicker` (File System Access API) where present, one .gguf
 * through a plain file input, or either dropped on the element. The files go to the engine as they
 * are (ModelSpec.files); the worker checks and stores them (engine/load-local.ts). Also the other
 * way: a stored model exported back to files.
 */
import { css, html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { exportCachedModel, LOCAL_SCHEME } from '../engine/cache-admin.ts';
import type { ModelSpec, PickedFile } from '../engine/engine.ts';
import { filesOfDirectory } from '../engine/local-files.ts';
import { modelName } from './chat-header.ts';

type Host = ReactiveControllerHost & HTMLElement;

/** `showDirectoryPicker` where the browser has it (Chromium), in the shape we call it. */
type DirectoryPicker = (options?: { mode?: 'read' | 'readwrite'; id?: string }) => Promise<FileSystemDirectoryHandle>;
const directoryPicker = (): DirectoryPicker | undefined => (globalThis as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker;

/**
 * The files a drop carries. A dropped folder is walked (its top-level files, as a webkitdirectory
 * input gives them); loose files are taken as they are. The DataTransfer is read before the first
 * await: its items are gone once the drop event's handlers return.
 */
export function droppedFiles(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = [...dt.items].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry?.() ?? null);
  const loose = [...dt.files].map((f) => ({ path: f.name, blob: f }));
  const folder = entries.find((e): e is FileSystemDirectoryEntry => e?.isDirectory === true);
  return folder ? filesOfEntry(folder) : Promise.resolve(loose);
}

async function filesOfEntry(dir: FileSystemDirectoryEntry): Promise<PickedFile[]> {
  const reader = dir.createReader();
  const out: PickedFile[] = [];
  // readEntries gives at most 100 entries a call, and an empty batch at the end.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    for (const e of batch) {
      if (!e.isFile) continue;
      const file = await new Promise<File>((resolve, reject) => (e as FileSystemFileEntry).file(resolve, reject));
      out.push({ path: `${dir.name}/${file.name}`, blob: file });
    }
  }
}

/** The files of the current local load and the drag state, for one element. */
export class LocalFiles implements ReactiveController {
  /** The files of the model loaded from this computer, while it is the element's model. */
  files: readonly PickedFile[] | undefined;
  keep = true;
  /** The name of this load (engine/local-files.ts localSpec), shown in the header. */
  url: string | undefined;

  constructor(
    private readonly host: Host,
    private readonly load: (files: readonly PickedFile[]) => void,
  ) {
    host.addController(this);
  }

  /** Makes `files` the element's model (`url` names the load until the worker gives its `local:` id). */
  use(spec: ModelSpec): void {
    this.files = spec.files;
    this.keep = spec.keep !== false;
    this.url = spec.url;
  }

  /** Back to the `model` attribute. */
  forget(): void {
    this.files = undefined;
    this.url = undefined;
  }

  /** What the load adds to the spec. */
  get spec(): Pick<ModelSpec, 'files' | 'keep'> | undefined {
    return this.files ? { files: this.files, keep: this.keep } : undefined;
  }

  hostConnected(): void {
    this.host.addEventListener('dragover', this.#onDragOver);
    this.host.addEventListener('dragleave', this.#onDragLeave);
    this.host.addEventListener('drop', this.#onDrop);
  }

  hostDisconnected(): void {
    this.host.removeEventListener('dragover', this.#onDragOver);
    this.host.removeEventListener('dragleave', this.#onDragLeave);
    this.host.removeEventListener('drop', this.#onDrop);
  }

  #onDragOver = (e: DragEvent): void => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault(); // accept the drop
    e.dataTransfer.dropEffect = 'copy';
    this.host.toggleAttribute('dragging', true);
  };

  #onDragLeave = (e: DragEvent): void => {
    if (!this.host.contains(e.relatedTarget as Node | null)) this.host.toggleAttribute('dragging', false);
  };

  #onDrop = (e: DragEvent): void => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault(); // the browser would open the file
    this.host.toggleAttribute('dragging', false);
    void droppedFiles(e.dataTransfer).then((files) => files.length > 0 && this.load(files));
  };

  #onInput = (e: Event): void => {
    const input = e.currentTarget as HTMLInputElement;
    const files = [...(input.files ?? [])].map((f) => ({ path: f.webkitRelativePath || f.name, blob: f }));
    input.value = ''; // choosing the same folder again is a change too
    if (files.length > 0) this.load(files);
  };

  /** The folder button: the File System Access picker where present, else the webkitdirectory input. */
  #chooseFolder = async (e: Event): Promise<void> => {
    const pick = directoryPicker();
    if (!pick) {
      (e.currentTarget as HTMLElement).parentElement?.querySelector<HTMLInputElement>('input[webkitdirectory]')?.click();
      return;
    }
    try {
      this.load(await filesOfDirectory(await pick({ id: 'gpt-chat-model' })));
    } catch {
      // the user closed the picker
    }
  };

  /** The "Use files from this computer" disclosure. */
  render(): TemplateResult {
    return html`<details part="local-files" class="local-files">
      <summary>Use files from this computer</summary>
      <div class="local-files-body">
        <button type="button" part="folder-button" @click=${this.#chooseFolder}>Choose a model folder…</button>
        <input type="file" webkitdirectory part="folder-input" class="visually-hidden" aria-label="Model folder" tabindex="-1" @change=${this.#onInput} />
        <label part="gguf-button" class="file-button">Choose a .gguf file…<input type="file" accept=".gguf" part="gguf-input" class="visually-hidden" @change=${this.#onInput} /></label>
        <span class="hint">or drop either on the chat. Nothing is uploaded: the model runs and is stored on this device.</span>
      </div>
    </details>`;
  }
}

export const localFilesStyles = css`
  :host([dragging]) .base { outline: 2px dashed var(--_accent); outline-offset: -4px; }
  .local-files { padding: 0 var(--_gap) 0.4rem; font-size: 0.85em; color: var(--_muted); }
  .local-files summary { cursor: pointer; width: fit-content; }
  .local-files-body { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; padding-top: 0.4rem; }
  .file-button { font-size: 0.9em; padding: 0.45rem 0.8rem; border: 1px solid var(--_border); border-radius: calc(var(--_radius) - 2px); cursor: pointer; color: var(--_fg); }
  .file-button:focus-within, .local-files summary:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
`;

/** Where {@link exportModel} puts the files: a folder handle, browser downloads, or nowhere (only returned). */
export type ExportTarget = FileSystemDirectoryHandle | 'download' | 'none';

/**
 * The stored model `url` as files, byte for byte as stored, saved to `to`: by default into a
 * folder the user picks (showDirectoryPicker, where present), else as downloads (one per file,
 * through blob: URLs). A folder model goes into a subfolder named after it. Resolves with the Files.
 */
export async function exportModel(url: string, to?: ExportTarget): Promise<File[]> {
  // The picker needs the click that called us: ask before any await.
  const pick = to === undefined ? directoryPicker() : undefined;
  const target = pick ? await pick({ mode: 'readwrite', id: 'gpt-chat-export' }) : (to ?? 'download');
  const files = await exportCachedModel(url);
  const name = modelName(url);
  const gguf = files.length === 1 && /\.gguf$/i.test(files[0]!.name);
  if (target === 'download') {
    for (const f of files) {
      const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(f), download: gguf ? f.name : `${name}-${f.name}` });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000); // the download has read it by then
    }
  } else if (target !== 'none') {
    const dir = gguf ? target : await target.getDirectoryHandle(name.startsWith(LOCAL_SCHEME) ? 'model' : name, { create: true });
    for (const f of files) {
      const writable = await (await dir.getFileHandle(f.name, { create: true })).createWritable();
      await writable.write(f);
      await writable.close();
    }
  }
  return files;
}
