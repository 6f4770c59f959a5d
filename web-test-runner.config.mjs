import { esbuildPlugin } from '@web/dev-server-esbuild';
import { fromRollup } from '@web/dev-server-rollup';
import { watPlugin } from './tools/wat-plugin.mjs';
import { wgslPlugin } from './tools/wgsl-plugin.mjs';
import { chromeLauncher } from '@web/test-runner-chrome';
import { a11ySnapshotPlugin } from '@web/test-runner-commands/plugins';
import { chromiumPath } from './tools/check-chromium.mjs';
import { modelServerMiddleware } from './test/helpers/model-server.mjs';
import { cspMiddleware } from './test/helpers/csp-headers.mjs';
import { requestLogMiddleware } from './test/helpers/request-log.mjs';

/** Headless Chromium with a real WebGPU adapter (SwiftShader on machines without a GPU). */
export default {
  files: ['test/**/*.browser.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testsFinishTimeout: 600_000,
  testFramework: { config: { timeout: 120_000 } },
  // Generated model folders with fault injection for the cache tests (test/helpers/model-server.mjs);
  // Content-Security-Policy headers for URLs with ?csp= (test/helpers/csp-headers.mjs); a log of
  // every request (test/helpers/request-log.mjs).
  middleware: [requestLogMiddleware, modelServerMiddleware, cspMiddleware],
  // Kernels are served as JS modules, as rollup and vite build them: .wgsl exports its source,
  // .wat its compiled WebAssembly bytes.
  mimeTypes: { '**/*.wgsl': 'js', '**/*.wat': 'js' },
  // a11ySnapshot(): the browser's accessibility tree, for tests of what screen readers announce.
  plugins: [fromRollup(wgslPlugin)(), fromRollup(watPlugin)(), esbuildPlugin({ ts: true, target: 'es2022' }), a11ySnapshotPlugin()],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: chromiumPath(),
        args: [
          '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu',
          '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
        ],
      },
    }),
  ],
};
