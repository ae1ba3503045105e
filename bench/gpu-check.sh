#!/usr/bin/env bash
# A GPU check for a real card, needing only this repo and its installed node_modules:
#   bench/gpu-check.sh [--sentences N] [--repeat N] [--json]
# Prints, for the MiniLM-L6-architecture fixture (fp32, int8, fp16): sentences/s on the CPU and on
# each usable GPU provider (CUDA, WebGPU), max abs difference vs CPU (fp16 also cosine vs CPU
# fp32), cold load ms and the adapter; on a CPU-only machine the CPU rows and why each GPU provider
# is absent. The fixture publishes no fp16 file: one is converted from fp32 (rows say so).
# The model is looked up in $TANDEM_MODELS_DIR, else ../shared/models beside the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
command -v node >/dev/null || { echo "gpu-check: node is not on PATH" >&2; exit 2; }
[ -d node_modules/onnxruntime-node ] || { echo "gpu-check: node_modules/onnxruntime-node is missing (npm ci first)" >&2; exit 2; }
if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true; fi
node --version >&2
exec node --import tsx bench/gpu-bench.ts "$@"
