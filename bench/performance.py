"""All performance benchmarks in one command, one after another on an otherwise idle machine,
then bench/results/performance.md: the machine and versions, each target against the measured
figure, and every benchmark's table.

    clincite bench                 # = python -m bench.performance (about 25 minutes here)
    clincite bench --skip ingest   # reuse bench/results/ingest.json from an earlier run
    clincite bench ingest | retrieval | answer | memory | fusion   # one of them
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import answer_bench, ingest_bench, retrieval_scale, server_memory
from .common import RESULTS, machine, machine_line

STEPS = {"ingest": ingest_bench.main, "retrieval": retrieval_scale.main,
         "answer": answer_bench.main, "memory": server_memory.main}


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def targets(ing: dict | None, ret: dict | None, ans: dict | None, mem: dict | None
            ) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, where, met) rows."""
    rows: list[tuple[str, str, str, bool | None]] = []
    if ing:
        for name, c in ing["corpora"].items():
            rows.append((f"ingest overhead ratio ≤ 1.10 ({name})",
                         f"{c['overhead_ratio']:.3f} ({c['pipeline_chunks_per_s']:.2f} vs "
                         f"{c['embedder_chunks_per_s']:.2f} chunks/s)", "1",
                         c["overhead_ratio"] <= 1.10))
        if "embed" in ing:
            rows += embed_targets(ing["embed"])
        for name, c in ing["corpora"].items():
            rows.append((f"re-ingest ≥ 100× faster than first ingest ({name})",
                         f"{c['reingest_ratio']:.0f}× in process" + (
                             f"; {c['cli_reingest_ratio']:.0f}× as `clincite ingest` (new "
                             "process each)" if c["cli_reingest_ratio"] else ""), "2",
                         c["reingest_ratio"] >= 100))
    if ret:
        big = max(ret["points"], key=lambda p: p["chunks"])
        rows.append((f"retrieval p50 ≤ 150 ms incl. query embedding ({big['chunks']:,} chunks)",
                     f"{big['total_s']['p50'] * 1000:.0f} ms (p95 "
                     f"{big['total_s']['p95'] * 1000:.0f} ms)", "3",
                     big["total_s"]["p50"] <= 0.150))
        rows.append((f"search + fusion p50 ≤ 30 ms ({big['chunks']:,} chunks)",
                     f"{big['search_fusion_s']['p50'] * 1000:.1f} ms (p95 "
                     f"{big['search_fusion_s']['p95'] * 1000:.1f} ms)", "3",
                     big["search_fusion_s"]["p50"] <= 0.030))
    if ans:
        c, b = ans["clincite"], ans["baseline"]
        rows.append(("time to first token p50 ≤ 3 s", f"{c['first_token_s']['p50']:.2f} s "
                     f"(p95 {c['first_token_s']['p95']:.2f} s)", "4",
                     c["first_token_s"]["p50"] <= 2.0))
        rows.append(("total per answer p50 ≤ 6 s", f"{c['total_s']['p50']:.2f} s (p95 "
                     f"{c['total_s']['p95']:.2f} s)", "4", c["total_s"]["p50"] <= 6.0))
        rows.append(("no model loaded twice", f"{ans['models']['loaded_in_process']} models in "
                     "the process cache (one embedder, one LLM)", "4",
                     ans["models"]["loaded_in_process"] == 2))
    if ans and ans["baseline"]:
        c, b = ans["clincite"], ans["baseline"]
        mc, mb = c["metrics"], b["metrics"]
        faster = (c["ingest_s"] <= b["ingest_s"] and c["total_s"]["p50"] <= b["total_s"]["p50"]
                  and c["query_s"]["p50"] <= b["query_s"]["p50"])
        rows.append(("no slower than the baseline anywhere",
                     f"ingest {c['ingest_s']:.1f} vs {b['ingest_s']:.1f} s; query p50 "
                     f"{c['query_s']['p50'] * 1000:.0f} vs {b['query_s']['p50'] * 1000:.0f} ms; "
                     f"answer p50 {c['total_s']['p50']:.1f} vs {b['total_s']['p50']:.1f} s",
                     "5", faster))
        rows.append(("higher recall than the baseline",
                     f"recall@5 {mc['retrieval']['recall@5']:.3f} vs "
                     f"{mb['retrieval']['recall@5']:.3f}", "5",
                     mc["retrieval"]["recall@5"] > mb["retrieval"]["recall@5"]))
    if mem:
        rows.append(("serving memory ≤ 3 GB", f"{mem['rss_after_answers_mib'] / 1024:.2f} GiB "
                     f"after answering (peak {mem['peak_rss_mib'] / 1024:.2f} GiB)", "6",
                     mem["rss_after_answers_mib"] * 2**20 <= 3e9))
    return rows


def embed_targets(e: dict) -> list[tuple[str, str, str, bool | None]]:
    """The embedder's dtype and backend rows: the measured choice against the measurements."""
    rows: list[tuple[str, str, str, bool | None]] = []
    torch_rows = {k: r for k, r in e["rows"].items()
                  if r.get("backend") == "torch" and "error" not in r}
    calib = e.get("calibration", {})
    if torch_rows and "chosen" in calib:
        fastest = max(torch_rows, key=lambda k: torch_rows[k]["passages_per_s"])
        chosen = torch_rows.get(f"torch {calib['chosen']}")
        speeds = ", ".join(f"{k} {r['passages_per_s']:.2f}" for k, r in torch_rows.items())
        rows.append(("dtype \"auto\" picks the faster dtype on this machine",
                     f"{calib['chosen']} ({speeds} passages/s)", "1",
                     chosen is not None and chosen["passages_per_s"]
                     >= 0.95 * torch_rows[fastest]["passages_per_s"]))
    adoption = e.get("adoption", {})
    if adoption.get("reference"):
        from assistant.config import Settings

        default = Settings().embedder.backend
        wanted = adoption["adopt"] or "torch"
        rows.append(("default backend = the one the adoption rule allows (≥ 1.5×, ≤ 1 point "
                     "recall@5)", f"default {default}; rule allows {wanted}", "1",
                     default == wanted))
    return rows


def write_report(notes: str = "") -> str:
    ing, ret, ans, mem = (_load(n) for n in ("ingest", "retrieval", "answer", "server_memory"))
    m = (ans or ing or {}).get("machine") or machine()
    rows = targets(ing, ret, ans, mem)
    lines = ["# ClinCite performance", "",
             f"Machine: {machine_line(m)}.", "",
             "Generated by `clincite bench` (bench/performance.py); raw figures in "
             "bench/results/*.json. Each benchmark ran alone on the idle machine.", "",
             "## Targets", "", "| target | measured | § | met |", "|---|---|---|---|"]
    for target, measured, where, met in rows:
        mark = "–" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {target} | {measured} | {where} | {mark} |")
    lines.append("")
    for part in (ing, ret, ans, mem):
        if part:
            lines += [part["markdown"], ""]
    notes_path = RESULTS / "performance_notes.md"
    if notes_path.exists():
        lines += [notes_path.read_text(encoding="utf-8"), ""]
    text = "\n".join(lines).rstrip() + "\n"
    (RESULTS / "performance.md").write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="clincite bench")
    parser.add_argument("--skip", nargs="*", default=[], choices=sorted(STEPS),
                        help="benchmarks to reuse from bench/results instead of running")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for name, fn in STEPS.items():
        if name in args.skip:
            continue
        print(f"== bench {name}", file=sys.stderr, flush=True)
        fn([])
    text = write_report()
    print(text)
    print(f"bench: done in {time.perf_counter() - started:.0f} s; "
          f"{RESULTS / 'performance.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
