"""ClinCite's retrieval as a LangChain ``BaseRetriever``, for use in other people's chains.

``Assistant.as_retriever()`` returns one. Each ``Document`` is a passage of an indexed document:
``page_content`` is the passage text, ``id`` its stable chunk id, and ``metadata`` says where it
comes from: ``doc_id``, ``title``, ``chunk_id``, ``start``/``end`` (offsets in the document's
text), ``page`` (PDFs; else None), ``language``, ``kind`` and ``score``.

Only retrieval is handed over: an answer written by another chain from these passages is not
checked against them (``Assistant.ask`` is what checks).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from ingest.store import Filters

from .injection import neutralise
from .types import RetrievedChunk


@runtime_checkable
class Retrieves(Protocol):
    """What the retriever needs of its assistant (``assistant.api.Assistant`` is one). A
    protocol rather than the class: ``api`` builds this adapter, so importing ``api`` here
    would make a cycle."""

    def retrieve(self, question: str, filters: Filters | None = None,
                 k: int | None = None) -> list[RetrievedChunk]: ...


def chunk_to_document(chunk: RetrievedChunk) -> Document:
    return Document(
        id=chunk.chunk_id,
        page_content=neutralise(chunk.text),  # never hand an instruction on as content
        metadata={"doc_id": chunk.doc_id, "title": chunk.title, "chunk_id": chunk.chunk_id,
                  "start": chunk.start, "end": chunk.end, "page": chunk.page,
                  "language": chunk.language, "kind": chunk.kind, "heading": chunk.heading,
                  "score": chunk.score},
    )


class ClinCiteRetriever(BaseRetriever):
    """Hybrid (dense + BM25) retrieval over ClinCite's index, as LangChain ``Document``s.

    >>> retriever = assistant.as_retriever(k=4, filters={"language": ["en"]})  # doctest: +SKIP
    >>> [d.metadata["doc_id"] for d in retriever.invoke("SBRT osteosarcoma")]  # doctest: +SKIP
    """

    assistant: Retrieves
    k: int | None = None  # passages per query (default: settings.retrieval.k)
    filters: Filters | None = None  # {"doc_id": [...], "language": ["zh"], "kind": [...]}

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        chunks = self.assistant.retrieve(query, filters=self.filters, k=self.k)
        return [chunk_to_document(c) for c in chunks]
