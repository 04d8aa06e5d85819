"""The on-disk sentence-vector cache: sentences embedded at ingest are never embedded again,
vectors are per embedder, and the pipeline warms the cache for new passages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from assistant.models import HashingEmbedder
from ingest.sentence_vectors import SentenceVectors, chunk_sentences, open_sentence_vectors


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder (stands in for EmbeddingGemma) that records every text it embeds."""

    def __init__(self, dim: int = 64, name: str | None = None) -> None:
        super().__init__(dim)
        if name:
            self.name = name
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str], *, kind: str) -> np.ndarray:
        if kind == "document_untitled":  # sentences (passages and queries are not recorded)
            self.seen.extend(texts)
        return super().embed(texts, kind=kind)


def test_sentences_are_those_the_checker_sees():
    assert chunk_sentences("骨肉瘤约占35%。软骨肉瘤约占30%。\n\nORR was 28%. PFS 6 months.") == [
        "骨肉瘤约占35%。", "软骨肉瘤约占30%。", "ORR was 28%.", "PFS 6 months."]


def test_vectors_persist_and_are_not_embedded_twice(tmp_path):
    first = CountingEmbedder()
    cache = open_sentence_vectors(first, tmp_path)
    a = cache.vectors(["ORR was 28%.", "PFS 6 months."])
    cache.close()
    assert first.seen == ["ORR was 28%.", "PFS 6 months."]

    again = CountingEmbedder()
    cache = open_sentence_vectors(again, tmp_path)
    b = cache.vectors(["PFS 6 months.", "ORR was 28%.", "OS 12 months."])
    assert again.seen == ["OS 12 months."]  # only the new sentence
    np.testing.assert_allclose(b[0], a[1])
    np.testing.assert_allclose(b[1], a[0])


def test_another_embedder_never_reads_these_vectors(tmp_path):
    cache = open_sentence_vectors(CountingEmbedder(name="model-a"), tmp_path)
    cache.vectors(["ORR was 28%."])
    cache.close()
    other = CountingEmbedder(name="model-b")
    open_sentence_vectors(other, tmp_path).vectors(["ORR was 28%."])
    assert other.seen == ["ORR was 28%."]


def test_warm_embeds_only_new_sentences(tmp_path):
    from assistant.types import Chunk

    def chunk(text: str, n: int) -> Chunk:
        return Chunk(chunk_id=f"c{n}", doc_id="d", text=text, start=0, end=len(text),
                     language="en", title="t")

    emb = CountingEmbedder()
    cache = SentenceVectors(emb, tmp_path / "v.sqlite3")
    assert cache.warm([chunk("ORR was 28%. PFS 6 months.", 1)]) == 2
    assert cache.warm([chunk("PFS 6 months. OS 12 months.", 2)]) == 1
    assert emb.seen == ["ORR was 28%.", "PFS 6 months.", "OS 12 months."]


@pytest.mark.parametrize("at_ingest", [True, False])
def test_ingest_embeds_sentences_only_when_set(settings, corpus, at_ingest: bool) -> None:
    from assistant import Assistant
    from assistant.testing import ScriptedChatModel

    s = settings.model_copy(update={"answer": settings.answer.model_copy(
        update={"embed_sentences_at_ingest": at_ingest})})
    emb = CountingEmbedder()
    bot = Assistant(s, embedder=emb, llm=ScriptedChatModel())
    bot.ingest([corpus])
    assert bool(emb.seen) is at_ingest
    if at_ingest:  # one of the review's sentences, as the checker will see it
        assert any("ORR为28.57%" in t for t in emb.seen)
