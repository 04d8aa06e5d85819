"""Shared pieces of the benchmarks: the machine and versions, percentiles, peak memory, and
running one measurement in its own process (so its peak memory is its own)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import resource
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path("bench/results")
PACKAGES = ("torch", "sentence-transformers", "transformers", "llama_cpp_python", "chromadb",
            "langchain-core", "langchain-chroma", "jieba", "gradio", "onnxruntime", "openvino")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    llama_features = "-"
    try:
        import llama_cpp

        info = llama_cpp.llama_print_system_info().decode()
        llama_features = " ".join(part.split("=")[0].strip()
                                  for part in info.split("|") if part.strip().endswith("= 1"))
    except Exception:  # noqa: BLE001 - not installed: recorded as "-"
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_gib, 1),
        "bf16": "avx512_bf16" in flags or "amx_bf16" in flags,
        "avx512": "avx512f" in flags,
        "cpu_flags": {f: f in flags for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni",
                                               "avx512_bf16", "amx_bf16", "amx_int8")},
        "python": platform.python_version(), "os": platform.platform(terse=True),
        "versions": versions, "llama_cpp_features": llama_features,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def machine_line(m: dict[str, Any]) -> str:
    v = m["versions"]
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, no GPU "
            f"(native bf16: {'yes' if m['bf16'] else 'no'}); Python {m['python']}, torch "
            f"{v['torch']}, sentence-transformers {v['sentence-transformers']}, "
            f"llama-cpp-python {v['llama_cpp_python']} ({m['llama_cpp_features']}), chromadb "
            f"{v['chromadb']}, langchain-core {v['langchain-core']}; {m['date']}")


def pct(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), None for no values."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(fn: Callable[..., dict], kwargs: dict, queue: Any) -> None:
    try:
        out = fn(**kwargs)
        out["peak_rss_mib"] = round(peak_rss_mib(), 1)
        queue.put(("ok", out))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        import traceback

        queue.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def in_subprocess(fn: Callable[..., dict], **kwargs: Any) -> dict:
    """Run ``fn(**kwargs)`` in a fresh spawned process; its dict comes back with the process's
    peak RSS added. Each measurement then starts cold and its memory is its own."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, kwargs, queue))
    proc.start()
    status, payload = queue.get()
    proc.join()
    if status != "ok":
        raise RuntimeError(f"benchmark step {fn.__name__} failed: {payload}")
    return payload


def write_json(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.1f}"


def chunk_texts(folder: str, settings: Any) -> list[str]:
    """The embedding texts of every chunk of the documents in ``folder`` (shared by the
    ingest and embedder-backend benchmarks)."""
    from ingest.chunking import chunk_document
    from ingest.loaders import discover, load_document, read_manifest

    texts: list[str] = []
    for path, doc_id, root in discover([Path(folder)]):
        doc = load_document(path, doc_id=doc_id, source_root=root,
                            manifest=read_manifest(path.parent).get(path.name))
        texts += [c.embedding_text() for c in chunk_document(doc, settings.chunking.size,
                                                             settings.chunking.overlap)]
    return texts
