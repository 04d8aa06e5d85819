"""A bounded load test of the running app on 127.0.0.1: 20 questions at once through Gradio's
HTTP API (gradio_client). The app runs as `clincite serve` with the hashing embedder and the
extractive scripted LLM standing in for the models; every question must be answered or cleanly
queued, with its own sources, and the app must survive."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .test_browser import free_port
from .test_reliability import make_corpus

pytestmark = pytest.mark.slow


def test_twenty_questions_at_once_through_the_app(tmp_path: Path) -> None:
    from gradio_client import Client

    corpus = make_corpus(tmp_path / "corpus", 20)
    env = {**os.environ, "CLINCITE_DATA_DIR": str(tmp_path / "data"),
           "CLINCITE_EMBEDDER__MODEL": "fake", "CLINCITE_LLM__MODEL": "fake",
           "CLINCITE_RETRIEVAL__MIN_SIMILARITY": "0.05", "GRADIO_ANALYTICS_ENABLED": "False"}
    cli = [sys.executable, "-m", "assistant.cli"]
    subprocess.run([*cli, "ingest", str(corpus)], env=env, check=True, capture_output=True)
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 90
        client = None
        while client is None and time.monotonic() < deadline:
            try:
                client = Client(url, verbose=False)
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.5)
        assert client is not None, (tmp_path / "serve.log").read_text()

        def ask(i: int):
            job = client.submit(f"What ORR did trial T{i:03d} sentence 5 report?", [], [],
                                "All", 6, api_name="/respond")
            return i, job.result(timeout=240)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(ask, range(20)))
        elapsed = time.monotonic() - started
        for i, (chat, sources, _box) in results:
            content = chat[-1]["content"]
            answer = content if isinstance(content, str) else " ".join(
                part.get("text", "") for part in content)
            assert f"T{i:03d}" in answer, answer
            assert f"doc{i:03d}.txt" in sources
            others = [f"doc{j:03d}.txt" for j in range(20) if j != i]
            assert not any(o in sources for o in others), (i, sources[:300])
        assert proc.poll() is None, "the app must still be running"
        assert elapsed < 240
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
