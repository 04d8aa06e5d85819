"""Serving memory: ``clincite serve`` with both embedded models loaded, after answering.

Starts the app as a user would (the default index, which ``scripts/setup.sh`` fills with the
sample corpus), waits until it listens, asks a few questions through its HTTP API, and reads
the server process's resident memory (VmRSS) and its peak (VmHWM) from /proc.

    python -m bench.server_memory
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import write_json

QUESTIONS = ["ALTER-S004研究中安罗替尼联合化疗新辅助治疗的ORR是多少?",
             "What proportion of breast cancer bone metastases are mainly osteolytic?",
             "How many participants will the SBRT osteosarcoma trial enroll?"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(line.split()[1]) / 1024
    return out


def main(argv: list[str] | None = None) -> dict:
    from gradio_client import Client

    parser = argparse.ArgumentParser(prog="clincite bench memory")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args(argv)
    from assistant.config import Settings

    k = Settings().retrieval.k  # the app's default number of passages
    port = _free_port()
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"clincite serve exited: {Path(log.name).read_text()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.perf_counter() - t0 > args.timeout:
                raise RuntimeError("clincite serve did not start in time")
            time.sleep(0.25)
        listen_s = time.perf_counter() - t0
        idle = _memory(proc.pid)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        answer_s = []
        for q in QUESTIONS:
            t1 = time.perf_counter()
            chat, _sources, _box = client.predict(q, [], [], "All", k, api_name="/respond")
            answer_s.append(time.perf_counter() - t1)
            assert chat and chat[-1]["role"] == "assistant"
        after = _memory(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result = {"listen_s": listen_s, "idle_rss_mib": idle["VmRSS"],
              "rss_after_answers_mib": after["VmRSS"], "peak_rss_mib": after["VmHWM"],
              "answer_s": answer_s}
    result["markdown"] = (
        "## 6. Serving memory\n\n"
        f"`clincite serve` (both models loaded before it listens, {listen_s:.1f} s after start): "
        f"resident memory {idle['VmRSS'] / 1024:.2f} GiB idle, "
        f"**{after['VmRSS'] / 1024:.2f} GiB** after answering {len(QUESTIONS)} questions "
        f"through the HTTP API (target ≤ 3 GB), peak {after['VmHWM'] / 1024:.2f} GiB. Answers "
        f"took {', '.join(f'{s:.1f}' for s in answer_s)} s through the app.\n")
    write_json("server_memory", result)
    print(result["markdown"])
    return result


if __name__ == "__main__":
    main()
