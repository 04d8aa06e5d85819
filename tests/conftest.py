"""Shared fixtures: every test gets its own data directory and no CLINCITE_* from the shell."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from assistant.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_corpus"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  request: pytest.FixtureRequest):
    for key in list(os.environ):
        if key.startswith("CLINCITE_") or key == "OPENAI_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.setenv("CLINCITE_DATA_DIR", str(tmp_path / "data"))
    # Unit tests keep vectors in memory (ingest/vectors.py MemoryIndex); tests marked `chroma`
    # (a store shared between processes, Chroma itself) and the end-to-end tests use Chroma.
    on_chroma = request.node.get_closest_marker("chroma") or request.node.get_closest_marker(
        "e2e")
    monkeypatch.setenv("CLINCITE_STORE__BACKEND", "chroma" if on_chroma else "memory")
    monkeypatch.setenv("CLINCITE_EMBEDDER__MODEL", "fake")
    monkeypatch.setenv("CLINCITE_LLM__MODEL", "fake")
    # bag-of-words cosines run lower than EmbeddingGemma's (see the settings fixture)
    monkeypatch.setenv("CLINCITE_RETRIEVAL__MIN_SIMILARITY", "0.05")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield


_PID = {"pid": os.getpid()}


@pytest.fixture(autouse=True)
def _search_pool_of_this_process():
    """Mutation testing (mutmut) forks the test process: the retriever's thread pool made
    before the fork has no threads in the child, and a search submitted to it would wait
    forever (a mutant would then pass for 'timeout'). A forked process starts its own."""
    if _PID["pid"] != os.getpid():
        _PID["pid"] = os.getpid()
        retrieval = sys.modules.get("assistant.retrieval")
        if retrieval is not None:
            retrieval._pool = None
    yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the hashing embedder (stands in for EmbeddingGemma) and the scripted LLM.

    Bag-of-words cosines are lower than EmbeddingGemma's, so the out-of-scope floor is lowered
    to match (0.30 is calibrated for the real embedder)."""
    s = Settings()
    assert s.retrieval.min_similarity == 0.05  # set by _isolated_env
    return s


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the sample corpus (with its MANIFEST.tsv)."""
    dest = tmp_path / "corpus"
    shutil.copytree(SAMPLE, dest)
    for f in dest.iterdir():
        f.chmod(0o644)
    return dest


def real_models_dir() -> Path | None:
    """Where `clincite models fetch` put the default models, if it did."""
    from assistant.fetch import EMBEDDER, LLM, is_ready

    models = Path(os.environ.get("CLINCITE_TEST_MODELS_DIR",
                                 Path.home() / ".clincite" / "models"))
    if is_ready(EMBEDDER, models) and is_ready(LLM, models):
        return models
    return None


def spy_retrieval(monkeypatch: pytest.MonkeyPatch, retriever) -> list[list]:
    """Every list of passages ``retriever`` returns, recorded: what k and filters reached
    retrieval (the prompt may leave a passage out when none of its sentences is chosen)."""
    seen: list[list] = []
    original = retriever.retrieve

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(out)
        return out

    monkeypatch.setattr(retriever, "retrieve", spy)
    return seen
