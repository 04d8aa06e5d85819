"""The record + keyword store: one small interface and its SQLite implementation (tables for
documents and chunks, FTS5 for BM25), chosen by ``CLINCITE_STORE__RECORDS``.

It is the index's source of truth: a chunk exists when its record does (``ingest/store.py``
writes vectors first and records second, so a vector without a record is never shown). It keeps
the documents' texts and page numbers, the chunks' texts and spans, a keyword index over them,
and a few named marks (``set_mark``) that must survive a crash with the records.

>>> import tempfile
>>> from pathlib import Path
>>> from assistant.types import Document
>>> from ingest.chunking import chunk_document
>>> doc = Document(doc_id="d1", title="ALTER-S004", language="en", kind="text",
...                source="d1.txt", source_root="/c", text="The ORR was 28.57% with anlotinib.")
>>> records = SQLiteRecords(Path(tempfile.mkdtemp()) / "records.sqlite3")
>>> with records.transaction():
...     records.put_document(doc, chunk_document(doc, 700, 150))
[]
>>> hits = records.keyword_search(["anlotinib"], k=3)  # [(chunk id, BM25 score)], best first
>>> [records.get([i])[i].text for i, _ in hits]
['The ORR was 28.57% with anlotinib.']
>>> records.keyword_search(["anlotinib"], k=3, filters={"language": ["zh"]})
[]
>>> with records.transaction():
...     len(records.delete_document("d1"))
1
>>> records.count(), records.documents()
(0, [])

A new backend is one ``RecordStore`` subclass and one line in ``RECORD_STORES``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.types import Chunk, Document, PageStarts, RetrievedChunk, page_at

from .keywords import tokenize
from .vectors import FILTER_KEYS, Filters

# keyword terms in more than this share of chunks, and more than this many, are left out of
# BM25 queries (see SQLiteRecords._selective_terms)
COMMON_SHARE = 0.05
COMMON_MIN_CHUNKS = 1000


class RecordStore(ABC):
    """Documents and their chunks, by id, with a keyword (BM25) search over the chunks.

    Writes go inside ``transaction()``: all of them or none become visible. A reader in another
    thread never sees a write half-done."""

    # -- writes -------------------------------------------------------------------------------

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One atomic write: the writes inside are kept together or, on an exception, not at
        all."""

    @abstractmethod
    def put_document(self, doc: Document, chunks: Sequence[Chunk]) -> list[str]:
        """Make ``doc`` and exactly ``chunks`` its records (keyword index included); returns
        the ids of the chunks it had before."""

    @abstractmethod
    def delete_document(self, doc_id: str) -> list[str]:
        """Remove the document and its chunks; returns the removed chunk ids (none when it was
        not there)."""

    @abstractmethod
    def set_page_starts(self, doc_id: str, page_starts: PageStarts) -> None:
        """Record the pages of a stored document (its text is unchanged)."""

    @abstractmethod
    def set_mark(self, name: str, on: bool) -> None:
        """Set or clear a named mark that is kept with the records (the index's dirty mark)."""

    # -- reads --------------------------------------------------------------------------------

    @abstractmethod
    def has_mark(self, name: str) -> bool:
        """Whether the mark ``name`` is set."""

    @abstractmethod
    def documents(self) -> list[dict[str, Any]]:
        """Every document as ``doc_id, title, language, kind, source, source_root, n_chunks``,
        by ``doc_id``."""

    @abstractmethod
    def document_hash(self, doc_id: str) -> str | None:
        """The content hash of the stored version, or None when the document is not stored."""

    @abstractmethod
    def document_text(self, doc_id: str) -> str | None:
        """The whole text of a stored document."""

    @abstractmethod
    def page_starts(self, doc_id: str) -> PageStarts:
        """(offset, page) pairs of a stored document; empty when it has no pages."""

    @abstractmethod
    def chunk_docs(self) -> dict[str, str]:
        """Every chunk id with its document id (the index reconciles them with its vectors)."""

    @abstractmethod
    def get(self, chunk_ids: Sequence[str]) -> dict[str, RetrievedChunk]:
        """The stored chunks among ``chunk_ids``, by id, with their page numbers."""

    @abstractmethod
    def count(self) -> int:
        """How many chunks are stored."""

    @abstractmethod
    def keyword_search(self, tokens: Sequence[str], k: int,
                       filters: Filters | None = None) -> list[tuple[str, float]]:
        """The ``k`` best chunks for any of ``tokens`` (from ``ingest.keywords.tokenize``) that
        match ``filters``, as (chunk id, BM25 score, higher is better), best first."""

    @abstractmethod
    def close(self) -> None:
        """Release what the calling thread holds open (the index is closed with it)."""


# -- SQLite + FTS5 --------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, language TEXT NOT NULL, kind TEXT NOT NULL,
    source TEXT NOT NULL, source_root TEXT NOT NULL, content_hash TEXT NOT NULL,
    text TEXT NOT NULL, n_chunks INTEGER NOT NULL, updated_at REAL NOT NULL,
    page_starts TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, heading TEXT NOT NULL, text TEXT NOT NULL,
    language TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    tokens, tokenize = "unicode61 tokenchars '.%-_'"
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_FILTER_KEYS = {key: key for key in FILTER_KEYS}  # filter -> column of ``chunks``


class SQLiteRecords(RecordStore):
    """Records in SQLite tables, keywords in an FTS5 table (BM25), in one file. WAL mode: one
    writer at a time, readers in other threads and processes see the last commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._total: tuple[int, float] | None = None  # (chunk count, when counted)
        self.db.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Open an index made by an earlier version: columns added since are added, empty."""
        have = {r[1] for r in self.db.execute("PRAGMA table_info(documents)")}
        if "page_starts" not in have:
            try:
                self.db.execute("ALTER TABLE documents ADD COLUMN page_starts TEXT")
            except sqlite3.OperationalError:  # another process added it first
                pass

    @property
    def db(self) -> sqlite3.Connection:
        """One SQLite connection per thread: a question answered while a document is being
        written never sees the write half-done (WAL gives each reader a consistent snapshot)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            # document frequencies of keyword terms (see keyword_search)
            conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab USING "
                         "fts5vocab(main, chunks_fts, 'row')")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- writes -------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def transaction(self) -> AbstractContextManager[None]:
        return self._transaction()

    def _chunk_ids(self, doc_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?",
                                              (doc_id,))]

    def put_document(self, doc: Document, chunks: Sequence[Chunk]) -> list[str]:
        old_ids = self.delete_document(doc.doc_id)
        self.db.execute(
            "INSERT INTO documents (doc_id, title, language, kind, source, source_root, "
            "content_hash, text, n_chunks, updated_at, page_starts) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (doc.doc_id, doc.title, doc.language, doc.kind, doc.source, doc.source_root,
             doc.content_hash, doc.text, len(chunks), time.time(),
             json.dumps(doc.page_starts) if doc.page_starts else None),
        )
        for c in chunks:
            cur = self.db.execute(
                'INSERT INTO chunks (chunk_id, doc_id, start, "end", heading, text, language,'
                " kind, title) VALUES (?,?,?,?,?,?,?,?,?)",
                (c.chunk_id, c.doc_id, c.start, c.end, c.heading, c.text, c.language,
                 c.kind, c.title),
            )
            keyword_text = " ".join(tokenize(f"{c.title} {c.heading} {c.text}"))
            self.db.execute("INSERT INTO chunks_fts(rowid, tokens) VALUES (?,?)",
                            (cur.lastrowid, keyword_text))
        return old_ids

    def delete_document(self, doc_id: str) -> list[str]:
        ids = self._chunk_ids(doc_id)
        self.db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks "
                        "WHERE doc_id=?)", (doc_id,))
        self.db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
        return ids

    def set_page_starts(self, doc_id: str, page_starts: PageStarts) -> None:
        self.db.execute("UPDATE documents SET page_starts=? WHERE doc_id=?",
                        (json.dumps(page_starts) if page_starts else None, doc_id))

    def set_mark(self, name: str, on: bool) -> None:
        if on:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (name,))
        else:
            self.db.execute("DELETE FROM meta WHERE key=?", (name,))

    # -- reads --------------------------------------------------------------------------------

    def has_mark(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM meta WHERE key=?", (name,)).fetchone() is not None

    def documents(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT doc_id, title, language, kind, source, source_root, "
                               "n_chunks FROM documents ORDER BY doc_id").fetchall()
        keys = ["doc_id", "title", "language", "kind", "source", "source_root", "n_chunks"]
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def document_hash(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT content_hash FROM documents WHERE doc_id=?",
                              (doc_id,)).fetchone()
        return row[0] if row else None

    def document_text(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def page_starts(self, doc_id: str) -> PageStarts:
        row = self.db.execute("SELECT page_starts FROM documents WHERE doc_id=?",
                              (doc_id,)).fetchone()
        return _load_pages(row[0]) if row else []

    def chunk_docs(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.db.execute("SELECT chunk_id, doc_id FROM chunks")}

    def get(self, chunk_ids: Sequence[str]) -> dict[str, RetrievedChunk]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.db.execute(
            f'SELECT c.chunk_id, c.doc_id, c.title, c.text, c.start, c."end", c.language, '
            f"c.kind, c.heading, d.page_starts FROM chunks c LEFT JOIN documents d "
            f"ON d.doc_id = c.doc_id WHERE c.chunk_id IN ({marks})", list(chunk_ids)).fetchall()
        out: dict[str, RetrievedChunk] = {}
        for r in rows:
            pages = _load_pages(r[9])
            out[r[0]] = RetrievedChunk(
                chunk_id=r[0], doc_id=r[1], title=r[2], text=r[3], start=r[4], end=r[5],
                language=r[6], kind=r[7], heading=r[8], page=page_at(pages, r[4]),
                page_breaks=[(o, p) for o, p in pages if r[4] < o < r[5]])
        return out

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def _chunk_total(self) -> int:
        """Number of chunks, cached for a minute (only the keyword-term cut-off uses it)."""
        now = time.monotonic()
        if self._total is None or now - self._total[1] > 60:
            self._total = (self.count(), now)
        return self._total[0]

    def _selective_terms(self, terms: list[str]) -> list[str]:
        """Leave out terms found in more than COMMON_SHARE of the chunks and in more than
        COMMON_MIN_CHUNKS of them: their BM25 weight is small (IDF <= ~3) but scoring their
        long posting lists is most of a keyword query's time on a large index (44 -> ~10 ms
        at 100k chunks). Small indexes keep every term; the rarest term is always kept."""
        if len(terms) < 2:
            return terms
        total = self._chunk_total()
        limit = max(COMMON_MIN_CHUNKS, COMMON_SHARE * total)
        if total <= limit:
            return terms
        marks = ",".join("?" * len(terms))
        df = dict(self.db.execute(f"SELECT term, doc FROM temp.chunks_vocab WHERE term IN "
                                  f"({marks})", terms).fetchall())
        keep = [t for t in terms if df.get(t, 0) <= limit]
        return keep or [min(terms, key=lambda t: df.get(t, 0))]

    def keyword_search(self, tokens: Sequence[str], k: int,
                       filters: Filters | None = None) -> list[tuple[str, float]]:
        terms = self._selective_terms(sorted({t for t in tokens if t}))
        if not terms:
            return []
        query = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        where, params = _sql_where(filters)
        sql = (
            "SELECT c.chunk_id, -bm25(chunks_fts) AS s FROM chunks_fts "
            "JOIN chunks c ON c.rowid = chunks_fts.rowid "
            f"WHERE chunks_fts MATCH ? {where} ORDER BY s DESC LIMIT ?"
        )
        try:
            hits = self.db.execute(sql, [query, *params, k]).fetchall()
        except sqlite3.OperationalError:
            return []  # a query FTS5 cannot parse finds nothing rather than failing the answer
        return [(chunk_id, float(score)) for chunk_id, score in hits]


def _load_pages(raw: str | None) -> PageStarts:
    return [(int(o), int(p)) for o, p in json.loads(raw)] if raw else []


def _sql_where(filters: Filters | None) -> tuple[str, list[str]]:
    if not filters:
        return "", []
    parts: list[str] = []
    params: list[str] = []
    for key, values in filters.items():
        if key in _FILTER_KEYS and values:
            parts.append(f"c.{_FILTER_KEYS[key]} IN ({','.join('?' * len(values))})")
            params.extend(values)
    return ("AND " + " AND ".join(parts)) if parts else "", params


# -- the registry: CLINCITE_STORE__RECORDS -> factory(settings, index folder) ----------------

RecordStoreFactory = Callable[[Settings, Path], RecordStore]


def _sqlite(settings: Settings, folder: Path) -> RecordStore:
    return SQLiteRecords(folder / "records.sqlite3")


RECORD_STORES: dict[str, RecordStoreFactory] = {
    "sqlite": _sqlite,
}


def open_record_store(settings: Settings, folder: Path) -> RecordStore:
    """The record + keyword store ``settings`` choose for the index kept in ``folder``."""
    backend = settings.store.records
    if backend not in RECORD_STORES:
        raise ConfigError(f"CLINCITE_STORE__RECORDS={backend!r} is not a record store: use "
                          f"{', '.join(RECORD_STORES)}")
    return RECORD_STORES[backend](settings, folder)
