import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';
import { buildReport } from './tools/build-report.mjs';
import { watPlugin } from './tools/wat-plugin.mjs';
import { wgslPlugin } from './tools/wgsl-plugin.mjs';

const plugins = (browser) => [
  wgslPlugin(),
  watPlugin(),
  nodeResolve({ browser, exportConditions: browser ? ['browser'] : ['node'] }),
  esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' }),
];

/**
 * Paths that differ between the source tree and dist/: in src/ the worker is worker.ts beside
 * worker-url.ts and the demo model is two folders up; in dist/ the worker is gpt-chat-worker.js
 * beside gpt-chat.js and models/ is one folder up. Both are `new URL(..., import.meta.url)`, so
 * they resolve against wherever the bundle is served from (a CDN included).
 */
const distPaths = () => ({
  name: 'gpt-chat-dist-paths',
  transform(code, id) {
    const file = id.replaceAll('\\', '/');
    if (file.endsWith('/src/engine/worker-url.ts')) return { code: code.replace("'./worker.ts'", "'./gpt-chat-worker.js'"), map: null };
    if (file.endsWith('/src/engine/webllm-url.ts')) return { code: code.replace("'../webllm/load.ts'", "'./gpt-chat-webllm.js'"), map: null };
    if (file.endsWith('/src/element/default-model.ts')) return { code: code.replace("'../../models/gpt-chat-demo/'", "'../models/gpt-chat-demo/'"), map: null };
    return null;
  },
});

/**
 * Minified, but keeping `/* @vite-ignore *\/`: it tells Vite that the bundled model's folder URL
 * (default-model.ts) is resolved at run time, not an asset to copy at build time.
 */
const keepViteIgnore = { format: { comments: /@vite-ignore/ } };

/** Emits web-llm's own single-file ESM build (it imports nothing) as dist/web-llm.js. */
const copyWebLlm = () => ({
  name: 'copy-web-llm',
  generateBundle() {
    const source = readFileSync(fileURLToPath(import.meta.resolve('@mlc-ai/web-llm')), 'utf8');
    this.emitFile({ type: 'asset', fileName: 'web-llm.js', source });
  },
});

/** Dependencies a bundler user installs once and shares with the rest of their app. */
const packageDeps = (id) => /^(lit|@lit\/|lit-html|lit-element|idb-keyval|@noble\/hashes|hash-wasm)/.test(id);

export default [
  // The runtime for Node (CLI, benchmarks, server-side use); Dawn comes from the `webgpu` package.
  {
    input: { index: 'src/node.ts', cli: 'src/cli/gpt-run.ts' },
    external: (id) => id === 'webgpu' || id.startsWith('node:'),
    output: { dir: 'dist/node', format: 'es', sourcemap: true, chunkFileNames: 'shared-[hash].js' },
    plugins: [...plugins(false), buildReport()],
  },
  // The element for <script type="module">: everything the main thread needs in one file. The
  // in-page engine (runtime and GPU code) is a lazy chunk, fetched only where workers are missing;
  // so is the template editor's "Train a head" panel (element/head-panel.ts). 'allow-extension'
  // lets that chunk import what it shares from gpt-chat.js itself, rather than splitting
  // gpt-chat.js into a facade and a shared chunk.
  {
    input: { 'gpt-chat': 'src/gpt-chat.ts' },
    preserveEntrySignatures: 'allow-extension',
    output: { dir: 'dist', format: 'es', sourcemap: true, chunkFileNames: 'gpt-chat-[name]-[hash].js' },
    plugins: [distPaths(), ...plugins(true), terser(keepViteIgnore), buildReport({ 'gpt-chat.js': 40 * 1024 })],
  },
  // The engine worker: runtime, cache and tokenizer in one self-contained module.
  {
    input: { 'gpt-chat-worker': 'src/engine/worker.ts' },
    output: { dir: 'dist', format: 'es', sourcemap: true, inlineDynamicImports: true },
    plugins: [distPaths(), ...plugins(true), terser(), buildReport()],
  },
  // The optional web-llm engine (engine="webllm"): our adapter, imported by the worker by URL only
  // when asked for. web-llm itself stays out of it: the adapter imports it at run time from
  // web-llm.js beside itself (else from jsDelivr; src/webllm/library.ts), and the build copies
  // web-llm's own single-file build there for the demo and the tests. The npm package leaves
  // web-llm.js out (package.json `files`): 6.8 MB that most pages never load.
  {
    input: { 'gpt-chat-webllm': 'src/webllm/load.ts' },
    external: ['@mlc-ai/web-llm'],
    output: { dir: 'dist', format: 'es', sourcemap: true, inlineDynamicImports: true, paths: { '@mlc-ai/web-llm': './web-llm.js' } },
    plugins: [...plugins(true), terser(keepViteIgnore), copyWebLlm(), buildReport()],
  },
  // For bundler users (`import { GptChat } from 'gpt-chat'`): no side effects, lit and idb-keyval
  // left to the app's bundler so they are not duplicated.
  // The runtime alone for browser pages and workers that drive a model themselves.
  {
    input: { runtime: 'src/runtime/index.ts' },
    output: { dir: 'dist', format: 'es', sourcemap: true, inlineDynamicImports: true },
    plugins: [...plugins(true), buildReport()],
  },
  {
    input: { index: 'src/index.ts' },
    external: packageDeps,
    output: { dir: 'dist', format: 'es', sourcemap: true, chunkFileNames: 'index-[name]-[hash].js' },
    plugins: [distPaths(), ...plugins(true), buildReport()],
  },
];
