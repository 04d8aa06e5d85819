#!/usr/bin/env bash
# Mutation testing of the pure modules (the checker, fusion, chunking, excerpts, metrics) with
# mutmut 3. What is mutated and which tests run: [tool.mutmut] in pyproject.toml.
#
#   scripts/mutation.sh                        # every module; resumes an interrupted run
#   scripts/mutation.sh "assistant.retrieval*"  # (re-)tests one module's mutants, all of them
#   scripts/mutation.sh --score                # only print the score table of the last run
#
# mutmut keeps its state in mutants/ (git-ignored): a run without names skips mutants already
# tested (and re-tests functions changed since); named mutants are always re-tested, so after
# adding tests re-run the survivors by name. `rm -rf mutants` starts afresh.
# Survivors: `.venv/bin/mutmut results`, `.venv/bin/mutmut show NAME`.
# Runs hold /tmp/clincite-cpu.lock (the machine's cores are shared); JOBS=2 workers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PY")
if ! "$PY" -c 'import mutmut' 2>/dev/null; then
    "$PY" -m pip install 'mutmut>=3.8,<4'
fi
if [[ "${1:-}" != "--score" ]]; then
    flock "${CLINCITE_CPU_LOCK:-/tmp/clincite-cpu.lock}" \
        "$BIN/mutmut" run --max-children "${JOBS:-2}" "$@" || true
fi
"$BIN/mutmut" results --all true 2>/dev/null | "$PY" scripts/mutation_score.py
