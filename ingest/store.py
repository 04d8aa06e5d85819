"""The index: a vector index (``ingest/vectors.py``: Chroma, or numpy in memory) for vectors,
SQLite for document records, chunk texts and BM25 (FTS5).

SQLite is the source of truth: a chunk exists when its row does. Vectors are written first
(upsert by stable chunk id), then the rows change in one SQLite transaction, then vectors of
the replaced version are deleted. A crash at any point leaves at worst orphan vectors, which
search ignores (it only returns chunks that have rows) and ``reconcile`` deletes.

The project embeds and stores its own vectors; the vector index records the embedder's name, and
the index name hashes the embedder and chunking settings, so changing either builds a new index.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import EmptyIndexError, StoreBusyError
from assistant.types import Chunk, Document, PageStarts, RetrievedChunk, page_at

from .keywords import tokenize
from .vectors import FILTER_KEYS, Filters, VectorIndex, open_vector_index

SCHEMA_VERSION = 1
# Bump when cleaning or chunking code changes what passages come out of the same text:
# the index name changes with it, so a stale index is never reused.
PIPELINE_VERSION = 2
# keyword terms in more than this share of chunks, and more than this many, are left out of
# BM25 queries (see IndexStore._selective_terms)
COMMON_SHARE = 0.05
COMMON_MIN_CHUNKS = 1000

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


def index_name(settings: Settings, embedder_name: str) -> str:
    """Readable, valid Chroma collection name that changes with embedder and chunking."""
    blob = json.dumps({"embedder": embedder_name, "chunking": settings.chunking.model_dump(),
                       "schema": SCHEMA_VERSION, "pipeline": PIPELINE_VERSION}, sort_keys=True)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:10]
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", embedder_name).strip("-").lower()[:40] or "embedder"
    return f"clincite-{slug}-{digest}"


class IndexStore:
    """Records and keyword index (SQLite) plus a ``VectorIndex``, for one embedder/chunking
    setup. The only record + keyword store; the vector index is chosen by settings."""

    def __init__(self, settings: Settings, embedder_name: str,
                 vectors: VectorIndex | None = None) -> None:
        self.name = index_name(settings, embedder_name)
        self.dir = settings.data_dir / "indexes" / self.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.embedder_name = embedder_name
        self._db_path = self.dir / "records.sqlite3"
        self._local = threading.local()
        self.db.executescript(SCHEMA)
        self._add_missing_columns()
        self._settings = settings
        self._dirty_marked = False
        self._total: tuple[int, float] | None = None  # (chunk count, when counted)
        self.vectors = vectors or open_vector_index(
            settings, self.dir, self.name,
            {"embedder": embedder_name, "chunking": json.dumps(settings.chunking.model_dump())})
        if not self.vectors.persistent and self.vectors.count() == 0 and self.count_chunks():
            # records from an earlier process whose vectors lived in its memory: the next
            # write session reconciles (drops them), so the next ingest adds them again
            self._mark_dirty()

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
            conn = sqlite3.connect(self._db_path, timeout=10.0, isolation_level=None)
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

    # -- locking ------------------------------------------------------------------------------

    @contextmanager
    def write_lock(self, wait_s: float = 5.0) -> Iterator[None]:
        """One writer per index. A second one waits briefly, then gets a clear error."""
        path = self.dir / ".write.lock"
        fh = open(path, "a+")
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    raise StoreBusyError(
                        f"another ClinCite process is writing to {self.dir}; wait for it to "
                        "finish and run the command again"
                    ) from None
                time.sleep(0.1)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            yield
            self._mark_clean()  # every write under the lock completed
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    # -- writes -------------------------------------------------------------------------------

    def _mark_dirty(self) -> None:
        """Recorded before any vector write: if the process dies before the lock is released
        cleanly, the next ingest knows to reconcile vectors with records."""
        if not self._dirty_marked:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('vectors_dirty', '1')")
            self._dirty_marked = True

    def _mark_clean(self) -> None:
        """Called when a write session ends without error: anything an earlier interrupted
        session left was reconciled at its start, and this session's writes completed."""
        self.db.execute("DELETE FROM meta WHERE key='vectors_dirty'")
        self._dirty_marked = False

    def vectors_dirty(self) -> bool:
        return self.db.execute("SELECT 1 FROM meta WHERE key='vectors_dirty'").fetchone() \
            is not None

    def document_hash(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT content_hash FROM documents WHERE doc_id=?",
                              (doc_id,)).fetchone()
        return row[0] if row else None

    def replace_document(self, doc: Document, chunks: Sequence[Chunk],
                         vectors: np.ndarray) -> None:
        """Make ``doc`` and exactly ``chunks`` the indexed version of this document."""
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk expected")
        old_ids = {r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?",
                                                 (doc.doc_id,))}
        new_ids = [c.chunk_id for c in chunks]
        self._mark_dirty()
        if chunks:
            self.vectors.upsert(new_ids, np.asarray(vectors, dtype=np.float32),
                                [{"doc_id": c.doc_id, "language": c.language, "kind": c.kind}
                                 for c in chunks])
        with self._transaction():
            self._delete_rows(doc.doc_id)
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
        stale = sorted(old_ids - set(new_ids))
        if stale:
            self._delete_vectors(stale)

    def page_starts(self, doc_id: str) -> PageStarts:
        row = self.db.execute("SELECT page_starts FROM documents WHERE doc_id=?",
                              (doc_id,)).fetchone()
        return _load_pages(row[0]) if row else []

    def set_page_starts(self, doc_id: str, page_starts: PageStarts) -> None:
        """Record pages for a document indexed before pages were (its text is unchanged)."""
        self.db.execute("UPDATE documents SET page_starts=? WHERE doc_id=?",
                        (json.dumps(page_starts) if page_starts else None, doc_id))

    def remove_document(self, doc_id: str) -> int:
        ids = [r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?",
                                             (doc_id,))]
        with self._transaction():
            self._delete_rows(doc_id)
        if ids:
            self._mark_dirty()
            self._delete_vectors(ids)
        return len(ids)

    def _delete_rows(self, doc_id: str) -> None:
        self.db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks "
                        "WHERE doc_id=?)", (doc_id,))
        self.db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    def _delete_vectors(self, ids: Sequence[str]) -> None:
        self.vectors.delete(ids)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def reconcile(self, force: bool = True) -> dict[str, int]:
        """Repair what an interrupted write left: delete vectors without rows, and drop the
        records of documents whose vectors are missing (the next ingest re-adds them).
        ``force=False``: only when a write was interrupted (the dirty mark is still set);
        listing every vector id costs time on a large index."""
        if not force and not self.vectors_dirty():
            return {"orphan_vectors": 0, "incomplete_documents": 0}
        vector_ids = self.vectors.ids()
        row_ids = {r[0]: r[1] for r in self.db.execute("SELECT chunk_id, doc_id FROM chunks")}
        orphans = sorted(vector_ids - set(row_ids))
        if orphans:
            self._delete_vectors(orphans)
        broken_docs = sorted({row_ids[i] for i in set(row_ids) - vector_ids})
        for doc_id in broken_docs:
            self.remove_document(doc_id)
        return {"orphan_vectors": len(orphans), "incomplete_documents": len(broken_docs)}

    # -- reads --------------------------------------------------------------------------------

    def documents(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT doc_id, title, language, kind, source, source_root, "
                               "n_chunks FROM documents ORDER BY doc_id").fetchall()
        keys = ["doc_id", "title", "language", "kind", "source", "source_root", "n_chunks"]
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def document_text(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def count_chunks(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def require_nonempty(self) -> None:
        if self.count_chunks() == 0:
            raise EmptyIndexError(
                f"no documents indexed yet in {self.dir}: run `clincite ingest PATH` first"
            )

    def _rows(self, chunk_ids: Sequence[str]) -> dict[str, RetrievedChunk]:
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

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[RetrievedChunk]:
        rows = self._rows(chunk_ids)
        return [rows[i] for i in chunk_ids if i in rows]

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self.vectors.get(chunk_ids) if chunk_ids else {}

    def dense_search(self, vector: np.ndarray, k: int,
                     filters: Filters | None = None) -> list[RetrievedChunk]:
        hits = self.vectors.query(vector, k, filters)
        rows = self._rows([chunk_id for chunk_id, _ in hits])
        out: list[RetrievedChunk] = []
        for chunk_id, similarity in hits:
            row = rows.get(chunk_id)
            if row is None:  # an orphan vector from an interrupted write: never shown
                continue
            row.dense_score = similarity
            row.score = row.dense_score
            out.append(row)
        return out

    def _chunk_total(self) -> int:
        """Number of chunks, cached for a minute (only the keyword-term cut-off uses it)."""
        now = time.monotonic()
        if self._total is None or now - self._total[1] > 60:
            self._total = (self.count_chunks(), now)
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
                       filters: Filters | None = None) -> list[RetrievedChunk]:
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
        rows = self._rows([h[0] for h in hits])
        out = []
        for chunk_id, score in hits:
            row = rows[chunk_id]
            row.keyword_score = float(score)
            row.score = float(score)
            out.append(row)
        return out


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
