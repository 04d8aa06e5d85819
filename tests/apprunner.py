"""Start `clincite serve` in its own process for tests: stand-in models (hashing embedder,
extractive scripted LLM), a corpus ingested first, a free port on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLI = [sys.executable, "-m", "assistant.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(corpus: Path, workdir: Path, start_timeout_s: float = 90) -> Iterator[str]:
    """Ingest ``corpus``, serve it, wait until the port accepts connections; yield the URL."""
    env = {**os.environ, "CLINCITE_DATA_DIR": str(workdir / "data"),
           "CLINCITE_EMBEDDER__MODEL": "fake", "CLINCITE_LLM__MODEL": "fake",
           "CLINCITE_RETRIEVAL__MIN_SIMILARITY": "0.05", "GRADIO_ANALYTICS_ENABLED": "False"}
    subprocess.run([*CLI, "ingest", str(corpus)], env=env, check=True, capture_output=True)
    port = free_port()
    log_path = workdir / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_timeout_s
            while True:
                if proc.poll() is not None:
                    raise AssertionError(log_path.read_text())
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError(f"the app did not start in {start_timeout_s} s")
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}"
            assert proc.poll() is None, "the app must still be running"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
