"""The Python API.

>>> from assistant import Assistant, Settings
>>> bot = Assistant(Settings())                                  # doctest: +SKIP
>>> bot.ingest(["sample_corpus"]).summary()                      # doctest: +SKIP
>>> a = bot.ask("What share of breast-cancer bone metastases are osteolytic?")  # doctest: +SKIP
>>> a.text, a.abstained, [(c.n, c.doc_id, c.quote) for c in a.citations]      # doctest: +SKIP
>>> for event in bot.stream("ALTER-S004的ORR是多少?"):             # doctest: +SKIP
...     print(event.text if event.kind == "token" else "", end="")

Models load on first use and are shared by every Assistant in the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.pipeline import ingest_paths
from ingest.store import Filters, IndexStore

from .chain import AnswerChain, History, check_k
from .config import Settings
from .errors import DocumentNotFoundError
from .models import Embedder, LazyEmbedder, load_chat_model
from .retrieval import Retriever
from .types import Answer, IngestReport, RetrievedChunk, StreamEvent

if TYPE_CHECKING:
    from .lc_retriever import ClinCiteRetriever


class Assistant:
    """Ask questions of the indexed documents; every answer comes back checked and cited."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 llm: Any = None, store: IndexStore | None = None) -> None:
        self.settings = settings or Settings()
        self.embedder = embedder or LazyEmbedder(self.settings)
        self.store = store or IndexStore(self.settings, self.embedder.name)
        self._llm = llm
        self._lock = threading.Lock()
        self.retriever = Retriever(self.settings, self.embedder, self.store)
        self.chain = AnswerChain(self.settings, self.embedder, self.retriever, self._get_llm)

    @classmethod
    def from_settings(cls, settings: Settings) -> Assistant:
        return cls(settings)

    def warm_up(self) -> None:
        """Load both models now (servers do this before listening: the first question is then
        as fast as any other, and concurrent first questions cannot load a model twice)."""
        self.embedder.embed(["warm-up"], kind="query")
        self.chat_model()

    def chat_model(self) -> Any:
        """The chat model this assistant answers with, loaded on first call (the eval's
        baseline answers with the same one)."""
        return self._get_llm()

    def _get_llm(self) -> Any:
        with self._lock:
            if self._llm is None:
                self._llm = load_chat_model(self.settings)
            return self._llm

    def ask(self, question: str, history: History = None, filters: Filters | None = None,
            k: int | None = None) -> Answer:
        """Answer ``question`` (optionally a follow-up in ``history``) from the documents.

        ``filters``: ``{"doc_id": [...], "language": ["zh"], "kind": [...]}``; ``k``: passages
        given to the LLM (default ``settings.retrieval.k``)."""
        self.store.require_nonempty()
        return self.chain.invoke(question, history, filters, k)

    def stream(self, question: str, history: History = None, filters: Filters | None = None,
               k: int | None = None) -> Iterator[StreamEvent]:
        """Yield status and token events, then one ``answer`` event with the checked Answer."""
        self.store.require_nonempty()
        yield from self.chain.stream(question, history, filters, k)

    def retrieve(self, question: str, filters: Filters | None = None,
                 k: int | None = None) -> list[RetrievedChunk]:
        check_k(k)
        self.store.require_nonempty()
        return self.retriever.retrieve(question, filters, k=k)

    def as_retriever(self, k: int | None = None,
                     filters: Filters | None = None) -> ClinCiteRetriever:
        """This assistant's retrieval as a LangChain ``BaseRetriever``: ``Document``s with
        ``doc_id``, ``title``, ``start``/``end``, ``page`` and ``score`` in their metadata."""
        from .lc_retriever import ClinCiteRetriever

        return ClinCiteRetriever(assistant=self, k=k, filters=filters)

    def ingest(self, paths: Sequence[str | Path], sync: bool = False,
               progress: Any = None) -> IngestReport:
        return ingest_paths([Path(p) for p in paths], self.settings, self.embedder, self.store,
                            sync=sync, progress=progress)

    def documents(self) -> list[dict[str, Any]]:
        return self.store.documents()

    def remove_document(self, doc_id: str) -> int:
        """Take a document out of the index; returns how many passages went with it."""
        with self.store.write_lock():
            if self.store.document_hash(doc_id) is None:
                raise DocumentNotFoundError(f"no document '{doc_id}' in the index; list the "
                                            "indexed ones with `clincite docs` (HTTP: GET "
                                            "/v1/documents)")
            return self.store.remove_document(doc_id)
