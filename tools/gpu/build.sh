#!/usr/bin/env bash
# Builds the self-contained GPU benchmark bundle (DESIGN §10): tools/gpu/dist/lora-gpu-bench.tar.xz, for a bare
# Linux x86-64 machine with an NVIDIA GPU, its driver and PyTorch, but no Node and no network. It holds our
# bench, the CLI and the Dawn probe bundled by esbuild; the Node binary running this script; only the packages
# they load at run time (Dawn's linux-x64 dawn.node, onnxruntime-web's WebGPU build and asyncify wasm,
# onnxruntime-node for the CPU engine); the libvulkan1 .deb; the Python stages; and fixtures made here.
# Usage: npm run gpu:bundle        (run from the repo root; needs apt-get download for libvulkan1 once)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIST="$ROOT/tools/gpu/dist"
B="$DIST/lora-gpu-bench"
NM="$ROOT/node_modules"
rm -rf "$B" && mkdir -p "$B/bin" "$B/app/node_modules" "$B/debs" "$DIST/cache"
cd "$ROOT"

echo "== esbuild: bench, CLI, probe"
for entry in tools/bench.ts src/cli/main.ts tools/gpu/probe.ts; do
  "$NM/.bin/esbuild" "$entry" --bundle --platform=node --format=esm --target=node20 \
    --outfile="$B/app/$(basename "$entry" .ts).mjs" --log-level=warning \
    --external:onnxruntime-node --external:onnxruntime-web --external:webgpu --external:node-llama-cpp \
    --banner:js="import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);"
done

echo "== runtime packages (only the files loaded at run time)"
copy() { mkdir -p "$(dirname "$B/app/node_modules/$1")" && cp -r "$NM/$1" "$B/app/node_modules/$1"; }
copy webgpu/package.json
copy webgpu/index.js
copy webgpu/dist/linux-x64/dawn.node
copy onnxruntime-web/package.json
for f in ort.webgpu.bundle.min.mjs ort-wasm-simd-threaded.asyncify.mjs ort-wasm-simd-threaded.asyncify.wasm; do
  copy "onnxruntime-web/dist/$f"
done
copy onnxruntime-common/package.json
copy onnxruntime-common/dist/cjs
copy onnxruntime-common/dist/esm
copy onnxruntime-node/package.json
copy onnxruntime-node/dist
copy onnxruntime-node/bin/napi-v6/linux/x64
find "$B/app/node_modules" -name '*.map' -delete
cp "$(node -p process.execPath)" "$B/bin/node"

echo "== Vulkan loader and GL dispatch libraries (.debs)"
# libvulkan1: the loader. libglvnd0 & co: NVIDIA's Vulkan ICD (libGLX_nvidia / libEGL_nvidia) needs
# libGLdispatch and friends; a headless container often has the driver's libraries without them, and then
# vkCreateInstance fails with VK_ERROR_INCOMPATIBLE_DRIVER (measured on an H200 machine).
DEBS="libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libgles2 libopengl0"
for d in $DEBS; do
  ls "$DIST"/cache/${d}_*.deb >/dev/null 2>&1 || (cd "$DIST/cache" && apt-get download "$d")
  cp "$DIST"/cache/${d}_*.deb "$B/debs/"
done
# also unpacked here, for a target without dpkg-deb
tmp="$(mktemp -d)" && for f in "$B"/debs/*.deb; do dpkg-deb -x "$f" "$tmp"; done
mkdir -p "$B/vulkan-prebuilt" && cp -L "$tmp"/usr/lib/x86_64-linux-gnu/*.so.[0-9] "$B/vulkan-prebuilt/" && rm -rf "$tmp"

echo "== Python stages and fixtures"
cp tools/gpu/run.sh tools/gpu/driver.py tools/gpu/hf_check.py tools/bench_torch.py tools/golden_model.py "$B/"
"$NM/.bin/tsx" tools/gpu/fixtures.ts "$B/fixtures"
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tools || echo '+changes') $(date -u +%FT%TZ)" >"$B/VERSION"

echo "== xz"
tar -C "$DIST" -cf - lora-gpu-bench | xz -T2 -6 >"$DIST/lora-gpu-bench.tar.xz"
size=$(stat -c %s "$DIST/lora-gpu-bench.tar.xz")
echo "$DIST/lora-gpu-bench.tar.xz: $((size / 1048576)) MiB"
[ "$size" -le $((60 * 1048576)) ] || { echo "bundle over 60 MiB" >&2; exit 1; }
