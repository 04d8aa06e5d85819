"""The vector-index seam: the in-memory index the unit tests run on behaves as Chroma does on
upsert, delete, query (with filters) and get, and the store picks the backend from settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from ingest.vectors import VECTOR_INDEXES, ChromaIndex, MemoryIndex, VectorIndex, open_vector_index

META = [{"doc_id": "d1", "language": "en", "kind": "a"},
        {"doc_id": "d1", "language": "zh", "kind": "a"},
        {"doc_id": "d2", "language": "en", "kind": "b"},
        {"doc_id": "d3", "language": "zh", "kind": "b"}]


def _vectors(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(4, 8)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(params=["memory", "chroma"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> VectorIndex:
    if request.param == "memory":
        return MemoryIndex()
    return ChromaIndex("parity", {"embedder": "test"}, path=tmp_path / "chroma")


def test_query_ranks_by_cosine_and_filters(index: VectorIndex) -> None:
    vecs = _vectors()
    index.upsert(["a", "b", "c", "d"], vecs, META)
    assert index.count() == 4 and index.ids() == {"a", "b", "c", "d"}
    query = vecs[2] + 0.1 * vecs[0]
    expected = np.argsort(-(vecs @ (query / np.linalg.norm(query))))
    hits = index.query(query, k=3)
    assert [h[0] for h in hits] == [["a", "b", "c", "d"][i] for i in expected[:3]]
    cos = float(vecs[2] @ (query / np.linalg.norm(query)))
    assert dict(hits)["c"] == pytest.approx(cos, abs=1e-4)
    assert {i for i, _ in index.query(query, k=10, filters={"language": ["zh"]})} == {"b", "d"}
    assert [i for i, _ in index.query(query, k=10, filters={"language": ["zh"],
                                                            "kind": ["b"]})] == ["d"]
    assert index.query(query, k=10, filters={"doc_id": ["nope"]}) == []


def test_upsert_replaces_delete_removes_get_returns(index: VectorIndex) -> None:
    vecs = _vectors()
    index.upsert(["a", "b", "c", "d"], vecs, META)
    index.upsert(["a"], vecs[3:4], [{"doc_id": "d9", "language": "en", "kind": "z"}])
    assert index.count() == 4  # replaced, not added
    np.testing.assert_allclose(index.get(["a"])["a"], vecs[3], atol=1e-5)
    assert [i for i, _ in index.query(vecs[3], k=2)] in (["a", "d"], ["d", "a"])
    assert [i for i, _ in index.query(vecs[3], k=5, filters={"doc_id": ["d9"]})] == ["a"]
    index.delete(["b", "missing"])
    assert index.ids() == {"a", "c", "d"} and index.count() == 3
    assert set(index.get(["a", "b", "c"])) == {"a", "c"}
    assert all(i != "b" for i, _ in index.query(vecs[1], k=10))


def test_empty_index_finds_nothing(index: VectorIndex) -> None:
    assert index.query(_vectors()[0], k=5) == [] and index.count() == 0
    assert index.get(["a"]) == {} and index.ids() == set()


def test_backend_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_vector_index(Settings(), tmp_path, "x", {}), MemoryIndex)  # conftest
    monkeypatch.setenv("CLINCITE_STORE__BACKEND", "chroma")
    assert isinstance(open_vector_index(Settings(), tmp_path, "x", {}), ChromaIndex)
    # the older way to ask for a server still chooses it
    monkeypatch.setenv("CLINCITE_CHROMA_HOST", "127.0.0.1")
    assert Settings().vector_backend() == "chroma-server"
    monkeypatch.setenv("CLINCITE_STORE__BACKEND", "qdrant")
    with pytest.raises(ConfigError, match="^CLINCITE_STORE__BACKEND='qdrant' is not a vector "
                                          "store: use chroma, chroma-server, memory$"):
        open_vector_index(Settings(), tmp_path, "x", {})


def test_server_backend_without_host_names_the_variable(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINCITE_STORE__BACKEND", "chroma-server")
    with pytest.raises(ConfigError, match="needs CLINCITE_CHROMA_HOST"):
        open_vector_index(Settings(), tmp_path, "x", {})


def test_a_new_backend_is_one_registry_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           corpus: Path) -> None:
    """The store writes and searches through whatever the registry returns."""
    from assistant.models import HashingEmbedder
    from ingest.pipeline import ingest_paths
    from ingest.store import IndexStore

    made: list[MemoryIndex] = []

    class Counting(MemoryIndex):
        upserts = 0

        def upsert(self, ids, vectors, metadatas) -> None:  # type: ignore[no-untyped-def]
            Counting.upserts += len(ids)
            super().upsert(ids, vectors, metadatas)

    def factory(settings, folder, name, meta):  # type: ignore[no-untyped-def]
        made.append(Counting())
        return made[-1]

    monkeypatch.setitem(VECTOR_INDEXES, "counting", factory)
    monkeypatch.setenv("CLINCITE_STORE__BACKEND", "counting")
    settings = Settings()
    embedder = HashingEmbedder()
    store = IndexStore(settings, embedder.name)
    ingest_paths([corpus], settings, embedder, store)
    assert made and Counting.upserts == store.count_chunks() == made[0].count() > 20
    hits = store.dense_search(embedder.embed_query("ALTER-S004 ORR"), 3)
    assert len(hits) == 3 and hits[0].dense_score >= hits[-1].dense_score


def test_memory_records_from_another_process_are_reconciled(settings: Settings,
                                                           corpus: Path) -> None:
    """Vectors in memory die with their process, the SQLite records do not: the next write
    session drops the records left without vectors and the ingest adds them again."""
    from assistant.models import HashingEmbedder
    from ingest import vectors
    from ingest.pipeline import ingest_paths
    from ingest.store import IndexStore

    embedder = HashingEmbedder()
    store = IndexStore(settings, embedder.name)
    assert ingest_paths([corpus], settings, embedder, store).count("added") == 5
    n = store.count_chunks()
    vectors._memory_indexes.clear()  # as in a new process
    fresh = IndexStore(settings, embedder.name)
    assert fresh.vectors_dirty()
    report = ingest_paths([corpus], settings, embedder, fresh)
    assert report.count("added") == 5 and fresh.vectors.count() == fresh.count_chunks() == n
