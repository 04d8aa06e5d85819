"""The setup a user would build instead, runnable by the same harness.

One LangChain Document per raw file (no cleaning), RecursiveCharacterTextSplitter(1000, 200,
default separators), Chroma through langchain-chroma, the same embedder and LLM, a plain
"answer from the context and cite [n]" prompt, LangChain's default k=4, and no checking.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser

from assistant.citations import is_refusal
from assistant.config import Settings
from assistant.models import Embedder
from assistant.types import RetrievedChunk
from ingest.loaders import SKIP_NAMES, SUPPORTED
from ingest.text import detect_language

BASELINE_PROMPT = """Answer the question using only the context below. Cite the sources you \
use as [n].

Context:
{context}

Question: {question}
Answer:"""


class LangChainEmbeddings(Embeddings):
    """Our embedder as LangChain's Embeddings; raw chunks get the model's default prompt."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(texts, kind="document_untitled").tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text], kind="query")[0].tolist()


class BaselineSystem:
    name = "baseline"

    def __init__(self, settings: Settings, embedder: Embedder, llm: Any, corpus: Path,
                 k: int = 4, id_map: dict[str, str] | None = None) -> None:
        from langchain_chroma import Chroma

        self.llm = llm
        self.id_map = id_map or {}  # file name -> the harness's doc id, where they differ
        self.k = k
        self.raw: dict[str, str] = {}
        files = sorted(p for p in corpus.iterdir() if p.is_file() and
                       p.suffix.lower() in SUPPORTED and p.name not in SKIP_NAMES)
        for f in files:
            self.raw[f.name] = f.read_text(encoding="utf-8", errors="replace")
        digest = hashlib.sha256(("|".join(f"{n}:{len(t)}" for n, t in self.raw.items()) +
                                 embedder.name).encode()).hexdigest()[:10]
        self.store = Chroma(collection_name=f"baseline-{digest}",
                            embedding_function=LangChainEmbeddings(embedder),
                            persist_directory=str(settings.data_dir / "eval" / "baseline"),
                            collection_metadata={"hnsw:space": "cosine"})
        self.ingest_seconds = 0.0
        if not self.store.get(limit=1)["ids"]:
            self._ingest()

    def _ingest(self) -> None:
        from langchain_core.documents import Document as LCDocument
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        t0 = time.perf_counter()
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
                                                  add_start_index=True)
        docs = [LCDocument(page_content=t, metadata={"source": n}) for n, t in self.raw.items()]
        chunks = splitter.split_documents(docs)
        ids = [f"{c.metadata['source']}:{c.metadata['start_index']}" for c in chunks]
        self.store.add_documents(chunks, ids=ids)
        self.ingest_seconds = time.perf_counter() - t0

    def doc_text(self, doc_id: str) -> str | None:
        back = {v: k for k, v in self.id_map.items()}
        return self.raw.get(back.get(doc_id, doc_id))

    def retrieve(self, question: str, k: int) -> list[RetrievedChunk]:
        hits = self.store.similarity_search_with_score(question, k=k)
        out = []
        for doc, distance in hits:
            start = int(doc.metadata.get("start_index", 0))
            source = doc.metadata["source"]
            out.append(RetrievedChunk(
                chunk_id=f"{source}:{start}", doc_id=self.id_map.get(source, source),
                title=source, text=doc.page_content,
                start=start, end=start + len(doc.page_content),
                language=detect_language(doc.page_content), score=1.0 - float(distance),
                dense_score=1.0 - float(distance)))
        return out

    def answer(self, question: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        passages = self.retrieve(question, self.k)
        context = "\n\n".join(f"[{i}] {p.text}" for i, p in enumerate(passages, 1))
        pieces: list[str] = []
        first_token_s = None
        for token in (self.llm | StrOutputParser()).stream(
                [HumanMessage(BASELINE_PROMPT.format(context=context, question=question))]):
            if first_token_s is None:
                first_token_s = time.perf_counter() - t0
            pieces.append(token)
        text = "".join(pieces)
        return {"text": text.strip(), "abstained": is_refusal(text), "retrieved": passages,
                "cited": {i: p for i, p in enumerate(passages, 1)},
                "model_input": context,
                "latency_s": time.perf_counter() - t0, "first_token_s": first_token_s,
                "citations": []}
