#!/usr/bin/env bash
# GPU benchmark runner, inside the unpacked bundle (tools/gpu/build.sh; README there). Needs no Node, npm or
# network: brings the Vulkan loader when the machine lacks one, writes an NVIDIA Vulkan ICD manifest when the
# driver's library is there without one (containers), picks a Python with torch, then runs driver.py.
# Usage: OUT=/some/dir bash run.sh [--quick] [--budget SECONDS]
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$HERE/out}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
echo "bundle $(cat "$HERE/VERSION" 2>/dev/null) on $(uname -srm), $(nproc) cores"

# Vulkan loader (libvulkan.so.1) and the GL dispatch libraries NVIDIA's ICD needs (libGLdispatch.so.0 …):
# the system's, else the bundled .debs unpacked here (else the copies unpacked when the bundle was built).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || ! ldconfig -p 2>/dev/null | grep -q 'libGLdispatch.so.0 '; then
  lib="$HERE/vulkan/usr/lib/x86_64-linux-gnu"
  if [ ! -e "$lib/libvulkan.so.1" ] && command -v dpkg-deb >/dev/null; then
    for f in "$HERE"/debs/*.deb; do dpkg-deb -x "$f" "$HERE/vulkan" || true; done
  fi
  if [ ! -e "$lib/libvulkan.so.1" ]; then lib="$HERE/vulkan-prebuilt"; fi
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "Vulkan loader and GL dispatch libraries: $lib"
fi
# NVIDIA's EGL vendor file, where the driver's container mount has it outside the default search path
for d in /usr/local/nvidia/share /usr/share; do
  if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -e "$d/glvnd/egl_vendor.d/10_nvidia.json" ]; then
    export __EGL_VENDOR_LIBRARY_FILENAMES="$d/glvnd/egl_vendor.d/10_nvidia.json"
  fi
done

# NVIDIA's Vulkan ICD: containers often have the driver's libGLX_nvidia but no manifest for it.
if [ -z "${VK_ICD_FILENAMES:-}" ] && command -v nvidia-smi >/dev/null &&
  ! ls /etc/vulkan/icd.d/nvidia*.json /usr/share/vulkan/icd.d/nvidia*.json >/dev/null 2>&1; then
  for so in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
    if ldconfig -p 2>/dev/null | grep -q "$so"; then
      mkdir -p "$HERE/icd"
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$so" \
        >"$HERE/icd/nvidia_icd.json"
      export VK_ICD_FILENAMES="$HERE/icd/nvidia_icd.json"
      echo "NVIDIA Vulkan ICD manifest written for $so"
      break
    fi
  done
fi

# A Python with torch (the GPU's PyTorch); the stages that need torch report it missing otherwise.
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for p in python3 /usr/bin/python3 /opt/conda/bin/python python; do
    if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then PY="$p" && break; fi
  done
fi
PY="${PY:-python3}"
echo "python: $(command -v "$PY") $("$PY" --version 2>&1)"
exec "$PY" "$HERE/driver.py" --out "$OUT" "$@"
