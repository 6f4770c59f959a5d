#!/usr/bin/env bash
# The WebGPU benchmark on a lent GPU machine (Dawn in Node on the GPU's Vulkan driver), as one
# command: unpacks .gpukit/kit.tar.xz (tools/gpu-kit.sh), writes the bench checkpoints there, and
# runs bench/runtime-bench.mjs on WebGPU and the CPU, plus the adapter's description. Output goes
# to $OUT (the device tool's folder) or ./gpu-bench-out.
#   device run, carry [".gpukit"]:  bash bench/gpu-device.sh [runtime-bench options...]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-bench-out}
mkdir -p "$out"
kit=$(mktemp -d)
tar -C "$kit" -xJf .gpukit/kit.tar.xz || { echo "gpu-device: no .gpukit/kit.tar.xz. HINT: tools/gpu-kit.sh here, then carry .gpukit" >&2; exit 1; }
node="$kit/bin/node"
# The kit's packages where Node resolves them, unless the checkout has its own install.
[ -d node_modules/webgpu ] || { mkdir -p node_modules && cp -r "$kit/node_modules/." node_modules/; }
[ -f dist/node/index.js ] || { mkdir -p dist && cp -r "$kit/dist-node" dist/node; }
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in "$kit"/deb/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
# NVIDIA's Vulkan driver where the machine keeps it outside the loader's search path.
nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && [ -f "$nv" ]; then export VK_DRIVER_FILES=$nv; fi
{
  nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv 2>&1 || true
  "$node" --input-type=module -e "
    const { nodeGpu } = await import('./dist/node/index.js');
    const a = await (await nodeGpu()).requestAdapter({ powerPreference: 'high-performance' });
    const i = a?.info ?? {};
    console.log(JSON.stringify({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, fallback: i.isFallbackAdapter, features: a ? [...a.features] : null, maxBinding: a?.limits.maxStorageBufferBindingSize }));
    process.exit(0);"
} 2>&1 | tee "$out/adapter.txt"
"$node" tools/make-fixtures.mjs --bench 2>&1 | tail -2
"$node" bench/runtime-bench.mjs --backends webgpu,cpu "$@" 2>&1 | tee "$out/runtime.txt"
