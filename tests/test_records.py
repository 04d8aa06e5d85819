"""The record + keyword store (ingest/records.py): every backend in ``RECORD_STORES`` keeps a
document's records together, replaces and deletes them whole, searches keywords with filters and
rolls a failed transaction back; the index picks the backend from settings."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.types import Document
from ingest import records as records_module
from ingest.chunking import chunk_document
from ingest.keywords import tokenize
from ingest.records import RECORD_STORES, RecordStore, SQLiteRecords, open_record_store

EN = ("The ALTER-S004 trial gave anlotinib with chemotherapy before surgery. The objective "
      "response rate was 28.57% and the disease control rate 100%. ") * 4
ZH = "安罗替尼联合化疗新辅助治疗骨肉瘤,客观缓解率为28.57%,疾病控制率100%。" * 6


def _doc(doc_id: str, text: str, language: str = "en",
         page_starts: list[tuple[int, int]] | None = None) -> Document:
    return Document(doc_id=doc_id, title=doc_id.upper(), language=language, kind="text",
                    source=f"/c/{doc_id}", source_root="/c", text=text,
                    page_starts=page_starts or [])


def _put(store: RecordStore, doc: Document, size: int = 120) -> list[str]:
    chunks = chunk_document(doc, size, 20)
    with store.transaction():
        store.put_document(doc, chunks)
    return [c.chunk_id for c in chunks]


@pytest.fixture(params=sorted(RECORD_STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> RecordStore:
    """Each registered backend, opened as the index would open it."""
    monkeypatch.setenv("CLINCITE_STORE__RECORDS", request.param)
    return open_record_store(Settings(), tmp_path)


def test_the_module_tour_runs() -> None:
    assert doctest.testmod(records_module).failed == 0


def test_put_keeps_a_document_and_exactly_its_chunks(store: RecordStore) -> None:
    en_ids = _put(store, _doc("en-1", EN))
    zh_ids = _put(store, _doc("zh-1", ZH, "zh"))
    assert len(en_ids) > 1 and len(zh_ids) > 1
    assert store.count() == len(en_ids) + len(zh_ids)
    assert store.chunk_docs() == {**dict.fromkeys(en_ids, "en-1"),
                                  **dict.fromkeys(zh_ids, "zh-1")}
    assert [(d["doc_id"], d["n_chunks"], d["title"]) for d in store.documents()] == [
        ("en-1", len(en_ids), "EN-1"), ("zh-1", len(zh_ids), "ZH-1")]
    assert store.document_text("en-1") == EN and store.document_text("nope") is None
    assert store.document_hash("en-1") == _doc("en-1", EN).content_hash
    assert store.document_hash("nope") is None
    got = store.get([zh_ids[0], "unknown", en_ids[-1]])
    assert set(got) == {zh_ids[0], en_ids[-1]}
    first = got[zh_ids[0]]
    assert (first.doc_id, first.language) == ("zh-1", "zh")
    assert ZH[first.start:first.end] == first.text


def test_put_replaces_the_old_version_and_names_its_chunks(store: RecordStore) -> None:
    old_ids = _put(store, _doc("d", EN))
    new_doc = _doc("d", "Pembrolizumab dosing was 200 mg every three weeks.")
    new_chunks = chunk_document(new_doc, 120, 20)
    with store.transaction():
        replaced = store.put_document(new_doc, new_chunks)
    assert sorted(replaced) == sorted(old_ids)
    assert store.chunk_docs() == {c.chunk_id: "d" for c in new_chunks}
    assert store.keyword_search(tokenize("anlotinib"), 5) == []  # old keywords gone too
    assert [i for i, _ in store.keyword_search(tokenize("pembrolizumab"), 5)] == [
        new_chunks[0].chunk_id]


def test_delete_removes_records_and_keywords(store: RecordStore) -> None:
    ids = _put(store, _doc("d", EN))
    _put(store, _doc("z", ZH, "zh"))
    with store.transaction():
        assert sorted(store.delete_document("d")) == sorted(ids)
        assert store.delete_document("d") == []  # already gone
    assert [d["doc_id"] for d in store.documents()] == ["z"]
    assert store.get(ids) == {} and store.document_text("d") is None
    assert store.keyword_search(tokenize("ALTER-S004 anlotinib"), 10) == []
    assert store.keyword_search(tokenize("28.57%"), 10)  # the other document's are kept


def test_a_failed_transaction_leaves_the_previous_version(store: RecordStore) -> None:
    ids = _put(store, _doc("d", EN))
    with pytest.raises(RuntimeError), store.transaction():
        store.put_document(_doc("d", "Something else entirely."), [])
        raise RuntimeError("killed half-way")
    assert store.document_text("d") == EN
    assert sorted(store.chunk_docs()) == sorted(ids)
    assert store.keyword_search(tokenize("anlotinib"), 10)


def test_keyword_search_ranks_and_filters(store: RecordStore) -> None:
    _put(store, _doc("en-1", EN))
    _put(store, _doc("en-2", "Zoledronic acid and denosumab in bone metastases. " * 3))
    _put(store, _doc("zh-1", ZH, "zh"))
    hits = store.keyword_search(tokenize("denosumab"), 10)
    assert hits and {store.chunk_docs()[i] for i, _ in hits} == {"en-2"}
    scores = [s for _, s in store.keyword_search(tokenize("28.57% anlotinib"), 10)]
    assert scores == sorted(scores, reverse=True) and len(scores) > 2
    assert len(store.keyword_search(tokenize("28.57% anlotinib"), 2)) == 2
    # 28.57% is in both languages; each filter keeps only its own
    for language, doc_id in (("zh", "zh-1"), ("en", "en-1")):
        found = store.keyword_search(tokenize("28.57%"), 10, {"language": [language]})
        assert found and {store.chunk_docs()[i] for i, _ in found} == {doc_id}
    only = store.keyword_search(tokenize("28.57%"), 10, {"doc_id": ["zh-1"], "kind": ["text"]})
    assert only and {store.chunk_docs()[i] for i, _ in only} == {"zh-1"}
    assert store.keyword_search(tokenize("28.57%"), 10, {"kind": ["guideline"]}) == []
    assert store.keyword_search([], 10) == []
    assert store.keyword_search(['"', "AND", "*"], 10) == []  # no query syntax leaks through


def test_pages_are_kept_and_can_be_added_later(store: RecordStore) -> None:
    doc = _doc("p", EN, page_starts=[(0, 1), (200, 2)])
    ids = _put(store, doc)
    assert store.page_starts("p") == [(0, 1), (200, 2)] and store.page_starts("nope") == []
    pages = {c.chunk_id: c.page for c in store.get(ids).values()}
    assert pages[ids[0]] == 1 and pages[ids[-1]] == 2
    store.set_page_starts("p", [(0, 7)])
    assert store.page_starts("p") == [(0, 7)]
    assert {c.page for c in store.get(ids).values()} == {7}


def test_marks_persist_until_cleared(store: RecordStore, tmp_path: Path) -> None:
    assert not store.has_mark("vectors_dirty")
    store.set_mark("vectors_dirty", True)
    store.set_mark("vectors_dirty", True)
    assert store.has_mark("vectors_dirty") and not store.has_mark("other")
    if isinstance(store, SQLiteRecords):  # the mark is on disk: a new opener sees it
        assert SQLiteRecords(store.path).has_mark("vectors_dirty")
    store.set_mark("vectors_dirty", False)
    assert not store.has_mark("vectors_dirty")


def test_backend_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().store.records == "sqlite"
    assert isinstance(open_record_store(Settings(), tmp_path), SQLiteRecords)
    assert (tmp_path / "records.sqlite3").is_file()
    monkeypatch.setenv("CLINCITE_STORE__RECORDS", "postgres")
    with pytest.raises(ConfigError, match="^CLINCITE_STORE__RECORDS='postgres' is not a record "
                                          "store: use sqlite$"):
        open_record_store(Settings(), tmp_path)


def test_a_new_backend_is_one_registry_line(monkeypatch: pytest.MonkeyPatch,
                                           corpus: Path) -> None:
    """The index writes and searches its records through whatever the registry returns."""
    from assistant.models import HashingEmbedder
    from assistant.retrieval import Retriever
    from ingest.pipeline import ingest_paths
    from ingest.store import IndexStore

    class Counting(SQLiteRecords):
        puts: list[str] = []
        searches = 0

        def put_document(self, doc, chunks):  # type: ignore[no-untyped-def]
            Counting.puts.append(doc.doc_id)
            return super().put_document(doc, chunks)

        def keyword_search(self, tokens, k, filters=None):  # type: ignore[no-untyped-def]
            Counting.searches += 1
            return super().keyword_search(tokens, k, filters)

    monkeypatch.setitem(RECORD_STORES, "counting",
                        lambda settings, folder: Counting(folder / "counting.sqlite3"))
    monkeypatch.setenv("CLINCITE_STORE__RECORDS", "counting")
    settings = Settings(retrieval={"fusion": "keyword"})
    embedder = HashingEmbedder()
    store = IndexStore(settings, embedder.name)
    assert isinstance(store.records, Counting)
    ingest_paths([corpus], settings, embedder, store)
    assert sorted(Counting.puts) == sorted(p.name for p in corpus.glob("0*.txt"))
    assert (store.dir / "counting.sqlite3").is_file()
    assert not (store.dir / "records.sqlite3").exists()
    hits = Retriever(settings, embedder, store).retrieve("ALTER-S004 ORR", k=3)
    assert Counting.searches and hits and "28.57%" in hits[0].text
