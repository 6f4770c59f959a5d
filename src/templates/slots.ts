/**
 * `{{name}}` slots: finding them and filling them. One syntax for the instruction, the pattern and
 * the answer line. There is no escape for a literal "{{name}}": no task we know needs one, and
 * without it the grammar stays one regular expression (braces that are not a slot, like "{x}" or
 * "{{ 1 }}", are plain text).
 */

/** A slot: `{{` name `}}`, spaces inside allowed (`{{ text }}`). */
const SLOT = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** What a field name may be: an identifier, so slots can be found without ambiguity. */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The slot names used in `text`, in order of appearance (repeats kept). */
export function slotNames(text: string): string[] {
  return [...text.matchAll(SLOT)].map((m) => m[1]!);
}

/**
 * `text` with every slot replaced by `values[name]`. A slot without a value throws
 * (validation makes that impossible for a valid template and complete fields).
 */
export function fillSlots(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(SLOT, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for {{${name}}}`);
    return v;
  });
}

/** The name of the label slot n (1-based) of an instruction. */
export function labelSlot(n: number): string {
  return `label${n}`;
}

/** True for `label1`, `label2` ...: reserved in instructions, not usable as field names. */
export function isLabelSlot(name: string): boolean {
  return /^label[1-9][0-9]*$/.test(name);
}
