"""The vector index: one small interface, a Chroma implementation (embedded or server) and an
in-memory one (numpy cosine), chosen by ``CLINCITE_STORE__BACKEND``.

The index only keeps vectors the project computed (it never embeds) with three metadata fields
for filtering (``doc_id``, ``language``, ``kind``). Records, texts and the keyword index are
the record store's (``ingest/records.py``), which is the source of truth: a vector without a
record is never shown (``ingest/store.py`` keeps the two consistent).

>>> import numpy as np
>>> index = MemoryIndex()
>>> index.upsert(["a", "b"], np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32),
...              [{"doc_id": "d1", "language": "en", "kind": "x"},
...               {"doc_id": "d2", "language": "zh", "kind": "x"}])
>>> [(i, round(s, 2)) for i, s in index.query(np.array([1.0, 0.0]), k=2)]
[('a', 1.0), ('b', 0.6)]
>>> index.query(np.array([1.0, 0.0]), k=2, filters={"language": ["zh"]})[0][0]
'b'
>>> index.delete(["a"]); sorted(index.ids()), index.count()
(['b'], 1)

A new backend is one ``VectorIndex`` subclass and one line in ``VECTOR_INDEXES``.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError

# {"doc_id": [...], "language": ["zh"], "kind": [...]}: a hit must match every key given
Filters = dict[str, list[str]]
FILTER_KEYS = ("doc_id", "language", "kind")


def as_filters(given: Mapping[Any, Sequence[str]] | None) -> Filters | None:
    """Filters from a request model (whose keys are typed as a Literal of FILTER_KEYS)."""
    return {str(key): list(values) for key, values in given.items()} if given else None
Metadata = Mapping[str, str]


class VectorIndex(ABC):
    """Unit vectors by chunk id, searched by cosine similarity."""

    # False: the vectors live in this process only (the records in SQLite outlive them)
    persistent: bool = True

    @abstractmethod
    def upsert(self, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[Metadata]) -> None:
        """Add or replace one vector (and its filter fields) per id."""

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> None:
        """Remove these ids; unknown ids are ignored."""

    @abstractmethod
    def query(self, vector: np.ndarray, k: int,
              filters: Filters | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest ids that match ``filters``, as (id, cosine similarity), best
        first."""

    @abstractmethod
    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those ids that exist."""

    @abstractmethod
    def ids(self) -> set[str]:
        """Every id in the index (the store reconciles them with its records)."""

    @abstractmethod
    def count(self) -> int:
        """How many vectors the index holds."""


def _matches(meta: Metadata, filters: Filters | None) -> bool:
    if not filters:
        return True
    return all(meta.get(key) in values for key, values in filters.items()
               if key in FILTER_KEYS and values)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class MemoryIndex(VectorIndex):
    """Exact cosine search over a numpy matrix, in this process. Unit tests use it; so can a
    throwaway index. Every ``IndexStore`` opened on the same folder in one process shares it
    (``open_vector_index`` keeps one per index), as they would share an embedded Chroma."""

    persistent = False

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._meta: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def upsert(self, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[Metadata]) -> None:
        if not (len(ids) == len(vectors) == len(metadatas)):
            raise ValueError("one vector and one metadata per id expected")
        if not len(ids):
            return
        unit = _unit(vectors)
        with self._lock:
            if self._matrix.shape[0] == 0:
                self._matrix = np.zeros((0, unit.shape[1]), dtype=np.float32)
            new = [i for i in dict.fromkeys(ids) if i not in self._row]
            if new:
                self._matrix = np.vstack(
                    [self._matrix, np.zeros((len(new), unit.shape[1]), np.float32)])
                for chunk_id in new:
                    self._row[chunk_id] = len(self._ids)
                    self._ids.append(chunk_id)
                    self._meta.append({})
            for chunk_id, vector, meta in zip(ids, unit, metadatas, strict=True):
                row = self._row[chunk_id]
                self._matrix[row] = vector
                self._meta[row] = dict(meta)

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            gone = {i for i in ids if i in self._row}
            if not gone:
                return
            keep = [r for r, i in enumerate(self._ids) if i not in gone]
            self._matrix = self._matrix[keep]
            self._ids = [self._ids[r] for r in keep]
            self._meta = [self._meta[r] for r in keep]
            self._row = {i: r for r, i in enumerate(self._ids)}

    def query(self, vector: np.ndarray, k: int,
              filters: Filters | None = None) -> list[tuple[str, float]]:
        with self._lock:
            if not self._ids or k <= 0:
                return []
            rows = [r for r, meta in enumerate(self._meta) if _matches(meta, filters)]
            if not rows:
                return []
            scores = self._matrix[rows] @ _unit(vector)[0]
            best = np.argsort(-scores, kind="stable")[:k]
            return [(self._ids[rows[b]], float(scores[b])) for b in best]

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            return {i: self._matrix[self._row[i]].copy() for i in ids if i in self._row}

    def ids(self) -> set[str]:
        with self._lock:
            return set(self._ids)

    def count(self) -> int:
        return len(self._ids)


class ChromaIndex(VectorIndex):
    """A chromadb collection (cosine space, ``embedding_function=None``: vectors come from the
    project). Opened on first use, so commands that need no vectors never import chromadb."""

    BATCH = 2000  # chromadb's limit per call is about 5k

    def __init__(self, name: str, metadata: Metadata, path: Path | None = None,
                 host: str | None = None, port: int = 8000) -> None:
        if (path is None) == (host is None):
            raise ValueError(f"give a path (embedded) or a host (server), not path={path!r} "
                             f"and host={host!r}")
        self.name = name
        self.metadata = dict(metadata)
        self.path, self.host, self.port = path, host, port
        self._collection: Any = None
        self._lock = threading.Lock()

    @property
    def collection(self) -> Any:
        if self._collection is None:
            with self._lock:
                if self._collection is None:
                    self._collection = self._client().get_or_create_collection(
                        name=self.name, configuration={"hnsw": {"space": "cosine"}},
                        metadata=self.metadata, embedding_function=None)
        return self._collection

    def _client(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self.host is None:
            return chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)
        try:
            return chromadb.HttpClient(host=self.host, port=self.port, settings=chroma_settings)
        except Exception as exc:  # noqa: BLE001 - chromadb raises bare Exceptions here
            raise ConfigError(
                f"cannot reach the Chroma server at {self.host}:{self.port} ({exc}); start it "
                "with `chroma run` or unset CLINCITE_CHROMA_HOST"
            ) from exc

    def upsert(self, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[Metadata]) -> None:
        for i in range(0, len(ids), self.BATCH):
            self.collection.upsert(
                ids=list(ids[i : i + self.BATCH]),
                embeddings=np.asarray(vectors[i : i + self.BATCH], dtype=np.float32),
                metadatas=[dict(m) for m in metadatas[i : i + self.BATCH]])

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), self.BATCH):
            self.collection.delete(ids=list(ids[i : i + self.BATCH]))

    def query(self, vector: np.ndarray, k: int,
              filters: Filters | None = None) -> list[tuple[str, float]]:
        n = self.collection.count()
        if n == 0 or k <= 0:
            return []
        result = self.collection.query(query_embeddings=[np.asarray(vector, np.float32)],
                                       n_results=min(k, n), where=_chroma_where(filters),
                                       include=["distances"])
        # cosine space: distance = 1 - cosine similarity
        return [(i, 1.0 - float(d)) for i, d in
                zip(result["ids"][0], result["distances"][0], strict=True)]

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in
                zip(got["ids"], got["embeddings"], strict=True)}

    def ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def count(self) -> int:
        return int(self.collection.count())


def _chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    if not filters:
        return None
    clauses = [{key: {"$in": list(values)}} for key, values in filters.items()
               if key in FILTER_KEYS and values]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


# -- the registry: CLINCITE_STORE__BACKEND -> factory(settings, index folder, name, metadata) --

VectorIndexFactory = Callable[[Settings, Path, str, Metadata], VectorIndex]
_memory_indexes: dict[tuple[str, str], MemoryIndex] = {}
_memory_lock = threading.Lock()


def _chroma(settings: Settings, folder: Path, name: str, meta: Metadata) -> VectorIndex:
    return ChromaIndex(name, meta, path=folder / "chroma")


def _chroma_server(settings: Settings, folder: Path, name: str, meta: Metadata) -> VectorIndex:
    if not settings.chroma_host:
        raise ConfigError("CLINCITE_STORE__BACKEND=chroma-server needs CLINCITE_CHROMA_HOST "
                          "(and CLINCITE_CHROMA_PORT if not 8000)")
    index = ChromaIndex(name, meta, host=settings.chroma_host, port=settings.chroma_port)
    index.collection  # noqa: B018 - a remote server is checked at once: fail early
    return index


def _memory(settings: Settings, folder: Path, name: str, meta: Metadata) -> VectorIndex:
    with _memory_lock:
        return _memory_indexes.setdefault((str(folder.resolve()), name), MemoryIndex())


VECTOR_INDEXES: dict[str, VectorIndexFactory] = {
    "chroma": _chroma,
    "chroma-server": _chroma_server,
    "memory": _memory,
}


def open_vector_index(settings: Settings, folder: Path, name: str,
                      metadata: Metadata) -> VectorIndex:
    """The vector index ``settings`` choose for the index ``name`` kept in ``folder``."""
    backend = settings.vector_backend()
    if backend not in VECTOR_INDEXES:
        raise ConfigError(f"CLINCITE_STORE__BACKEND={backend!r} is not a vector store: use "
                          f"{', '.join(VECTOR_INDEXES)}")
    return VECTOR_INDEXES[backend](settings, folder, name, metadata)
