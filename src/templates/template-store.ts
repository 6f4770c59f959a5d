/**
 * Saved templates in IndexedDB through idb-keyval, in a database of our own
 * (`gpt-chat-templates`; idb-keyval cannot add a store to another library's database). Every
 * template is validated on the way in and on the way out: a stored record from an older version
 * or edited by hand is skipped, never shown half-valid.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import { GptError } from '../errors.ts';
import type { FewShotTemplate } from './schema.ts';
import { validateTemplate } from './validate.ts';

/** The storage seam: the editor and the chat take one as a default parameter, tests pass their own. */
export interface TemplateStore {
  /** Every valid saved template, sorted by name. */
  list(): Promise<FewShotTemplate[]>;
  /** The saved template `id`, or undefined (also when what is stored is no longer valid). */
  get(id: string): Promise<FewShotTemplate | undefined>;
  /** Saves (or replaces) `template` under its id, after validating it. */
  save(template: FewShotTemplate): Promise<void>;
  remove(id: string): Promise<void>;
}

function valid(value: unknown): FewShotTemplate | undefined {
  try {
    return validateTemplate(value);
  } catch {
    return undefined;
  }
}

const byName = (a: FewShotTemplate, b: FewShotTemplate) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id);

/** The IndexedDB store (database `gpt-chat-templates`, object store `templates`). */
export function idbTemplateStore(dbName = 'gpt-chat-templates', storeName = 'templates'): TemplateStore {
  let use: UseStore | undefined;
  // Opened on first use: a page that never saves a template never creates the database.
  const store = () => (use ??= createStore(dbName, storeName));
  return {
    list: async () => (await entries(store())).map(([, v]) => valid(v)).filter((t): t is FewShotTemplate => !!t).sort(byName),
    get: async (id) => valid(await get(id, store())),
    save: async (template) => {
      const t = validateTemplate(template);
      try {
        await set(t.id, JSON.parse(JSON.stringify(t)), store());
      } catch (e) {
        throw new GptError('quota', `The template "${t.id}" could not be saved on this device (${e instanceof Error ? e.message : String(e)}). HINT: export it as a JSON file instead.`);
      }
    },
    remove: (id) => del(id, store()),
  };
}

/** A store in memory (tests, and pages where IndexedDB is unavailable). */
export function memoryTemplateStore(): TemplateStore {
  const map = new Map<string, unknown>();
  return {
    list: async () => [...map.values()].map(valid).filter((t): t is FewShotTemplate => !!t).sort(byName),
    get: async (id) => valid(map.get(id)),
    save: async (template) => void map.set(template.id, JSON.parse(JSON.stringify(validateTemplate(template)))),
    remove: async (id) => void map.delete(id),
  };
}
