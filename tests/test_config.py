"""Settings fingerprints: what changes answers changes ``Settings.fingerprint()``; what changes
the vectors or the passages changes the index name; nothing else changes either."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from ingest.store import index_name

EMBEDDER = "fake-embedder"


@pytest.mark.parametrize("change, answers, index", [
    # (settings changed, fingerprint changes, index name changes)
    ({"chunking": {"size": 500}}, True, True),
    ({"chunking": {"overlap": 100}}, True, True),
    ({"retrieval": {"k": 8}}, True, False),
    ({"retrieval": {"fusion": "rrf"}}, True, False),
    ({"retrieval": {"min_similarity": 0.4}}, True, False),
    ({"answer": {"prompt": "answer_v3"}}, True, False),
    ({"answer": {"passage_chars": 0}}, True, False),
    ({"llm": {"model": "openai:gpt-x"}}, True, False),
    ({"llm": {"max_tokens": 400}}, True, False),
    # where things live and who may ask change no answer and no vector
    ({"data_dir": Path("/elsewhere")}, False, False),
    ({"models_dir": Path("/elsewhere")}, False, False),
    ({"chroma_host": "db.local", "chroma_port": 9000}, False, False),
    ({"server": {"require_api_key": True, "max_request_kb": 64}}, False, False),
    # a secret is never part of a hash that is shown with every answer
    ({"llm": {"api_key": "sk-secret"}}, False, False),
    ({"embedder": {"api_key": "sk-secret"}}, False, False),
])
def test_what_changes_the_fingerprint_and_the_index(change: dict, answers: bool, index: bool
                                                    ) -> None:
    base, changed = Settings(), Settings(**change)
    assert (changed.fingerprint() != base.fingerprint()) is answers
    assert (index_name(changed, EMBEDDER) != index_name(base, EMBEDDER)) is index


def test_another_embedder_is_another_index() -> None:
    s = Settings()
    assert index_name(s, "st:a") != index_name(s, "st:b")
    assert index_name(s, "st:/models/EmbeddingGemma 300M").startswith(
        "clincite-st-models-embeddinggemma-300m-")


def test_fingerprints_are_stable_and_short() -> None:
    assert Settings().fingerprint() == Settings().fingerprint()
    assert len(Settings().fingerprint()) == 12
    assert Settings(chunking={"size": 500}).fingerprint() == \
        Settings(chunking={"size": 500}).fingerprint()
    # a setting that changes nothing leaves an earlier index in use
    assert index_name(Settings(retrieval={"k": 9}), EMBEDDER) == index_name(Settings(), EMBEDDER)


def test_environment_reaches_the_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    before = Settings().fingerprint()
    monkeypatch.setenv("CLINCITE_CHUNKING__SIZE", "400")
    assert Settings().chunking.size == 400
    assert Settings().fingerprint() != before
