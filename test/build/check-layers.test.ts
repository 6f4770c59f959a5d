import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs tool without type declarations
import { checkLayers, importsOf, readSources } from '../../tools/check-layers.mjs';

const src = join(import.meta.dirname, '../../src');

describe('tools/check-layers.mjs', () => {
  it('finds no import that climbs the layers in src/ as it is', () => {
    expect(checkLayers(readSources(src))).toEqual([]);
  });

  it('fails on a planted backward import: the runtime importing the element', () => {
    const files = readSources(src);
    files['runtime/planted.ts'] = "import type { GptChat } from '../element/gpt-chat.ts';\nexport type X = GptChat;\n";
    const problems: string[] = checkLayers(files);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/src\/runtime\/planted\.ts imports \.\.\/element\/gpt-chat\.ts: runtime\/ may import only formats, errors\.ts, not element/);
  });

  it('fails on a parser importing the runtime, the element importing the runtime, and src importing test', () => {
    const problems: string[] = checkLayers({
      'formats/a.ts': "export { x } from '../runtime/model/config.ts';",
      'element/b.ts': "const m = await import('../runtime/index.ts');",
      'cache/c.ts': "import '../../test/helpers/parity-cases.ts';",
    });
    expect(problems.map((p) => p.split(' imports')[0])).toEqual(['src/formats/a.ts', 'src/element/b.ts', 'src/cache/c.ts']);
  });

  it('fails on a package a layer must not use (lit in the runtime) and on a folder not in the table', () => {
    const problems: string[] = checkLayers({ 'runtime/d.ts': "import { html } from 'lit';", 'newpart/e.ts': '' });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/the package lit/);
    expect(problems[1]).toMatch(/src\/newpart is not in the layering/);
  });

  it('ignores imports in comments and reads multi-line and type-only imports', () => {
    expect(importsOf("// import { a } from '../x.ts'\n/* import '../y.ts' */\nimport {\n  a,\n  type B,\n} from '../z.ts';\nimport type { C } from './c.ts';")).toEqual(['../z.ts', './c.ts']);
  });
});
