"""Idempotent ingestion: files -> Documents -> Chunks -> vectors -> IndexStore.

Unchanged documents (same content hash) are skipped without embedding; changed ones are
replaced; with ``sync`` documents gone from a source folder are removed. Every file that fails
is reported with a one-line reason while the others are still ingested.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.models import Embedder
from assistant.types import Chunk, Document, DocumentResult, IngestReport

from .chunking import chunk_document
from .loaders import ManifestEntry, discover, load_document, read_manifest
from .sentence_vectors import open_sentence_vectors
from .store import IndexStore

# Embed and write in groups of about this many chunks, so an interrupted ingest keeps the
# documents it finished and memory stays flat on large corpora. The embedder sorts each group
# by length before batching, so larger groups pad less (bench/results/performance.md).
GROUP_CHUNKS = 256

Progress = Callable[[int, int], None]


def ingest_documents(
    docs: Sequence[Document],
    settings: Settings,
    embedder: Embedder,
    store: IndexStore,
    *,
    report: IngestReport | None = None,
    progress: Progress | None = None,
    sentence_vectors: bool = True,
) -> IngestReport:
    """Index already-loaded documents (skipping unchanged ones). Caller holds the write lock.
    ``sentence_vectors``: also embed each new passage's sentences for the answer step
    (ingest/sentence_vectors.py)."""
    started = time.perf_counter()
    own_report = report is None
    report = report or IngestReport()
    pending: list[tuple[Document, list[Chunk], str]] = []
    for doc in docs:
        old = store.document_hash(doc.doc_id)
        if old == doc.content_hash:
            if doc.page_starts and store.page_starts(doc.doc_id) != doc.page_starts:
                store.set_page_starts(doc.doc_id, doc.page_starts)  # indexed before pages were
            report.results.append(DocumentResult(path=doc.source, doc_id=doc.doc_id,
                                                 status="skipped"))
            continue
        chunks = chunk_document(doc, settings.chunking.size, settings.chunking.overlap)
        pending.append((doc, chunks, "added" if old is None else "updated"))

    total = sum(len(c) for _, c, _ in pending)
    done = 0
    if progress and total:
        progress(0, total)
    group: list[tuple[Document, list[Chunk], str]] = []
    sentences = (open_sentence_vectors(embedder, settings.data_dir)
                 if sentence_vectors and settings.answer.embed_sentences_at_ingest else None)

    def flush() -> None:
        nonlocal done
        texts = [c.embedding_text() for _, chunks, _ in group for c in chunks]
        t0 = time.perf_counter()
        vectors = embedder.embed_documents(texts) if texts else None
        report.embed_seconds += time.perf_counter() - t0
        offset = 0
        for doc, chunks, status in group:
            vecs = (vectors[offset : offset + len(chunks)] if vectors is not None
                    else np.zeros((0, 0), dtype=np.float32))
            offset += len(chunks)
            if sentences is not None:
                t0 = time.perf_counter()
                sentences.warm(chunks)
                report.sentence_seconds += time.perf_counter() - t0
            store.replace_document(doc, chunks, vecs)
            report.results.append(DocumentResult(path=doc.source, doc_id=doc.doc_id,
                                                 status=status, chunks=len(chunks)))
            done += len(chunks)
            if progress:
                progress(done, total)
        group.clear()

    for item in pending:
        group.append(item)
        if sum(len(c) for _, c, _ in group) >= GROUP_CHUNKS:
            flush()
    if group:
        flush()
    if sentences is not None:
        sentences.close()
    if own_report:
        report.seconds = time.perf_counter() - started
    return report


def ingest_paths(
    paths: Sequence[Path],
    settings: Settings,
    embedder: Embedder,
    store: IndexStore,
    *,
    sync: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files and folders. Never raises for a bad file: see ``report.failed``."""
    started = time.perf_counter()
    report = IngestReport()
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    manifests: dict[Path, dict[str, ManifestEntry]] = {}
    docs: list[Document] = []
    seen_by_root: dict[str, set[str]] = {}
    for path, doc_id, root in discover(list(paths)):
        if path.parent not in manifests:
            manifests[path.parent] = read_manifest(path.parent) if path.parent.is_dir() else {}
        seen_by_root.setdefault(root, set()).add(doc_id)
        try:
            docs.append(load_document(path, doc_id=doc_id, source_root=root,
                                      manifest=manifests[path.parent].get(path.name),
                                      max_bytes=max_bytes))
        except IngestError as exc:
            report.results.append(DocumentResult(path=str(path), doc_id=doc_id,
                                                 status="failed", error=exc.reason))
        except (OSError, ValueError, RecursionError, MemoryError) as exc:
            report.results.append(DocumentResult(
                path=str(path), doc_id=doc_id, status="failed",
                error=f"could not be read ({type(exc).__name__}: {exc}); check the file"))

    with store.write_lock():
        store.reconcile(force=False)
        ingest_documents(docs, settings, embedder, store, report=report, progress=progress)
        if sync:
            folder_roots = {str(p.resolve()) for p in paths if p.is_dir()}
            for record in store.documents():
                root = record["source_root"]
                if root in folder_roots and record["doc_id"] not in seen_by_root.get(root, set()):
                    store.remove_document(record["doc_id"])
                    report.results.append(DocumentResult(path=record["source"],
                                                         doc_id=record["doc_id"],
                                                         status="removed"))
    report.seconds = time.perf_counter() - started
    return report
