"""Retrieval latency at 1k, 10k and 100k chunks, split into its steps.

Embedding 100k real chunks would take hours on this machine, so the scale points use a
**synthetic** store: passages assembled from real sentences (sample corpus + PubMedQA contexts,
Chinese and English, so BM25 sees a realistic vocabulary and term frequencies) with **random
unit vectors** (768-d, like EmbeddingGemma; random vectors are a hard case for HNSW, so search
times are if anything pessimistic). Documents are written through ``IndexStore.replace_document``
(the real write path: chromadb + SQLite + FTS5). The store grows 1k -> 10k -> 100k and is
measured at each size. The real points are the sample corpus and the PubMedQA dev contexts,
embedded with EmbeddingGemma.

Queries are the gold questions (Chinese and English). The query embedding is the real model's;
for the synthetic stores the search uses that vector too. Each step is timed inside
``Retriever.retrieve``: query embedding, vector search (chromadb), keyword search (FTS5 BM25),
fusion (including fetching vectors of keyword-only hits). The keyword search runs in a worker
thread while the question is embedded, so "search + fusion" is what retrieval costs after the
embedding (vector search, any keyword time left, fusion), not the sum of the columns.

    python -m bench.retrieval_scale [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import ms, pct, write_json

STEPS = ("embed_query_s", "dense_s", "keyword_s", "fusion_s")
DOC_CHUNKS = 100


def sentence_pool(corpus: Path, pubmedqa: Path | None, limit: int = 200) -> list[tuple[str, str]]:
    """(language, sentence) pairs from real documents."""
    from ingest.loaders import discover, load_document
    from ingest.text import detect_language, split_sentences

    texts = [load_document(p, doc_id=d, source_root=r).text for p, d, r in discover([corpus])]
    if pubmedqa is not None and pubmedqa.is_file():
        from eval.dataset import load_pubmedqa

        texts += [d.text for d in load_pubmedqa(pubmedqa, limit)[0]]
    pool = []
    for text in texts:
        for s in split_sentences(text):
            sentence = text[s.start:s.end].strip()
            if len(sentence) >= 20:
                pool.append((detect_language(sentence), sentence))
    return pool


def synthetic_documents(pool: list[tuple[str, str]], start: int, n_chunks: int, seed: int):
    """Documents of DOC_CHUNKS passages, each 3-6 random same-language sentences."""
    from assistant.types import Chunk, Document

    rng = random.Random(seed)
    by_lang: dict[str, list[str]] = {}
    for lang, s in pool:
        by_lang.setdefault(lang, []).append(s)
    langs = sorted(by_lang)
    made = 0
    doc_no = start // DOC_CHUNKS
    while made < n_chunks:
        lang = rng.choice(langs)
        n = min(DOC_CHUNKS, n_chunks - made)
        passages = [" ".join(rng.sample(by_lang[lang], rng.randint(3, 6))) for _ in range(n)]
        text = "\n\n".join(passages)
        doc_id = f"synthetic/{doc_no:06d}.txt"
        doc = Document(doc_id=doc_id, title=f"Synthetic {doc_no}", text=text, language=lang,
                       kind="synthetic", source=doc_id, source_root="synthetic")
        chunks, pos = [], 0
        for p in passages:
            chunks.append(Chunk(chunk_id=Chunk.make_id(doc_id, pos, pos + len(p), p),
                                doc_id=doc_id, start=pos, end=pos + len(p), text=p,
                                title=doc.title, language=lang, kind="synthetic"))
            pos += len(p) + 2
        yield doc, chunks
        made += n
        doc_no += 1


def grow(store: Any, pool: list, current: int, target: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for doc, chunks in synthetic_documents(pool, current, target - current, seed):
        vectors = rng.standard_normal((len(chunks), 768)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.replace_document(doc, chunks, vectors)
    return time.perf_counter() - t0


def measure(retriever: Any, questions: list[str], repeat: int = 1) -> dict:
    times: dict[str, list[float]] = {s: [] for s in (*STEPS, "search_fusion_s", "total_s")}
    for q in questions[:8]:  # warm-up: caches, lazy imports, the first HNSW page-ins
        retriever.retrieve(q)
    for _ in range(repeat):
        for q in questions:
            t: dict[str, float] = {}
            t0 = time.perf_counter()
            retriever.retrieve(q, timings=t)
            total = time.perf_counter() - t0
            for s in STEPS:
                times[s].append(t[s])
            # what retrieval costs beyond the query embedding (keyword search overlaps it)
            times["search_fusion_s"].append(t["search_s"] + t["fusion_s"])
            times["total_s"].append(total)
    return {s: {"p50": pct(v, 50), "p95": pct(v, 95)} for s, v in times.items()}


def main(argv: list[str] | None = None) -> dict:
    from assistant.config import Settings
    from assistant.models import load_embedder
    from assistant.retrieval import Retriever
    from eval.dataset import load_gold, load_pubmedqa
    from ingest.pipeline import ingest_documents, ingest_paths
    from ingest.store import IndexStore

    parser = argparse.ArgumentParser(prog="clincite bench retrieval")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--gold", type=Path, default=Path("eval/gold/dev.jsonl"))
    parser.add_argument("--corpus", type=Path, default=Path("sample_corpus"))
    parser.add_argument("--pubmedqa", type=Path,
                        default=Path("../shared/pubmedqa/pqal_dev.json"))
    parser.add_argument("--repeat", type=int, default=2, help="passes over the questions")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="clincite-bench-"))
    base = Settings()
    questions = [g.question for g in load_gold(args.gold)]
    embedder = load_embedder(base)
    embedder.embed(questions[:2], kind="query")  # warm-up
    points: list[dict] = []

    # real points
    real = base.model_copy(update={"data_dir": work / "real-sample"})
    store = IndexStore(real, embedder.name)
    ingest_paths([args.corpus], real, embedder, store)
    points.append({"label": "sample corpus (real)", "chunks": store.count_chunks(),
                   **measure(Retriever(real, embedder, store), questions, args.repeat)})
    print(f"retrieval bench: {points[-1]['label']} done", file=sys.stderr, flush=True)
    if args.pubmedqa.is_file():
        pm = base.model_copy(update={"data_dir": work / "real-pubmedqa"})
        store = IndexStore(pm, embedder.name)
        docs, items = load_pubmedqa(args.pubmedqa)
        with store.write_lock():
            ingest_documents(docs, pm, embedder, store)
        pm_questions = [i.question for i in items[:64]]
        points.append({"label": "PubMedQA contexts (real)", "chunks": store.count_chunks(),
                       **measure(Retriever(pm, embedder, store), pm_questions, args.repeat)})
        print(f"retrieval bench: {points[-1]['label']} done", file=sys.stderr, flush=True)

    # synthetic points, one growing store
    pool = sentence_pool(args.corpus, args.pubmedqa)
    syn = base.model_copy(update={"data_dir": work / "synthetic"})
    store = IndexStore(syn, "synthetic-random-768")
    retriever = Retriever(syn, embedder, store)
    current = 0
    for size in sorted(args.sizes):
        build_s = grow(store, pool, current, size, seed=size)
        current = size
        points.append({"label": f"synthetic {size // 1000}k", "chunks": store.count_chunks(),
                       "build_s": build_s, **measure(retriever, questions, args.repeat)})
        print(f"retrieval bench: {points[-1]['label']} done ({build_s:.0f} s to grow)",
              file=sys.stderr, flush=True)

    result = {"points": points, "questions": len(questions), "repeat": args.repeat,
              "sentence_pool": len(pool), "markdown": render(points, len(questions),
                                                             args.repeat)}
    write_json("retrieval", result)
    print(result["markdown"])
    return result


def render(points: list[dict], n_questions: int, repeat: int) -> str:
    lines = ["## 3. Retrieval latency by index size", "",
             f"{n_questions} questions × {repeat} passes per point (the gold questions; the "
             "PubMedQA point uses 64 PubMedQA questions). Milliseconds, p50 / p95. "
             "Synthetic points: real sentences, random vectors (see bench/retrieval_scale.py). "
             "∥: the keyword search runs while the question is embedded; search + fusion is "
             "what retrieval costs after the embedding.",
             "",
             "| index | chunks | query embedding ∥ | vector search | keyword (BM25) ∥ | fusion "
             "| search + fusion (target ≤ 30 ms at 100k) | total (target ≤ 150 ms at 100k) |",
             "|---|---|---|---|---|---|---|---|"]
    for p in points:
        def cell(step: str, p: dict = p) -> str:
            return f"{ms(p[step]['p50'])} / {ms(p[step]['p95'])}"
        lines.append(f"| {p['label']} | {p['chunks']:,} | {cell('embed_query_s')} | "
                     f"{cell('dense_s')} | {cell('keyword_s')} | {cell('fusion_s')} | "
                     f"**{cell('search_fusion_s')}** | **{cell('total_s')}** |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
