"""Ingestion throughput: the full pipeline against the embedder alone, and re-ingest.

For each corpus (the sample corpus; the PubMedQA contexts written out as one .txt file per
abstract) and in separate fresh processes:

* ``embedder``: load EmbeddingGemma, then encode exactly the texts the pipeline embeds
  (every chunk's titled form), all in one call: the embedder's own throughput.
* ``pipeline``: load the same model, then ``ingest_paths`` on the folder into an empty index
  (read, clean, chunk, embed, write chromadb + SQLite/FTS5), then ingest it again unchanged.
  Finally ``clincite ingest`` is run twice more as a user would, in new processes, on a new
  index: first ingest and re-ingest wall time including interpreter start.

Peak memory is each process's peak RSS. Model loading is timed separately, not in chunks/s.
Then every torch dtype and backend on the sample corpus (bench/embed_backends.py): passages/s,
query-embedding p50, gold recall@5, what ``dtype="auto"`` picks here and which backend the
adoption rule allows. Results: bench/results/ingest.json and ingest.md.

    python -m bench.ingest_bench [--pubmedqa ../shared/pubmedqa/pqal_dev.json] [--limit N]
                                 [--no-backends]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import (
    RESULTS,
    chunk_texts,
    current_rss_mib,
    in_subprocess,
    machine,
    machine_line,
    write_json,
)

WARMUP = ["title: warm-up | text: Denosumab delayed the first skeletal-related event.",
          "title: 预热 | text: 地舒单抗延迟了首次骨相关事件。"]


def _settings(data_dir: str, dtype: str = "auto") -> Any:
    from assistant.config import Settings

    s = Settings(data_dir=Path(data_dir))
    return s.model_copy(update={"embedder": s.embedder.model_copy(update={"dtype": dtype})})


def embedder_case(folder: str, dtype: str = "auto", return_vectors: bool = False) -> dict:
    from assistant.models import build_embedder

    settings = _settings(tempfile.mkdtemp(), dtype)
    texts = chunk_texts(folder, settings)
    t0 = time.perf_counter()
    embedder = build_embedder(settings)
    load_s = time.perf_counter() - t0
    embedder.embed_documents(WARMUP)
    t0 = time.perf_counter()
    vectors = embedder.embed_documents(texts)
    seconds = time.perf_counter() - t0
    out = {"chunks": len(texts), "seconds": seconds, "load_s": load_s,
           "rss_end_mib": current_rss_mib(),
           "dtype": getattr(embedder, "dtype", dtype),
           "backend": getattr(embedder, "backend", "-"),
           "chars": sum(len(t) for t in texts)}
    if return_vectors:
        out["vectors"] = vectors.tolist()
    return out


def pipeline_case(folder: str) -> dict:
    from assistant.models import build_embedder
    from ingest.pipeline import ingest_paths
    from ingest.store import IndexStore

    settings = _settings(tempfile.mkdtemp())
    t0 = time.perf_counter()
    embedder = build_embedder(settings)
    load_s = time.perf_counter() - t0
    embedder.embed_documents(WARMUP)
    store = IndexStore(settings, embedder.name)
    t0 = time.perf_counter()
    first = ingest_paths([Path(folder)], settings, embedder, store)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = ingest_paths([Path(folder)], settings, embedder, store)
    again_s = time.perf_counter() - t0
    assert not first.failed, first.failed
    return {"chunks": first.chunks, "seconds": first_s, "rss_end_mib": current_rss_mib(),
            "embed_s": first.embed_seconds, "load_s": load_s,
            "reingest_s": again_s, "reingest_embedded": again.chunks,
            "documents": len(first.results)}


def cli_case(folder: str) -> dict:
    """``clincite ingest FOLDER`` twice in new processes on an empty index (wall time)."""
    env = dict(os.environ, CLINCITE_DATA_DIR=tempfile.mkdtemp())
    exe = [sys.executable, "-m", "assistant.cli", "ingest", folder]
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run(exe, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return {"first_s": times[0], "again_s": times[1]}


def write_pubmedqa_folder(path: Path, limit: int | None) -> Path:
    from eval.dataset import load_pubmedqa
    from eval.runner import write_documents

    docs, _ = load_pubmedqa(path, limit)
    return write_documents(docs, Path(tempfile.mkdtemp()) / "pubmedqa")[0]


def run(corpora: list[tuple[str, Path]], backends_corpus: Path | None,
        gold: Path | None = None) -> dict:
    out: dict[str, Any] = {"machine": machine(), "corpora": {}}
    for n, (name, folder) in enumerate(corpora):
        print(f"ingest bench: {name}: embedder alone", file=sys.stderr, flush=True)
        emb = in_subprocess(embedder_case, folder=str(folder))
        print(f"ingest bench: {name}: full pipeline + re-ingest", file=sys.stderr, flush=True)
        pipe = in_subprocess(pipeline_case, folder=str(folder))
        # the CLI pair only for the first corpus: a second full first-ingest of PubMedQA
        # would add minutes and show the same process-start cost
        cli = None
        if n == 0:
            print(f"ingest bench: {name}: CLI twice", file=sys.stderr, flush=True)
            cli = cli_case(str(folder))
        assert emb["chunks"] == pipe["chunks"], (emb["chunks"], pipe["chunks"])
        out["corpora"][name] = {
            "embedder": emb, "pipeline": pipe, "cli": cli,
            "embedder_chunks_per_s": emb["chunks"] / emb["seconds"],
            "pipeline_chunks_per_s": pipe["chunks"] / pipe["seconds"],
            "overhead_ratio": pipe["seconds"] / emb["seconds"],
            "reingest_ratio": pipe["seconds"] / pipe["reingest_s"],
            "cli_reingest_ratio": cli["first_s"] / cli["again_s"] if cli else None,
        }
    if backends_corpus is not None and gold is not None:
        from . import embed_backends

        out["embed"] = embed_backends.run(backends_corpus, gold)
    return out


def render(r: dict) -> str:
    lines = ["## 1–2. Ingestion and re-ingest", "",
             "Chunks/s exclude model loading (timed separately); the embedder-alone run encodes "
             "the very texts the pipeline embeds. Each run is a fresh process; memory is its "
             "peak RSS. Embedder: the default settings here (backend "
             f"{next(iter(r['corpora'].values()))['embedder'].get('backend', '-')}, dtype "
             f"{next(iter(r['corpora'].values()))['embedder']['dtype']}).", "",
             "| corpus | chunks | embedder alone | full pipeline | overhead ratio (target ≤ 1.10) "
             "| RSS at end / peak, embedder | RSS at end / peak, pipeline | model load |",
             "|---|---|---|---|---|---|---|---|"]
    for name, c in r["corpora"].items():
        e, p = c["embedder"], c["pipeline"]
        lines.append(
            f"| {name} | {p['chunks']} | {e['seconds']:.1f} s = {c['embedder_chunks_per_s']:.2f}"
            f" chunks/s | {p['seconds']:.1f} s = {c['pipeline_chunks_per_s']:.2f} chunks/s | "
            f"**{c['overhead_ratio']:.3f}** | {e['rss_end_mib']:.0f} / {e['peak_rss_mib']:.0f} MiB"
            f" | {p['rss_end_mib']:.0f} / {p['peak_rss_mib']:.0f} MiB | {p['load_s']:.1f} s |")
    lines += ["", "| corpus | first ingest | re-ingest unchanged (in process) "
              "| ratio (target ≥ 100×) | `clincite ingest` first / again (new process, wall) "
              "| ratio |",
              "|---|---|---|---|---|---|"]
    for name, c in r["corpora"].items():
        p, cli = c["pipeline"], c["cli"]
        cli_cells = (f"{cli['first_s']:.1f} s / {cli['again_s']:.2f} s | "
                     f"{c['cli_reingest_ratio']:.0f}×" if cli else "– | –")
        lines.append(
            f"| {name} | {p['seconds']:.1f} s | {p['reingest_s'] * 1000:.0f} ms "
            f"({p['reingest_embedded']} chunks embedded) | **{c['reingest_ratio']:.0f}×** | "
            f"{cli_cells} |")
    if "embed" in r:
        from assistant.config import Settings

        from . import embed_backends

        lines += ["", embed_backends.render(r["embed"], Settings().embedder.backend).rstrip()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="clincite bench ingest")
    parser.add_argument("--corpus", type=Path, default=Path("sample_corpus"))
    parser.add_argument("--pubmedqa", type=Path,
                        default=Path("../shared/pubmedqa/pqal_dev.json"))
    parser.add_argument("--limit", type=int, default=None, help="PubMedQA abstracts to use")
    parser.add_argument("--gold", type=Path, default=Path("eval/gold/sample_gold.jsonl"),
                        help="gold questions for recall@5 per backend")
    parser.add_argument("--no-backends", "--no-dtype", action="store_true",
                        help="skip the dtypes and backends comparison")
    args = parser.parse_args(argv)
    corpora = [("sample corpus", args.corpus.resolve())]
    if args.pubmedqa.is_file():
        folder = write_pubmedqa_folder(args.pubmedqa, args.limit)
        label = f"PubMedQA contexts ({len(list(folder.glob('*.txt')))} abstracts)"
        corpora.append((label, folder))
    result = run(corpora, None if args.no_backends else args.corpus.resolve(),
                 args.gold.resolve())
    result["markdown"] = render(result)
    write_json("ingest", result)
    (RESULTS / "ingest.md").write_text(f"Machine: {machine_line(result['machine'])}.\n\n"
                                       + result["markdown"], encoding="utf-8")
    print(result["markdown"])
    return result


if __name__ == "__main__":
    main()
