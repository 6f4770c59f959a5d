// Finds the Chromium the browser tests run in, or says exactly what to install.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const candidates = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** @returns {string} the path of a Chromium executable */
export function chromiumPath() {
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) {
    throw new Error(
      'gpt-chat: no Chromium found for the browser tests (looked at ' + candidates.filter(Boolean).join(', ') + ').\n' +
      'HINT: on Debian/Ubuntu run `sudo apt-get update && sudo apt-get install -y chromium libvulkan1`, ' +
      'or set CHROME_PATH to a Chromium or Chrome executable.',
    );
  }
  return found;
}

// Node's WebGPU (Dawn, the `webgpu` package) needs the Vulkan loader.
const vulkanLoaders = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];

/** Throws with the install hint when no Vulkan loader is found (Linux only). */
export function checkVulkan() {
  if (process.platform !== 'linux' || vulkanLoaders.some((p) => existsSync(p))) return;
  throw new Error(
    'gpt-chat: the Vulkan loader (libvulkan.so.1) is missing, so WebGPU in Node (Dawn) cannot start.\n' +
    'HINT: on Debian/Ubuntu run `sudo apt-get update && sudo apt-get install -y chromium libvulkan1`.',
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log('chromium: ' + chromiumPath());
    checkVulkan();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
