/**
 * A small, safe markdown renderer for model output: paragraphs, lists, headings (shown as bold
 * lines), fenced code blocks (with a Copy button), tables (GitHub style), inline code, emphasis and
 * http(s) links. Text becomes text nodes
 * through lit bindings and nothing else: there is no HTML pass-through, image syntax shows its alt
 * text (no remote fetch), and a link whose URL is not absolute http(s) is plain text.
 *
 * The element re-renders from the whole text on every token, so a tag or a link split across
 * tokens is parsed whole each time; lit's diff keeps the DOM updates small.
 *
 * `parseMarkdown` is pure (tested in Node); `renderMarkdown` turns its tree into lit templates.
 */
import { html, nothing, type TemplateResult } from 'lit';

export type Inline =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'code'; readonly text: string }
  | { readonly kind: 'strong' | 'em'; readonly children: readonly Inline[] }
  | { readonly kind: 'link'; readonly href: string; readonly children: readonly Inline[] }
  | { readonly kind: 'break' };

export type Block =
  | { readonly kind: 'paragraph'; readonly children: readonly Inline[] }
  | { readonly kind: 'heading'; readonly children: readonly Inline[] }
  | { readonly kind: 'list'; readonly ordered: boolean; readonly start: number; readonly items: readonly (readonly Inline[])[] }
  /** `closed` is false while a fence is still streaming in. */
  | { readonly kind: 'code'; readonly lang: string; readonly text: string; readonly closed: boolean }
  /** A GitHub-style table: a header row, a `---` line (colons set the alignment), body rows. */
  | { readonly kind: 'table'; readonly align: readonly Align[]; readonly header: readonly (readonly Inline[])[]; readonly rows: readonly (readonly (readonly Inline[])[])[] };

export type Align = 'left' | 'center' | 'right' | null;

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*).*$/;
const LIST_ITEM = /^ {0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;
const HEADING = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** The cells of a table row: split on pipes that are not escaped, outer pipes dropped. */
function tableCells(line: string): string[] {
  const cells = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/);
  return cells.map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** The alignment of each column from the `---` line. */
function tableAlign(rule: string): Align[] {
  return tableCells(rule).map((c) => (c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : c.startsWith(':') ? 'left' : null));
}

/** The blocks of `text`. Never throws; any input gives some tree. */
export function parseMarkdown(text: string): Block[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let list: { ordered: boolean; start: number; items: string[] } | undefined;

  const flush = () => {
    if (paragraph.length) blocks.push({ kind: 'paragraph', children: parseInline(paragraph.join('\n')) });
    paragraph = [];
    if (list) blocks.push({ kind: 'list', ordered: list.ordered, start: list.start, items: list.items.map(parseInline) });
    list = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const marker = fence[1]!;
      const body: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        const end = lines[i]!.trim();
        if (end[0] === marker[0] && end.length >= marker.length && /^(`+|~+)$/.test(end)) {
          closed = true;
          break;
        }
        body.push(lines[i]!);
      }
      blocks.push({ kind: 'code', lang: fence[2] ?? '', text: body.join('\n'), closed });
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    // A table: a row with pipes, then a rule with as many columns; rows run to a line without a pipe.
    const next = lines[i + 1];
    if (line.includes('|') && next !== undefined && next.includes('-') && TABLE_RULE.test(next) && (next.includes('|') || tableCells(line).length === 1)) {
      const header = tableCells(line);
      const align = tableAlign(next);
      if (align.length === header.length) {
        flush();
        const rows: Inline[][][] = [];
        for (i += 2; i < lines.length && lines[i]!.includes('|') && lines[i]!.trim() !== ''; i++) {
          const cells = tableCells(lines[i]!);
          rows.push(header.map((_, j) => parseInline(cells[j] ?? '')));
        }
        i--;
        blocks.push({ kind: 'table', align, header: header.map(parseInline), rows });
        continue;
      }
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      blocks.push({ kind: 'heading', children: parseInline(heading[1]!) });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1]![0]!);
      if (paragraph.length || (list && list.ordered !== ordered)) flush();
      list ??= { ordered, start: ordered ? parseInt(item[1]!, 10) : 1, items: [] };
      list.items.push(item[2]!);
      continue;
    }
    // An indented line continues the last list item; anything else ends the list.
    if (list && /^\s+/.test(line)) {
      list.items[list.items.length - 1] += '\n' + line.trim();
      continue;
    }
    if (list) flush();
    paragraph.push(line);
  }
  flush();
  return blocks;
}

// One alternative per inline construct; the earliest match wins, its inside is parsed again.
const INLINE =
  /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|!\[([^\]\n]*)\]\(([^)\n]*)\)|\[([^\]\n]+)\]\(\s*<?((?:[^()\s<>]|\([^()\s<>]*\))+)>?\s*\)|\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__(?!\w)|\*(?=[^\s*])([\s\S]*?[^\s*])\*|(?<!\w)_(?=[^\s_])([\s\S]*?[^\s_])_(?!\w)|\n/;

/** The inline pieces of one block's text. */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  const pushText = (t: string) => {
    if (!t) return;
    const last = out[out.length - 1];
    if (last?.kind === 'text') out[out.length - 1] = { kind: 'text', text: last.text + t };
    else out.push({ kind: 'text', text: t });
  };
  let rest = text;
  for (;;) {
    const m = INLINE.exec(rest);
    if (!m) break;
    pushText(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
    if (m[0] === '\n') out.push({ kind: 'break' });
    else if (m[1] !== undefined) out.push({ kind: 'code', text: m[2]!.replace(/^ (.*) $/, '$1') });
    else if (m[3] !== undefined) pushText(m[3]); // an image: its alt text only, nothing is fetched
    else if (m[5] !== undefined) {
      const href = safeHref(m[6]!);
      const children = parseInline(m[5]);
      if (href) out.push({ kind: 'link', href, children });
      else for (const c of children) c.kind === 'text' ? pushText(c.text) : out.push(c);
    } else if (m[7] !== undefined || m[8] !== undefined) out.push({ kind: 'strong', children: parseInline((m[7] ?? m[8])!) });
    else out.push({ kind: 'em', children: parseInline((m[9] ?? m[10])!) });
  }
  pushText(rest);
  return out;
}

/**
 * `raw` as a link target when it is an absolute http(s) URL, else undefined. `javascript:`,
 * `data:`, relative and protocol-relative URLs are refused: model text must not navigate the page
 * to script or to the page's own endpoints.
 */
export function safeHref(raw: string): string | undefined {
  if (!/^https?:\/\//i.test(raw)) return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function renderInline(nodes: readonly Inline[]): unknown[] {
  return nodes.map((n) => {
    switch (n.kind) {
      case 'text':
        return n.text;
      case 'break':
        return html`<br />`;
      case 'code':
        return html`<code part="inline-code">${n.text}</code>`;
      case 'strong':
        return html`<strong>${renderInline(n.children)}</strong>`;
      case 'em':
        return html`<em>${renderInline(n.children)}</em>`;
      case 'link':
        return html`<a href=${n.href} target="_blank" rel="noopener noreferrer nofollow" part="link">${renderInline(n.children)}</a>`;
    }
  });
}

function renderBlock(b: Block): TemplateResult {
  switch (b.kind) {
    case 'paragraph':
      return html`<p>${renderInline(b.children)}</p>`;
    case 'heading':
      return html`<p class="heading"><strong>${renderInline(b.children)}</strong></p>`;
    case 'list':
      return b.ordered
        ? html`<ol start=${b.start === 1 ? nothing : b.start}>${b.items.map((i) => html`<li>${renderInline(i)}</li>`)}</ol>`
        : html`<ul>${b.items.map((i) => html`<li>${renderInline(i)}</li>`)}</ul>`;
    case 'code':
      // The element copies the <pre>'s text when the button is clicked (one listener on the log).
      return html`<div class="code-block"><pre part="code-block" data-lang=${b.lang || nothing}><code>${b.text}</code></pre>${
        b.closed ? html`<button type="button" part="copy-code-button" class="small copy-code" aria-label="Copy code">Copy</button>` : nothing
      }</div>`;
    case 'table': {
      const cell = (tag: 'th' | 'td', children: readonly Inline[], j: number) => {
        const align = b.align[j] ? `text-align: ${b.align[j]}` : nothing;
        return tag === 'th' ? html`<th scope="col" style=${align}>${renderInline(children)}</th>` : html`<td style=${align}>${renderInline(children)}</td>`;
      };
      return html`<div class="table-box"><table part="table">
        <thead><tr>${b.header.map((h, j) => cell('th', h, j))}</tr></thead>
        <tbody>${b.rows.map((r) => html`<tr>${r.map((c, j) => cell('td', c, j))}</tr>`)}</tbody>
      </table></div>`;
    }
  }
}

/** Lit templates for `text` rendered as safe markdown. */
export function renderMarkdown(text: string): TemplateResult[] {
  return parseMarkdown(text).map(renderBlock);
}
