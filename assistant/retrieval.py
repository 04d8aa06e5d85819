"""Hybrid retrieval: dense (EmbeddingGemma query prompt) + BM25, fused.

Plain rank fusion of BM25 with the dense ranking hurt cross-lingual questions (BM25 is noise
when question and passage are in different languages), while exact terms (trial names like
ALTER-S004, drug names, numbers) need keywords. The "guarded" fusion therefore lets BM25 help
only where it can: the cosine ranks, BM25 adds a small normalised bonus that breaks near-ties;
across languages only language-independent exact terms (identifiers, numbers, acronyms) count,
and in-language BM25 may reorder passages only within the places its language already holds.
The fusion and its weights are settings, chosen with the eval harness (bench/fusion_sweep.py,
results in bench/results/fusion_sweep.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ingest.keywords import ANCHOR_RE, anchor_terms, tokenize  # noqa: F401 - re-exported
from ingest.store import Filters, IndexStore
from ingest.text import detect_language

from .config import Settings
from .errors import BadQuestionError
from .models import Embedder
from .types import RetrievedChunk


def rrf(rankings: Sequence[tuple[Sequence[RetrievedChunk], float, str]], k: int
        ) -> list[tuple[str, float]]:
    """Weighted reciprocal-rank fusion: sum of weight / (k + rank) over the rankings
    (each given as ``(ranking, weight, name)``)."""
    scores: dict[str, float] = {}
    for ranking, weight, _name in rankings:
        for rank, chunk in enumerate(ranking, start=1):
            scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def score_fusion(rankings: Sequence[tuple[Sequence[RetrievedChunk], float, str]],
                 pool: dict[str, RetrievedChunk]) -> list[tuple[str, float]]:
    """Cosine similarity plus, per keyword ranking, weight x BM25 / best BM25 in that ranking."""
    scores = {cid: (c.dense_score or 0.0) for cid, c in pool.items()}
    for ranking, weight, name in rankings:
        if name == "dense" or not ranking:
            continue
        top = max(c.keyword_score or 0.0 for c in ranking) or 1.0
        for c in ranking:
            scores[c.chunk_id] += weight * (c.keyword_score or 0.0) / top
    return sorted(scores.items(), key=lambda kv: -kv[1])


def language_slots(base: Sequence[RetrievedChunk], fused: Sequence[tuple[str, float]],
                   pool: dict[str, RetrievedChunk]) -> list[tuple[str, float]]:
    """Keep the base ranking's language at every position; within each language, order the
    passages by fused score. In-language BM25 can then reorder (and bring in) passages of a
    language, but never give a language more places than the base ranking did."""
    by_lang: dict[str, list[tuple[str, float]]] = {}
    for chunk_id, score in fused:
        by_lang.setdefault(pool[chunk_id].language, []).append((chunk_id, score))
    out: list[tuple[str, float]] = []
    for chunk in base:
        queue = by_lang.get(chunk.language)
        if queue:
            out.append(queue.pop(0))
    for queue in by_lang.values():  # candidates beyond the dense list, best fused first
        out.extend(queue)
    return out


_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _search_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="clincite-search")
        return _pool


MAX_K = 50  # the most passages one question may ask for (the settings allow the same)


def check_k(k: int | None) -> None:
    """``k`` passages: None for the setting, else 1..MAX_K. 0 and negatives are mistakes, not
    "the default" (``k or default``) or "all but the last" (a slice by -1)."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, int)
                          or not 1 <= k <= MAX_K):
        raise BadQuestionError(f"k={k!r} passages is not possible: give a whole number from 1 "
                               f"to {MAX_K} (or leave it out for CLINCITE_RETRIEVAL__K)")


class Retriever:
    def __init__(self, settings: Settings, embedder: Embedder, store: IndexStore) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.last_query: tuple[str, np.ndarray] | None = None

    def retrieve(self, question: str, filters: Filters | None = None,
                 extra_queries: Sequence[str] = (), k: int | None = None,
                 timings: dict[str, float] | None = None) -> list[RetrievedChunk]:
        cfg = self.settings.retrieval
        check_k(k)
        k = cfg.k if k is None else k
        timings = timings if timings is not None else {}
        queries = [question, *extra_queries]

        # Keyword search (SQLite FTS5, native code) needs no vector: it runs in a worker
        # thread while the question is embedded, then the vector search (chromadb) runs.
        keyword_job = (_search_pool().submit(self._keyword_rankings, queries, filters)
                       if cfg.fusion != "dense" else None)
        t0 = time.perf_counter()
        vectors = self.embedder.embed(queries, kind="query") if cfg.fusion != "keyword" else None
        timings["embed_query_s"] = time.perf_counter() - t0
        if vectors is not None:
            self.last_query = (question, vectors[0])  # the answer step scores sentences by it

        t_search = time.perf_counter()
        dense_rankings: list[tuple[list[RetrievedChunk], float, str]] = []
        timings["dense_s"] = 0.0
        if vectors is not None:
            dense_rankings, timings["dense_s"] = self._dense_rankings(vectors, cfg.fetch_k,
                                                                      filters)
        keyword_rankings, timings["keyword_s"] = keyword_job.result() if keyword_job \
            else ([], 0.0)
        # what the searches add after the embedding (the keyword search overlaps it)
        timings["search_s"] = time.perf_counter() - t_search
        rankings = dense_rankings + keyword_rankings
        pool: dict[str, RetrievedChunk] = {}
        for ranking, _weight, _name in rankings:
            for c in ranking:
                pool.setdefault(c.chunk_id, c)

        t0 = time.perf_counter()
        if cfg.fusion == "guarded" and vectors is not None:
            # Cosine decides; BM25 adds a small bonus that breaks near-ties. Exact terms may
            # move passages across languages; in-language BM25 may only reorder passages
            # within the places its language already holds.
            self._fill_dense_scores(list(pool.values()), vectors[0])
            base = score_fusion([r for r in rankings if r[2] != "same_language"], pool)
            fused = language_slots([pool[i] for i, _ in base], score_fusion(rankings, pool),
                                   pool)
        else:
            fused = rrf(rankings, cfg.rrf_k)
        chosen = [pool[chunk_id].model_copy(update={"score": score})
                  for chunk_id, score in fused[:k]]
        if vectors is not None:
            self._fill_dense_scores(chosen, vectors[0])
        timings["fusion_s"] = time.perf_counter() - t0
        return chosen

    def _dense_rankings(self, vectors: np.ndarray, fetch_k: int, filters: Filters | None
                        ) -> tuple[list[tuple[list[RetrievedChunk], float, str]], float]:
        t0 = time.perf_counter()
        out = [(self.store.dense_search(vec, fetch_k, filters), 1.0, "dense") for vec in vectors]
        return out, time.perf_counter() - t0

    def _keyword_rankings(self, queries: Sequence[str], filters: Filters | None
                          ) -> tuple[list[tuple[list[RetrievedChunk], float, str]], float]:
        t0 = time.perf_counter()
        cfg = self.settings.retrieval
        rankings: list[tuple[list[RetrievedChunk], float, str]] = []
        for q in queries:
            tokens = tokenize(q)
            if cfg.fusion == "guarded":
                lang = detect_language(q)
                same = dict(filters or {})
                if same.get("language") and lang not in same["language"]:
                    same_hits: list[RetrievedChunk] = []
                else:
                    same["language"] = [lang]
                    same_hits = self.store.keyword_search(tokens, cfg.fetch_k, same)
                anchors = anchor_terms(q, tokens)
                anchor_hits = (self.store.keyword_search(anchors, cfg.fetch_k, filters)
                               if anchors else [])
                rankings.append((same_hits, cfg.keyword_weight, "same_language"))
                rankings.append((anchor_hits, cfg.anchor_weight, "anchor"))
            else:
                hits = self.store.keyword_search(tokens, cfg.fetch_k, filters)
                rankings.append((hits, 1.0 if cfg.fusion == "keyword" else
                                 cfg.keyword_weight, "keyword"))
        return rankings, time.perf_counter() - t0

    def _fill_dense_scores(self, chunks: list[RetrievedChunk], query: np.ndarray) -> None:
        """Keyword-only hits get their cosine too: the out-of-scope check needs it."""
        missing = [c.chunk_id for c in chunks if c.dense_score is None]
        if not missing:
            return
        vectors = self.store.chunk_vectors(missing)
        for c in chunks:
            if c.dense_score is None and c.chunk_id in vectors:
                c.dense_score = float(np.dot(vectors[c.chunk_id], query))
