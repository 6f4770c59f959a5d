import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown, safeHref, type Inline } from '../../src/element/markdown.ts';

/** The plain text of an inline tree (what a reader would see). */
const textOf = (nodes: readonly Inline[]): string =>
  nodes.map((n) => (n.kind === 'text' || n.kind === 'code' ? n.text : n.kind === 'break' ? '\n' : textOf(n.children))).join('');

describe('parseMarkdown', () => {
  it('splits paragraphs on blank lines and keeps single newlines as breaks', () => {
    const blocks = parseMarkdown('Hello there.\nSecond line.\n\nNew paragraph.');
    expect(blocks.map((b) => b.kind)).toEqual(['paragraph', 'paragraph']);
    const first = blocks[0]!;
    expect(first.kind === 'paragraph' && first.children.map((c) => c.kind)).toEqual(['text', 'break', 'text']);
  });

  it('parses bullet and numbered lists, with continuation lines', () => {
    const blocks = parseMarkdown('Steps:\n1. one\n2. two\n   more\n\n- a\n* b');
    expect(blocks.map((b) => b.kind)).toEqual(['paragraph', 'list', 'list']);
    const ol = blocks[1]!;
    expect(ol.kind === 'list' && ol.ordered).toBe(true);
    expect(ol.kind === 'list' && ol.items.map(textOf)).toEqual(['one', 'two\nmore']);
    const ul = blocks[2]!;
    expect(ul.kind === 'list' && !ul.ordered && ul.items.length).toBe(2);
  });

  it('keeps numbered lists starting at their first number', () => {
    const [list] = parseMarkdown('3. three\n4. four');
    expect(list?.kind === 'list' && list.start).toBe(3);
  });

  it('reads fenced code verbatim, markdown and HTML included, and marks an unclosed fence', () => {
    const blocks = parseMarkdown('```js\nconst a = `<b>**x**</b>`;\n```\nafter');
    expect(blocks[0]).toEqual({ kind: 'code', lang: 'js', text: 'const a = `<b>**x**</b>`;', closed: true });
    expect(blocks[1]?.kind).toBe('paragraph');
    const streaming = parseMarkdown('text\n```py\nprint(1)');
    expect(streaming[1]).toEqual({ kind: 'code', lang: 'py', text: 'print(1)', closed: false });
  });

  it('shows headings as their own block', () => {
    const [h, p] = parseMarkdown('## Title ##\nbody');
    expect(h?.kind === 'heading' && textOf(h.children)).toBe('Title');
    expect(p?.kind).toBe('paragraph');
  });
});

describe('parseInline', () => {
  it('parses code, strong, emphasis and nesting', () => {
    const nodes = parseInline('a `x*y*` **bold _and em_** *it* _u_ snake_case_name');
    expect(nodes.map((n) => n.kind)).toEqual(['text', 'code', 'text', 'strong', 'text', 'em', 'text', 'em', 'text']);
    expect(nodes[1]).toEqual({ kind: 'code', text: 'x*y*' });
    const strong = nodes[3]!;
    expect(strong.kind === 'strong' && strong.children.map((c) => c.kind)).toEqual(['text', 'em']);
    expect(textOf(nodes.slice(-1))).toBe(' snake_case_name'); // intraword underscores are text
  });

  it('links only absolute http(s) URLs', () => {
    expect(parseInline('[wiki](https://en.wikipedia.org/wiki/Foo_(bar))')[0]).toMatchObject({ kind: 'link', href: 'https://en.wikipedia.org/wiki/Foo_(bar)' });
    const [link] = parseInline('[site](https://example.com/a?b=1)');
    expect(link).toEqual({ kind: 'link', href: 'https://example.com/a?b=1', children: [{ kind: 'text', text: 'site' }] });
    for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>alert(1)</script>', '//evil.example/x', '/relative', 'vbscript:x']) {
      const nodes = parseInline(`[click](${bad})`);
      expect(nodes.some((n) => n.kind === 'link'), bad).toBe(false);
      expect(textOf(nodes).startsWith(bad.startsWith('data:') ? '[click]' : 'click'), bad).toBe(true);
    }
  });

  it('turns images into their alt text, never a fetch', () => {
    const nodes = parseInline('see ![a cat](https://evil.example/track.png) here');
    expect(nodes).toEqual([{ kind: 'text', text: 'see a cat here' }]);
  });

  it('keeps HTML as text', () => {
    const nodes = parseInline('<img src=x onerror=alert(1)><script>alert(1)</script>');
    expect(nodes).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)><script>alert(1)</script>' }]);
  });

  it('leaves unmatched markers as text (a reply still streaming)', () => {
    expect(textOf(parseInline('**bold not closed'))).toBe('**bold not closed');
    expect(textOf(parseInline('[link](https://exa'))).toBe('[link](https://exa');
    expect(parseInline('`open code').map((n) => n.kind)).toEqual(['text']);
  });
});

describe('safeHref', () => {
  it('accepts http and https, normalised', () => {
    expect(safeHref('HTTPS://Example.com')).toBe('https://example.com/');
    expect(safeHref('http://x.test/p')).toBe('http://x.test/p');
  });
  it('refuses every other scheme and relative URLs', () => {
    for (const bad of ['javascript:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)', 'mailto:a@b', 'file:///etc/passwd', 'ftp://x', '', '#top']) {
      expect(safeHref(bad), bad).toBeUndefined();
    }
  });
});

describe('robustness', () => {
  it('parses any prefix of a reply without throwing (streaming)', () => {
    const reply = 'Here:\n\n1. **Install** `npm i`\n2. Add [docs](https://x.test)\n\n```html\n<gpt-chat></gpt-chat>\n```\nDone _now_.';
    for (let i = 0; i <= reply.length; i++) expect(() => parseMarkdown(reply.slice(0, i))).not.toThrow();
  });
});

describe('tables', () => {
  it('parses a GitHub-style table with alignment, inline markup and escaped pipes', () => {
    const blocks = parseMarkdown('Sizes:\n\n| model | size | note |\n|:---|---:|:-:|\n| **SmolLM2** | 270 MB | a \\| b |\n| gpt2 | 550 MB |\n\nafter');
    expect(blocks.map((b) => b.kind)).toEqual(['paragraph', 'table', 'paragraph']);
    const t = blocks[1] as Extract<(typeof blocks)[number], { kind: 'table' }>;
    expect(t.align).toEqual(['left', 'right', 'center']);
    expect(t.header.map(textOf)).toEqual(['model', 'size', 'note']);
    expect(t.rows.map((r) => r.map(textOf))).toEqual([
      ['SmolLM2', '270 MB', 'a | b'],
      ['gpt2', '550 MB', ''], // a short row is padded to the header's columns
    ]);
    expect(t.rows[0]![0]![0]!.kind).toBe('strong');
  });

  it('keeps a line with pipes but no rule under it a paragraph, and HTML in cells text', () => {
    expect(parseMarkdown('a | b\nc | d').map((b) => b.kind)).toEqual(['paragraph']);
    const t = parseMarkdown('| x |\n|---|\n| <img src=x onerror=alert(1)> |')[0] as Extract<ReturnType<typeof parseMarkdown>[number], { kind: 'table' }>;
    expect(textOf(t.rows[0]![0]!)).toBe('<img src=x onerror=alert(1)>');
  });
});
