#!/bin/bash
# One call on a lent GPU machine: the GPU benchmark (run.sh, bounded by its budget), then the embedded model's
# size candidates (tools/embedded/pretrain_sizes.sh). Everything comes back as a few files under $OUT.
#   OUT=DIR bash tools/gpu/bench_and_pretrain.sh BUNDLE.tar.xz BENCH_SECONDS PRETRAIN_SECONDS [driver options]
# Headless NVIDIA machines: the GL dispatch libraries (.gl/*.deb: libglvnd0, libegl1, libvulkan1 …) must be
# present for the driver's Vulkan ICD to create an instance; they are unpacked here when carried.
set -u
BUNDLE=$1
BENCH_S=$2
PRE_S=$3
shift 3
REPO=$(cd "$(dirname "$0")/../.." && pwd)
if ls "$REPO"/.gl/*.deb >/dev/null 2>&1; then
  for f in "$REPO"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
for d in /usr/local/nvidia/share /usr/share; do
  if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -e $d/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_ICD_FILENAMES=$d/vulkan/icd.d/nvidia_icd.json VK_DRIVER_FILES=$d/vulkan/icd.d/nvidia_icd.json
  fi
  [ -e $d/glvnd/egl_vendor.d/10_nvidia.json ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$d/glvnd/egl_vendor.d/10_nvidia.json
done
PY=python3
for p in /opt/torch/.venv/bin/python3 python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then PY=$p && break; fi
done
mkdir -p /tmp/gb /tmp/gbout "$OUT"
tar -xJf "$BUNDLE" -C /tmp/gb
cp "$REPO/tools/gpu/driver.py" /tmp/gb/lora-gpu-bench/
echo "== bench ($BENCH_S s)"
OUT=/tmp/gbout PYTHON=$PY timeout $((BENCH_S + 40)) bash /tmp/gb/lora-gpu-bench/run.sh --budget "$BENCH_S" "$@"
cp /tmp/gbout/*.json /tmp/gbout/run.log "$OUT/" 2>/dev/null
echo "== embedded model sizes ($PRE_S s)"
cd "$REPO"
PY=$PY PRETRAIN_ARGS="--eval-every 1000" timeout $((PRE_S + 150)) bash tools/embedded/pretrain_sizes.sh \
  tools/embedded/_device2k /tmp/emb "$PRE_S" tools/embedded/configs/*.json 2>&1 | tee "$OUT/sizes.txt"
tar -C /tmp -cJf "$OUT/emb.tar.xz" emb
ls -la "$OUT"
