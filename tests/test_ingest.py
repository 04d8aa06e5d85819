"""Incremental ingestion into the SQLite store and its vector index (the in-memory one; the
tests marked `chroma` use Chroma), with the hashing embedder standing in for EmbeddingGemma
(same interface, no model load)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.config import Settings
from assistant.models import HashingEmbedder
from ingest.keywords import tokenize
from ingest.pipeline import ingest_paths
from ingest.store import IndexStore


def make_store(settings: Settings) -> tuple[HashingEmbedder, IndexStore]:
    embedder = HashingEmbedder()
    return embedder, IndexStore(settings, embedder.name)


def consistent(store: IndexStore) -> int:
    """Vector ids, chunk rows and keyword rows are the same set; returns the chunk count."""
    vector_ids = store.vectors.ids()
    row_ids = [r[0] for r in store.records.db.execute("SELECT chunk_id FROM chunks")]
    fts = store.records.db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
    assert len(row_ids) == len(set(row_ids)), "duplicate chunk rows"
    assert vector_ids == set(row_ids)
    assert fts == len(row_ids)
    per_doc = dict(store.records.db.execute("SELECT doc_id, n_chunks FROM documents"))
    counted = dict(store.records.db.execute("SELECT doc_id, COUNT(*) FROM chunks GROUP BY doc_id"))
    assert per_doc == counted
    return len(row_ids)


def test_reingest_is_incremental(settings: Settings, corpus: Path) -> None:
    embedder, store = make_store(settings)
    first = ingest_paths([corpus], settings, embedder, store)
    assert first.count("added") == 5 and not first.failed
    n = consistent(store)
    assert n == first.chunks > 20

    second = ingest_paths([corpus], settings, embedder, store)
    assert second.count("skipped") == 5 and second.chunks == 0
    assert consistent(store) == n

    # change one document: it is replaced, its old chunks are gone
    target = next(corpus.glob("002_*.txt"))
    target.write_text(target.read_text() + "\nA new sentence about pembrolizumab dosing.\n")
    third = ingest_paths([corpus], settings, embedder, store)
    assert third.count("updated") == 1 and third.count("skipped") == 4
    consistent(store)
    hits = store.keyword_search(tokenize("pembrolizumab dosing"), 5)
    assert hits and hits[0].doc_id == target.name

    # remove a file: only --sync deletes it from the index
    (corpus / target.name).unlink()
    ingest_paths([corpus], settings, embedder, store)
    assert target.name in {d["doc_id"] for d in store.documents()}
    report = ingest_paths([corpus], settings, embedder, store, sync=True)
    assert report.count("removed") == 1
    assert target.name not in {d["doc_id"] for d in store.documents()}
    consistent(store)


def test_bad_files_do_not_stop_the_others(settings: Settings, corpus: Path) -> None:
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blob.txt").write_bytes(b"\x00\xff" * 50)
    (corpus / "deck.pptx").write_bytes(b"PK")
    embedder, store = make_store(settings)
    report = ingest_paths([corpus, corpus / "missing.md"], settings, embedder, store)
    assert report.count("added") == 5
    failed = {Path(r.path).name: r.error for r in report.failed}
    assert set(failed) == {"empty.txt", "blob.txt", "deck.pptx", "missing.md"}
    assert {d["doc_id"] for d in store.documents()} == {
        p.name for p in corpus.glob("0*.txt")}
    consistent(store)


def test_cli_ingest_reports_errors_and_exits_nonzero(corpus: Path, capsys) -> None:
    (corpus / "empty.txt").write_bytes(b"")
    assert main(["ingest", str(corpus)]) == 1
    out = capsys.readouterr()
    assert "error:" in out.err and "empty.txt" in out.err and "empty" in out.err
    assert "Traceback" not in out.err
    assert "5 added" in out.out and "1 failed" in out.out
    assert main(["ingest", str(corpus)]) == 1  # still failing file, others skipped
    assert "5 skipped" in capsys.readouterr().out


def test_keyword_index_keeps_drug_names_whole(settings: Settings, corpus: Path) -> None:
    assert "地舒单抗" in tokenize("地舒单抗与唑来膦酸")
    assert "唑来膦酸" in tokenize("地舒单抗与唑来膦酸")
    assert "alter-s004" in tokenize("ALTER-S004临床研究")
    embedder, store = make_store(settings)
    ingest_paths([corpus], settings, embedder, store)
    hits = store.keyword_search(tokenize("ALTER-S004"), 3)
    assert "28.57%" in hits[0].text
    hits = store.keyword_search(tokenize("唑来膦酸"), 3, filters={"language": ["zh"]})
    assert hits and all(h.language == "zh" for h in hits)
    assert any("唑来膦酸" in h.text for h in hits)


def test_filters_restrict_dense_search(settings: Settings, corpus: Path) -> None:
    embedder, store = make_store(settings)
    ingest_paths([corpus], settings, embedder, store)
    vec = embedder.embed_query("anlotinib toripalimab sarcoma")
    hits = store.dense_search(vec, 10, filters={"language": ["zh"]})
    assert hits and all(h.language == "zh" for h in hits)
    only = store.dense_search(vec, 10, filters={"doc_id": ["001_0640456118313415.txt"]})
    assert {h.doc_id for h in only} == {"001_0640456118313415.txt"}


def test_reconcile_removes_orphans(settings: Settings, corpus: Path) -> None:
    """An ingest killed between the vector write and the record write leaves orphan vectors;
    search never shows them and the next ingest removes them."""
    embedder, store = make_store(settings)
    ingest_paths([corpus], settings, embedder, store)
    n = consistent(store)
    store.vectors.upsert(["orphan-1"], embedder.embed(["sarcoma"], kind="query"),
                         [{"doc_id": "ghost", "language": "en", "kind": "x"}])
    assert all(h.chunk_id != "orphan-1" for h in
               store.dense_search(embedder.embed_query("sarcoma"), 50))
    # a document whose vectors went missing is re-ingested from scratch
    victim = store.records.db.execute("SELECT chunk_id, doc_id FROM chunks LIMIT 1").fetchone()
    store.vectors.delete([victim[0]])
    repaired = store.reconcile()
    assert repaired == {"orphan_vectors": 1, "incomplete_documents": 1}
    report = ingest_paths([corpus], settings, embedder, store)
    assert report.count("added") == 1
    assert consistent(store) == n


@pytest.mark.chroma  # "nothing opened" is about Chroma's lazy collection
def test_interrupted_write_is_reconciled_by_the_next_ingest(settings: Settings,
                                                            corpus: Path) -> None:
    """Vector writes set a dirty mark that only a cleanly finished write session clears: a
    clean index is re-ingested without opening Chroma at all, a dirty one is repaired."""
    embedder, store = make_store(settings)
    ingest_paths([corpus], settings, embedder, store)
    n = consistent(store)
    assert not store.vectors_dirty()
    fresh = IndexStore(settings, embedder.name)
    assert ingest_paths([corpus], settings, embedder, fresh).count("skipped") == 5
    assert fresh.vectors._collection is None  # type: ignore[attr-defined]  # nothing opened
    # a writer killed after writing a vector: the mark stays, the orphan stays
    store._mark_dirty()
    store.vectors.upsert(["orphan-1"], embedder.embed(["sarcoma"], kind="query"),
                         [{"doc_id": "ghost", "language": "en", "kind": "x"}])
    again = IndexStore(settings, embedder.name)
    assert again.vectors_dirty()
    ingest_paths([corpus], settings, embedder, again)
    assert "orphan-1" not in again.vectors.ids()
    assert not again.vectors_dirty() and consistent(again) == n


@pytest.mark.chroma
def test_changing_embedder_or_chunking_builds_a_new_index(settings: Settings) -> None:
    a = IndexStore(settings, "fake-a")
    b = IndexStore(settings, "fake-b")
    c = IndexStore(settings.model_copy(update={"chunking": settings.chunking.model_copy(
        update={"size": 300})}), "fake-a")
    assert len({a.name, b.name, c.name}) == 3
    assert a.vectors.collection.metadata["embedder"] == "fake-a"  # type: ignore[attr-defined]


def test_second_writer_gets_clear_error(settings: Settings) -> None:
    from assistant.errors import StoreBusyError

    store = IndexStore(settings, "fake")
    other = IndexStore(settings, "fake")
    with store.write_lock():
        with pytest.raises(StoreBusyError, match="another ClinCite process"):
            with other.write_lock(wait_s=0.2):
                pass


def test_sqlite_is_valid_after_ingest(settings: Settings, corpus: Path) -> None:
    embedder, store = make_store(settings)
    ingest_paths([corpus], settings, embedder, store)
    db = sqlite3.connect(store.dir / "records.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
