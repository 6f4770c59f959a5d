#!/usr/bin/env bash
# Packs what the WebGPU benchmark needs on a lent GPU machine that has no Node and no network
# (see bench/gpu-device.sh): this machine's node binary, the `webgpu` package (Dawn, linux-x64
# only), esbuild (the fixtures' quantizer), the built Node runtime (dist/node) and Debian's Vulkan
# loader, as one archive .gpukit/kit.tar.xz (about 35 MB; the device tool carries at most 64 MiB).
#   npm run build && tools/gpu-kit.sh        then, on the device: bench/gpu-device.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/node/index.js ] || { echo "gpu-kit: dist/node/index.js is missing. HINT: npm run build" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/kit/bin" "$stage/kit/node_modules/webgpu/dist" "$stage/kit/node_modules/@esbuild" "$stage/kit/deb"
cp "$(readlink -f "$(command -v node)")" "$stage/kit/bin/node"
cp node_modules/webgpu/{index.js,package.json,types.d.ts} "$stage/kit/node_modules/webgpu/"
cp -r node_modules/webgpu/dist/linux-x64 "$stage/kit/node_modules/webgpu/dist/"
cp -r node_modules/esbuild "$stage/kit/node_modules/"
cp -r node_modules/@esbuild/linux-x64 "$stage/kit/node_modules/@esbuild/"
cp -r dist/node "$stage/kit/dist-node"
(cd "$stage/kit/deb" && apt-get download libvulkan1 >/dev/null 2>&1) || echo "gpu-kit: could not download libvulkan1 (the device may have its own loader)" >&2
mkdir -p .gpukit
tar -C "$stage/kit" -cf - . | xz -T0 -6 > .gpukit/kit.tar.xz
echo "gpu-kit: wrote .gpukit/kit.tar.xz ($(du -h .gpukit/kit.tar.xz | cut -f1)); run on the device with carry [\".gpukit\"]: bench/gpu-device.sh"
