"""A bounded load test of the running app on 127.0.0.1: 20 questions at once through Gradio's
HTTP API (gradio_client). The app runs as `clincite serve` with the hashing embedder and the
extractive scripted LLM standing in for the models; every question must be answered or cleanly
queued, with its own sources, and the app must survive."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .apprunner import running_app
from .test_reliability import make_corpus

pytestmark = [pytest.mark.slow, pytest.mark.chroma]


def test_twenty_questions_at_once_through_the_app(tmp_path: Path) -> None:
    from gradio_client import Client

    corpus = make_corpus(tmp_path / "corpus", 20)
    with running_app(corpus, tmp_path) as url:
        client = Client(url + "/", verbose=False)

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
        assert elapsed < 240
