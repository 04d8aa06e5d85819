"""Typed objects that cross stage boundaries: ingest -> store -> retrieval -> answer -> eval."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field, model_validator

Language = Literal["zh", "en"]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Where pages begin in a document's text: ``(offset, page number)`` pairs, offsets ascending,
# page numbers 1-based as a PDF viewer counts them (the physical page, not a printed label).
PageStarts = list[tuple[int, int]]


def page_at(page_starts: Sequence[tuple[int, int]], offset: int) -> int | None:
    """The page holding character ``offset`` of a document; None where pages are not known."""
    if not page_starts:
        return None
    i = bisect_right([start for start, _ in page_starts], offset) - 1
    return page_starts[max(i, 0)][1]


class Document(BaseModel):
    """A cleaned document. ``text`` is what chunks' offsets point into."""

    doc_id: str
    title: str
    text: str
    language: Language
    kind: str = "document"
    source: str = ""  # path or URL it was loaded from
    source_root: str = ""  # the folder it was ingested from (for --sync)
    removed_chars: int = 0  # characters of web chrome / personal data removed by cleaning
    page_starts: PageStarts = Field(default_factory=list)  # PDFs only (see page_at)

    @property
    def content_hash(self) -> str:
        # Title, language and kind are embedded with the text, so they are part of the hash.
        return sha256_text("\x1f".join([self.title, self.language, self.kind, self.text]))


class Chunk(BaseModel):
    """A passage of a document: ``document.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    title: str
    heading: str = ""
    language: Language
    kind: str = "document"

    @model_validator(mode="after")
    def _span_matches(self) -> Chunk:
        if self.end - self.start != len(self.text):
            raise ValueError("chunk span length does not match its text")
        return self

    @staticmethod
    def make_id(doc_id: str, start: int, end: int, text: str) -> str:
        """Stable id: the same passage of the same document always gets the same id."""
        raw = f"{doc_id}\x1f{start}\x1f{end}\x1f{sha256_text(text)}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    def embedding_text(self) -> str:
        """What the embedder sees: EmbeddingGemma's titled-document format.

        A passage embedded with its title (and heading) is found far more often; a bare
        "43 participants in 1 patient group" is unreachable without it.
        """
        title = self.title if not self.heading else f"{self.title} - {self.heading}"
        return f"title: {title} | text: {self.text}"


class RetrievedChunk(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    language: Language
    kind: str = "document"
    heading: str = ""
    score: float = 0.0  # fused score (higher is better)
    dense_score: float | None = None  # cosine similarity
    keyword_score: float | None = None  # BM25 (higher is better)
    page: int | None = None  # PDF page where the chunk starts
    page_breaks: PageStarts = Field(default_factory=list)  # pages that begin inside the chunk

    def page_at(self, offset: int) -> int | None:
        """The page of document offset ``offset`` (within this chunk)."""
        if self.page is None:
            return None
        return page_at([(self.start, self.page), *self.page_breaks], offset)


class Citation(BaseModel):
    n: int  # the marker number in Answer.text
    doc_id: str
    title: str
    chunk_id: str
    start: int  # offsets of the chunk in its document
    end: int
    quote: str  # the passage sentence(s) that support the claim
    quote_start: int  # offsets of the quote in its document
    quote_end: int
    language: Language
    kind: str = "document"
    page: int | None = None  # PDF page of the quote's first character


class SentenceCheck(BaseModel):
    """What the checker decided for one sentence of the model's draft."""

    text: str
    supported: bool
    cited: list[int] = Field(default_factory=list)  # passage numbers the model cited
    supporting: list[int] = Field(default_factory=list)  # passage numbers that support it
    numbers: list[str] = Field(default_factory=list)
    missing_numbers: list[str] = Field(default_factory=list)
    action: Literal["kept", "repointed", "added", "dropped", "marked", "neutral"] = "kept"


class Answer(BaseModel):
    question: str
    standalone_question: str
    text: str
    language: Language
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[RetrievedChunk] = Field(default_factory=list)
    checks: list[SentenceCheck] = Field(default_factory=list)
    draft: str = ""  # the model's raw answer before checking
    timings: dict[str, float] = Field(default_factory=dict)
    settings_hash: str = ""
    prompt_hash: str = ""
    abstain_reason: str = ""
    model_input: str = ""  # the passages text the model read (evidence windows)
    partial: bool = False  # a part of a multi-part question was not found (said in the text)
    missing: list[str] = Field(default_factory=list)  # measures asked but not found
    quoted: int = 0  # sentences answered by quoting the source verbatim
    # a yes/no question's decision (yes / no / maybe), only where the reasoning was supported
    decision: str | None = None


class StreamEvent(BaseModel):
    """What ``Assistant.stream`` yields: status lines, checked text (each piece shown only
    after it passed the checker; the raw draft is never streamed), then the Answer."""

    kind: Literal["status", "text", "answer"]
    text: str = ""
    answer: Answer | None = None


class DocumentResult(BaseModel):
    path: str
    doc_id: str = ""
    status: Literal["added", "updated", "skipped", "removed", "failed"]
    chunks: int = 0
    error: str = ""


class IngestReport(BaseModel):
    results: list[DocumentResult] = Field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    sentence_seconds: float = 0.0  # embedding passage sentences for the answer step

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results if r.status in ("added", "updated"))

    @property
    def failed(self) -> list[DocumentResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        rate = self.chunks / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.count('added')} added, {self.count('updated')} updated, "
            f"{self.count('skipped')} skipped, {self.count('removed')} removed, "
            f"{self.count('failed')} failed; {self.chunks} chunks in {self.seconds:.1f} s "
            f"({rate:.1f} chunks/s)"
        )
