"""Sentence vectors, cached on disk: what lets evidence sentences be chosen by meaning at no
cost per question.

The answer pipeline scores each sentence of the retrieved passages against the question with
the embedder (which sentences the model reads, which sentence a quote-backed answer quotes).
Embedding those sentences per question cost ~1-3 s on a 2-core CPU; embedded once at ingest
and kept here, a question pays only for its dot products. Keys are the sentence text's SHA-1
under the embedder's name, so a change of embedder never mixes vectors; sentences the cache
has not seen (an index built before the cache existed) are embedded on first use and kept.

SQLite: each write is a transaction, so a crash loses at most the batch being written and
never corrupts what is stored.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from assistant.models import Embedder
from assistant.types import Chunk

from .text import split_sentences

FILE_NAME = "sentence_vectors.sqlite3"
KIND = "document_untitled"  # sentences are embedded as raw text, without a title
MAX_IN_MEMORY = 50_000  # vectors kept in the process (~150 MB at 768 dims)


def chunk_sentences(text: str) -> list[str]:
    """The sentences of a passage exactly as the checker and the excerpt chooser see them."""
    return [text[s.start:s.end] for s in split_sentences(text) if text[s.start:s.end].strip()]


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class SentenceVectors:
    """text -> unit vector for one embedder; ``path`` None keeps them in memory only."""

    def __init__(self, embedder: Embedder, path: Path | None = None) -> None:
        self.embedder = embedder
        self.model = getattr(embedder, "name", type(embedder).__name__)
        self._memory: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, "
                             "vec BLOB, PRIMARY KEY (model, key))")
            self._db.commit()

    def _select(self, column: str, keys: list[str]) -> list[tuple]:
        """(key, column) rows stored for ``keys`` under this embedder, 500 keys a query."""
        if self._db is None:
            return []
        rows: list[tuple] = []
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            rows += self._db.execute(
                f"SELECT key, {column} FROM vectors WHERE model = ? AND key IN "
                f"({','.join('?' * len(part))})", [self.model, *part]).fetchall()
        return rows

    def _load(self, keys: list[str]) -> None:
        todo = [k for k in keys if k not in self._memory]
        for key, blob in self._select("vec", todo):
            self._memory[key] = np.frombuffer(blob, dtype=np.float32)

    def _known(self, keys: list[str]) -> set[str]:
        known = {k for k in keys if k in self._memory}
        return known | {row[0] for row in self._select("1", [k for k in keys if k not in known])}

    def _store(self, keys: list[str], vectors: np.ndarray, remember: bool = True) -> None:
        if len(self._memory) > MAX_IN_MEMORY:
            self._memory.clear()
        if remember or self._db is None:
            for key, vec in zip(keys, vectors, strict=True):
                self._memory[key] = np.asarray(vec, dtype=np.float32)
        if self._db is not None:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (model, key, vec) VALUES (?, ?, ?)",
                    [(self.model, k, np.asarray(v, dtype=np.float32).tobytes())
                     for k, v in zip(keys, vectors, strict=True)])

    def vectors(self, sentences: Sequence[str]) -> np.ndarray:
        """One vector per sentence (embedding the ones not cached yet)."""
        if not sentences:
            return np.zeros((0, 0), dtype=np.float32)
        keys = [_key(s) for s in sentences]
        with self._lock:
            self._load(keys)
            missing = {k: s for k, s in zip(keys, sentences, strict=True)
                       if k not in self._memory}
            if missing:
                vecs = self.embedder.embed(list(missing.values()), kind=KIND)
                self._store(list(missing), vecs)
            return np.stack([self._memory[k] for k in keys])

    def warm(self, chunks: Iterable[Chunk]) -> int:
        """Embed and keep the sentences of ``chunks`` (at ingest); returns how many were new."""
        sentences = list(dict.fromkeys(s for c in chunks for s in chunk_sentences(c.text)))
        keys = [_key(s) for s in sentences]
        with self._lock:
            known = self._known(keys)
        new = [(k, s) for k, s in zip(keys, sentences, strict=True) if k not in known]
        for i in range(0, len(new), 256):
            part = new[i:i + 256]
            vecs = self.embedder.embed([s for _, s in part], kind=KIND)
            with self._lock:
                self._store([k for k, _ in part], vecs, remember=False)
        return len(new)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def open_sentence_vectors(embedder: Embedder, data_dir: Path | None) -> SentenceVectors:
    return SentenceVectors(embedder, data_dir / FILE_NAME if data_dir is not None else None)
