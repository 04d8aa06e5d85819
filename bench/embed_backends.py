"""The embedder on this machine: each torch dtype and each backend, measured in one run.

For every candidate (torch float32, torch bfloat16, ONNX Runtime float32 and int8, OpenVINO
float32 and int8), in its own fresh process:

* load (an export is made once and cached beside the model; its time is reported apart);
* encode the sample corpus's chunk texts (their titled form, batch 8): passages/s;
* embed each gold question alone: query-embedding latency p50;
* ``clincite eval --retrieval-only`` on the gold set with that embedder (same process, same
  loaded model): the pipeline's ingest time (in process, after the encoder-alone run) and gold
  recall@5, all and cross-lingual;
* the vectors, compared with torch float32's (cosine per chunk).

Then what ``dtype="auto"`` chooses here with a fresh calibration cache, and which backend the
adoption rule allows (``adoptable``): at least 1.5x the best torch dtype's passages/s, at most
1 point of recall@5 lost, none lost cross-lingually.

    python -m bench.embed_backends            # also run by `clincite bench ingest`
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import RESULTS, chunk_texts, in_subprocess, machine, pct, write_json

CANDIDATES: tuple[tuple[str, str], ...] = (
    ("torch", "float32"), ("torch", "bfloat16"), ("onnx", "float32"), ("onnx-int8", "int8"),
    ("openvino", "float32"), ("openvino-int8", "int8"),
)
# a candidate still encoding after this long is several times slower than torch float32 here
# (~55 s for the sample corpus): its passages/s come from the batches done by then
ENCODE_BUDGET_S = 90.0
QUERY_BUDGET_S = 30.0
MIN_SPEEDUP = 1.5
MAX_RECALL_LOSS = 0.01
WARMUP = ["title: warm-up | text: Denosumab delayed the first skeletal-related event.",
          "title: 预热 | text: 地舒单抗延迟了首次骨相关事件。"]


def label(backend: str, dtype: str) -> str:
    return f"torch {dtype}" if backend == "torch" else backend


def _settings(data_dir: Path, backend: str, dtype: str) -> Any:
    from assistant.config import Settings

    s = Settings(data_dir=data_dir)
    dt = dtype if dtype in ("float32", "bfloat16") else "float32"
    return s.model_copy(update={"embedder": s.embedder.model_copy(
        update={"backend": backend, "dtype": dt})})


def backend_case(folder: str, gold: str, backend: str, dtype: str) -> dict:
    """One candidate, start to finish, in this (fresh) process."""
    import numpy as np

    from assistant.models import load_embedder
    from eval.dataset import load_gold
    from eval.runner import EvalOptions
    from eval.runner import run as run_eval

    data_dir = Path(tempfile.mkdtemp())
    settings = _settings(data_dir, backend, dtype)
    texts = chunk_texts(folder, settings)
    t0 = time.perf_counter()
    embedder = load_embedder(settings)
    load_s = time.perf_counter() - t0
    inner = getattr(embedder, "inner", embedder)
    export = getattr(inner, "export", None)
    embedder.embed_documents(WARMUP)
    # longest first, 8 at a time: the very batches one encode call would make (it sorts by
    # length), but a candidate several times slower stops after ENCODE_BUDGET_S
    texts = sorted(texts, key=len, reverse=True)
    step = settings.embedder.batch_size
    parts = []
    t0 = time.perf_counter()
    for i in range(0, len(texts), step):
        parts.append(embedder.embed_documents(texts[i:i + step]))
        if time.perf_counter() - t0 > ENCODE_BUDGET_S and i + step < len(texts):
            break
    encode_s = time.perf_counter() - t0
    vectors = np.vstack(parts)
    encoded = len(vectors)
    questions = [item.question for item in load_gold(Path(gold))]
    latencies = []
    t_queries = time.perf_counter()
    for q in questions:
        t0 = time.perf_counter()
        embedder.embed_query(q)
        latencies.append(time.perf_counter() - t0)
        if time.perf_counter() - t_queries > QUERY_BUDGET_S:
            break
    base = {"backend": backend, "dtype": getattr(inner, "dtype", dtype), "name": embedder.name,
            "chunks": encoded, "corpus_chunks": len(texts), "encode_s": encode_s,
            "passages_per_s": encoded / encode_s, "load_s": load_s, "export": export,
            "query_p50_s": pct(latencies, 50), "query_p95_s": pct(latencies, 95),
            "queries": len(latencies),
            "vectors": np.asarray(vectors, dtype=np.float32).round(6).tolist()}
    if encoded < len(texts):
        # too slow to be a candidate: no pipeline or recall run (they would take minutes)
        return {**base, "partial": True}
    out_dir = data_dir / "eval-run"
    opts = EvalOptions(out=out_dir, gold=Path(gold), corpus=Path(folder), retrieval_only=True)
    run_eval(opts, settings)
    metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    return {
        **base, "partial": False,
        "pipeline_s": metrics["timing"]["ingest_s"],
        "recall@5": metrics["retrieval"]["recall@5"],
        "recall@5_cross_lingual": metrics["cross_lingual"]["retrieval"]["recall@5"],
        "recall@5_zh": metrics["by_language"].get("zh", {}).get("retrieval", {}).get("recall@5"),
        "recall@5_en": metrics["by_language"].get("en", {}).get("retrieval", {}).get("recall@5"),
        "mrr": metrics["retrieval"]["mrr"],
    }


def calibration_case() -> dict:
    """What ``dtype="auto"`` picks here, measured afresh (a new, empty calibration cache)."""
    from assistant.config import Settings
    from assistant.models import SentenceTransformerEmbedder, resolve_embedder_path

    settings = Settings()
    path = resolve_embedder_path(settings.embedder.model, settings)
    t0 = time.perf_counter()
    embedder = SentenceTransformerEmbedder(
        path, batch_size=settings.embedder.batch_size, dtype="auto",
        calibration_cache=Path(tempfile.mkdtemp()) / "calibration.json")
    chosen = embedder.calibration or {}  # dtype="auto" always records how it chose
    return {"chosen": embedder.dtype, "seconds_per_batch": chosen.get("seconds"),
            "warmup_s": chosen.get("warmup_s", {}),
            "wall_s": time.perf_counter() - t0}


def adoptable(rows: dict[str, dict], *, min_speedup: float = MIN_SPEEDUP,
              max_recall_loss: float = MAX_RECALL_LOSS) -> dict[str, Any]:
    """Which non-torch backends the adoption rule allows, against the fastest torch dtype.

    ``rows``: label -> {"backend", "passages_per_s", "recall@5", "recall@5_cross_lingual"}
    (a failed candidate has "error" instead). Returns the reference, a verdict per backend and
    the best allowed one (fastest), or None."""
    torch_rows = {k: r for k, r in rows.items()
                  if r.get("backend") == "torch" and "error" not in r
                  and r.get("recall@5") is not None}
    if not torch_rows:
        return {"reference": None, "verdicts": {}, "adopt": None}
    ref_label = max(torch_rows, key=lambda k: torch_rows[k]["passages_per_s"])
    ref = torch_rows[ref_label]
    verdicts: dict[str, dict[str, Any]] = {}
    for key, r in rows.items():
        if r.get("backend") in (None, "torch"):
            continue
        if "error" in r:
            verdicts[key] = {"ok": False, "why": "failed: " + r["error"].splitlines()[0][:160]}
            continue
        if r.get("recall@5") is None:
            verdicts[key] = {"ok": False, "speedup": r["passages_per_s"] / ref["passages_per_s"],
                             "why": "too slow to finish the corpus; recall not measured"}
            continue
        speedup = r["passages_per_s"] / ref["passages_per_s"]
        loss = ref["recall@5"] - r["recall@5"]
        cross_loss = ref["recall@5_cross_lingual"] - r["recall@5_cross_lingual"]
        why = []
        if speedup < min_speedup:
            why.append(f"{speedup:.2f}x < {min_speedup}x")
        if loss > max_recall_loss + 1e-9:
            why.append(f"recall@5 -{loss * 100:.1f} points")
        if cross_loss > 1e-9:
            why.append(f"cross-lingual recall@5 -{cross_loss * 100:.1f} points")
        verdicts[key] = {"ok": not why, "speedup": speedup, "recall_loss": loss,
                         "cross_lingual_loss": cross_loss, "why": "; ".join(why) or "meets all"}
    allowed = [k for k, v in verdicts.items() if v["ok"]]
    best = max(allowed, key=lambda k: rows[k]["passages_per_s"]) if allowed else None
    return {"reference": ref_label, "verdicts": verdicts, "adopt": best}


def run(folder: Path, gold: Path, candidates=CANDIDATES) -> dict:
    import numpy as np

    rows: dict[str, dict] = {}
    for backend, dtype in candidates:
        key = label(backend, dtype)
        print(f"embed bench: {key}", file=sys.stderr, flush=True)
        try:
            rows[key] = in_subprocess(backend_case, folder=str(folder), gold=str(gold),
                                      backend=backend, dtype=dtype)
        except RuntimeError as exc:
            # a backend that cannot export or load here is a result, not the end of the run
            message = str(exc).split("failed: ", 1)[-1]
            last = [ln for ln in message.splitlines() if ln.strip()]
            rows[key] = {"backend": backend, "dtype": dtype,
                         "error": (last[-1] if last else message)[:400]}
    reference = rows.get("torch float32")
    if reference and "vectors" in reference:
        ref = np.asarray(reference["vectors"], dtype=np.float32)
        for r in rows.values():
            if "vectors" in r:
                v = np.asarray(r["vectors"], dtype=np.float32)
                a = ref[: len(v)]  # a partial run encoded the first (longest) texts
                cos = (a * v).sum(axis=1) / (np.linalg.norm(a, axis=1)
                                             * np.linalg.norm(v, axis=1))
                r["cosine_vs_torch_f32"] = {"min": float(cos.min()), "mean": float(cos.mean())}
    for r in rows.values():
        r.pop("vectors", None)
        if "pipeline_s" in r:
            r["pipeline_ratio"] = r["pipeline_s"] / r["encode_s"]
    print("embed bench: calibration (dtype=auto, fresh cache)", file=sys.stderr, flush=True)
    try:
        calib = in_subprocess(calibration_case)
    except RuntimeError as exc:
        calib = {"error": str(exc)[:400]}
    return {"machine": machine(), "rows": rows, "calibration": calib,
            "adoption": adoptable(rows)}


def _f(value: float | None, spec: str = ".3f") -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else format(value, spec)


def render(r: dict, default_backend: str | None = None) -> str:
    m = r["machine"]
    flags = m.get("cpu_flags", {})
    lines = ["## Embedder: dtype and backend on this machine", "",
             f"CPU: **{m['cpu']}**, {m['cores']} cores (avx512f: {flags.get('avx512f', '?')}, "
             f"avx512_bf16: {flags.get('avx512_bf16', '?')}, amx_bf16: "
             f"{flags.get('amx_bf16', '?')}, avx512_vnni: {flags.get('avx512_vnni', '?')}, "
             f"avx_vnni: {flags.get('avx_vnni', '?')}); torch {m['versions']['torch']}, "
             f"sentence-transformers {m['versions']['sentence-transformers']}, {m['date']}.", "",
             "Each row is a fresh process. passages/s: the sample corpus's chunk texts (titled "
             "form, batch 8) after one warm-up batch; pipeline: `clincite eval --retrieval-only`"
             "'s ingest of the same corpus in the same process (read, chunk, embed, write), "
             "after the encoder-alone run; query p50: each gold question embedded alone; "
             "recall@5 on the 64-question gold set (54 answerable, 20 cross-lingual); cosine: "
             "each chunk's vector against torch float32's.", "",
             "| embedder | passages/s | pipeline / encoder | query p50 | recall@5 all / zh / en "
             "/ cross-lingual | cosine vs torch f32 min / mean | load | export (once) |",
             "|---|---|---|---|---|---|---|---|"]
    for key, row in r["rows"].items():
        if "error" in row:
            lines.append(f"| {key} | failed: {row['error'][:200]} | | | | | | |")
            continue
        cos = row.get("cosine_vs_torch_f32") or {}
        export = row.get("export") or {}
        partial = (f" of {row['corpus_chunks']}, stopped after {ENCODE_BUDGET_S:.0f} s"
                   if row.get("partial") else "")
        recall = ("not run (too slow)" if row.get("partial") else
                  f"{_f(row['recall@5'])} / {_f(row['recall@5_zh'])} / "
                  f"{_f(row['recall@5_en'])} / {_f(row['recall@5_cross_lingual'])}")
        lines.append(
            f"| {key} | **{row['passages_per_s']:.2f}** ({row['encode_s']:.1f} s / "
            f"{row['chunks']}{partial}) | {_f(row.get('pipeline_ratio'))} | "
            f"{row['query_p50_s'] * 1000:.0f} ms | {recall} | {_f(cos.get('min'), '.4f')} / "
            f"{_f(cos.get('mean'), '.4f')} | {row['load_s']:.1f} s | "
            f"{_f(export.get('export_s'), '.0f') + ' s' if export else '–'} |")
    c = r["calibration"]
    if "error" in c:
        lines += ["", f"`dtype=auto` calibration failed: {c['error']}"]
    else:
        per = ", ".join(f"{k} {v:.2f} s" for k, v in c["seconds_per_batch"].items())
        warm = c.get("warmup_s") or {}
        skipped = [k for k in warm if k not in c["seconds_per_batch"]]
        if skipped and "float32" in warm:
            per += "; " + ", ".join(f"{k} not timed (warm-up {warm[k] / warm['float32']:.1f}× "
                                    "float32's)" for k in skipped)
        lines += ["", f"`dtype=auto` here (fresh cache, median seconds per batch of 8 "
                  f"calibration texts after a warm-up; ties within 5% go to float32): {per} → "
                  f"**{c['chosen']}** ({c['wall_s']:.0f} s for loading and measuring, once per "
                  "machine and library versions)."]
    a = r["adoption"]
    if a["reference"]:
        lines += ["", f"Adoption rule (≥ {MIN_SPEEDUP}× the fastest torch dtype, "
                  f"{a['reference']}; ≤ {MAX_RECALL_LOSS * 100:.0f} point of recall@5 lost; "
                  "none cross-lingually):"]
        for key, v in a["verdicts"].items():
            speed = f"{v['speedup']:.2f}×, " if "speedup" in v else ""
            lines.append(f"- {key}: {speed}{'**allowed**' if v['ok'] else 'not allowed'} "
                         f"({v['why']})")
        lines.append(f"- allowed and fastest: **{a['adopt'] or 'none: torch stays'}**"
                     + (f"; configured default: `{default_backend}`" if default_backend else ""))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.embed_backends")
    parser.add_argument("--corpus", type=Path, default=Path("sample_corpus"))
    parser.add_argument("--gold", type=Path, default=Path("eval/gold/sample_gold.jsonl"))
    parser.add_argument("--only", nargs="*", help="labels to run, e.g. 'torch float32' onnx")
    args = parser.parse_args(argv)
    candidates = [c for c in CANDIDATES if not args.only or label(*c) in args.only]
    result = run(args.corpus.resolve(), args.gold.resolve(), candidates)
    from assistant.config import Settings

    result["markdown"] = render(result, Settings().embedder.backend)
    write_json("embed_backends", result)
    (RESULTS / "embed_backends.md").write_text(result["markdown"], encoding="utf-8")
    print(result["markdown"])
    return result


if __name__ == "__main__":
    main()

