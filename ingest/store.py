"""The index: a vector index (``ingest/vectors.py``: Chroma, or numpy in memory) for vectors and
a record + keyword store (``ingest/records.py``: SQLite with FTS5) for document records, chunk
texts and BM25, each chosen by settings.

The records are the source of truth: a chunk exists when its record does. Vectors are written
first (upsert by stable chunk id), then the records change in one transaction, then vectors of
the replaced version are deleted. A crash at any point leaves at worst orphan vectors, which
search ignores (it only returns chunks that have records) and ``reconcile`` deletes.

The project embeds and stores its own vectors; the vector index records the embedder's name, and
the index name hashes the embedder and chunking settings, so changing either builds a new index.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import EmptyIndexError, StoreBusyError
from assistant.types import Chunk, Document, PageStarts, RetrievedChunk

from .records import RecordStore, open_record_store
from .vectors import Filters, VectorIndex, open_vector_index

SCHEMA_VERSION = 1
# Bump when cleaning or chunking code changes what passages come out of the same text:
# the index name changes with it, so a stale index is never reused.
PIPELINE_VERSION = 3  # 3: a section label glued to a full stop starts a sentence
# set (in the records) before a vector write, cleared when a write session ends cleanly
DIRTY_MARK = "vectors_dirty"


def index_name(settings: Settings, embedder_name: str) -> str:
    """Readable, valid Chroma collection name that changes with embedder and chunking."""
    blob = json.dumps({"embedder": embedder_name, "chunking": settings.chunking.model_dump(),
                       "schema": SCHEMA_VERSION, "pipeline": PIPELINE_VERSION}, sort_keys=True)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:10]
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", embedder_name).strip("-").lower()[:40] or "embedder"
    return f"clincite-{slug}-{digest}"


class IndexStore:
    """A ``RecordStore`` (records and keyword index) plus a ``VectorIndex``, for one
    embedder/chunking setup, each chosen by settings (``CLINCITE_STORE__RECORDS``,
    ``CLINCITE_STORE__BACKEND``). Keeps the two consistent: the write order, the dirty mark and
    ``reconcile`` are here, so no backend has to know about the other."""

    def __init__(self, settings: Settings, embedder_name: str,
                 vectors: VectorIndex | None = None,
                 records: RecordStore | None = None) -> None:
        self.name = index_name(settings, embedder_name)
        self.dir = settings.data_dir / "indexes" / self.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.embedder_name = embedder_name
        self.records = records or open_record_store(settings, self.dir)
        self._settings = settings
        self._dirty_marked = False
        self.vectors = vectors or open_vector_index(
            settings, self.dir, self.name,
            {"embedder": embedder_name, "chunking": json.dumps(settings.chunking.model_dump())})
        if not self.vectors.persistent and self.vectors.count() == 0 and self.count_chunks():
            # records from an earlier process whose vectors lived in its memory: the next
            # write session reconciles (drops them), so the next ingest adds them again
            self._mark_dirty()

    def close(self) -> None:
        self.records.close()

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
            self.records.set_mark(DIRTY_MARK, True)
            self._dirty_marked = True

    def _mark_clean(self) -> None:
        """Called when a write session ends without error: anything an earlier interrupted
        session left was reconciled at its start, and this session's writes completed."""
        self.records.set_mark(DIRTY_MARK, False)
        self._dirty_marked = False

    def vectors_dirty(self) -> bool:
        return self.records.has_mark(DIRTY_MARK)

    def document_hash(self, doc_id: str) -> str | None:
        return self.records.document_hash(doc_id)

    def replace_document(self, doc: Document, chunks: Sequence[Chunk],
                         vectors: np.ndarray) -> None:
        """Make ``doc`` and exactly ``chunks`` the indexed version of this document."""
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk expected")
        new_ids = [c.chunk_id for c in chunks]
        self._mark_dirty()
        if chunks:
            self.vectors.upsert(new_ids, np.asarray(vectors, dtype=np.float32),
                                [{"doc_id": c.doc_id, "language": c.language, "kind": c.kind}
                                 for c in chunks])
        with self.records.transaction():
            old_ids = self.records.put_document(doc, chunks)
        stale = sorted(set(old_ids) - set(new_ids))
        if stale:
            self.vectors.delete(stale)

    def page_starts(self, doc_id: str) -> PageStarts:
        return self.records.page_starts(doc_id)

    def set_page_starts(self, doc_id: str, page_starts: PageStarts) -> None:
        """Record pages for a document indexed before pages were (its text is unchanged)."""
        self.records.set_page_starts(doc_id, page_starts)

    def remove_document(self, doc_id: str) -> int:
        with self.records.transaction():
            ids = self.records.delete_document(doc_id)
        if ids:
            self._mark_dirty()
            self.vectors.delete(ids)
        return len(ids)

    def reconcile(self, force: bool = True) -> dict[str, int]:
        """Repair what an interrupted write left: delete vectors without records, and drop the
        records of documents whose vectors are missing (the next ingest re-adds them).
        ``force=False``: only when a write was interrupted (the dirty mark is still set);
        listing every vector id costs time on a large index."""
        if not force and not self.vectors_dirty():
            return {"orphan_vectors": 0, "incomplete_documents": 0}
        vector_ids = self.vectors.ids()
        row_ids = self.records.chunk_docs()
        orphans = sorted(vector_ids - set(row_ids))
        if orphans:
            self.vectors.delete(orphans)
        broken_docs = sorted({row_ids[i] for i in set(row_ids) - vector_ids})
        for doc_id in broken_docs:
            self.remove_document(doc_id)
        return {"orphan_vectors": len(orphans), "incomplete_documents": len(broken_docs)}

    # -- reads --------------------------------------------------------------------------------

    def documents(self) -> list[dict[str, Any]]:
        return self.records.documents()

    def document_text(self, doc_id: str) -> str | None:
        return self.records.document_text(doc_id)

    def count_chunks(self) -> int:
        return self.records.count()

    def require_nonempty(self) -> None:
        if self.count_chunks() == 0:
            raise EmptyIndexError(
                f"no documents indexed yet in {self.dir}: run `clincite ingest PATH` first"
            )

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[RetrievedChunk]:
        rows = self.records.get(chunk_ids)
        return [rows[i] for i in chunk_ids if i in rows]

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self.vectors.get(chunk_ids) if chunk_ids else {}

    def dense_search(self, vector: np.ndarray, k: int,
                     filters: Filters | None = None) -> list[RetrievedChunk]:
        hits = self.vectors.query(vector, k, filters)
        rows = self.records.get([chunk_id for chunk_id, _ in hits])
        out: list[RetrievedChunk] = []
        for chunk_id, similarity in hits:
            row = rows.get(chunk_id)
            if row is None:  # an orphan vector from an interrupted write: never shown
                continue
            row.dense_score = similarity
            row.score = row.dense_score
            out.append(row)
        return out

    def keyword_search(self, tokens: Sequence[str], k: int,
                       filters: Filters | None = None) -> list[RetrievedChunk]:
        hits = self.records.keyword_search(tokens, k, filters)
        rows = self.records.get([chunk_id for chunk_id, _ in hits])
        out = []
        for chunk_id, score in hits:
            row = rows[chunk_id]
            row.keyword_score = score
            row.score = score
            out.append(row)
        return out
