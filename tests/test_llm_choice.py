"""Which embedded LLM ``llamacpp:default`` stands for: measured once per machine, then cached.

``measure`` here is a stand-in for timing one answer on the 1.5B (a float of seconds, or an
exception where it cannot run); no model is loaded."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from assistant import llm_choice
from assistant.llm_choice import BUDGET_S, LARGE, SMALL, choose_llm, resolve_default

KEY = {"cpu": "AMD EPYC", "flags": "abc", "cores": "2", "model": "llm-choice"}


@pytest.mark.parametrize("seconds, model", [
    (4.7, LARGE),            # AVX-512 EPYC: within the budget
    (8.42, LARGE),           # Intel Xeon (round 13): slower than the 6 s target, still usable
    (BUDGET_S, LARGE),       # at the budget
    (BUDGET_S + 0.01, SMALL),
    (11.2, SMALL),           # AVX2-only EPYC
    (None, SMALL),           # not fetched, or it failed
    (math.nan, SMALL), (0.0, SMALL), (-1.0, SMALL),
])
def test_choose_llm(seconds: float | None, model: str) -> None:
    assert choose_llm(seconds) == model


def test_measured_once_then_cached(tmp_path: Path) -> None:
    cache = tmp_path / "llm_choice.json"
    calls: list[int] = []

    def fast() -> float:
        calls.append(1)
        return 3.0

    assert resolve_default(fast, cache, KEY, large_ready=True)[0] == LARGE
    model, how = resolve_default(fast, cache, KEY, large_ready=True)
    assert (model, how["source"], len(calls)) == (LARGE, "cache", 1)
    # another machine (another CPU) measures again, and keeps its own answer
    other = {**KEY, "cpu": "Intel Xeon"}
    assert resolve_default(lambda: 12.0, cache, other, large_ready=True)[0] == SMALL
    assert resolve_default(fast, cache, KEY, large_ready=True)[0] == LARGE
    entries = json.loads(cache.read_text())["entries"]
    assert sorted(e["model"] for e in entries.values()) == sorted([LARGE, SMALL])


def test_no_1_5b_means_the_0_5b_without_measuring(tmp_path: Path) -> None:
    def boom() -> float:
        raise AssertionError("must not measure")

    assert resolve_default(boom, tmp_path / "c.json", KEY, large_ready=False)[0] == SMALL
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("content", ["{not json", '{"version": 1, "entries": []}',
                                     '{"version": 1, "entries": {"x": {"model": "7b"}}}', ""])
def test_a_corrupt_cache_is_measured_again(tmp_path: Path, content: str) -> None:
    cache = tmp_path / "llm_choice.json"
    cache.write_text(content)
    model, how = resolve_default(lambda: 2.0, cache, KEY, large_ready=True)
    assert (model, how["source"]) == (LARGE, "measured")
    assert llm_choice.read_choice(cache, KEY)["model"] == LARGE


def test_a_1_5b_that_fails_to_run_leaves_the_0_5b(tmp_path: Path) -> None:
    def fails() -> float:
        raise RuntimeError("illegal instruction")

    assert resolve_default(fails, tmp_path / "c.json", KEY, large_ready=True)[0] == SMALL


def test_an_unwritable_cache_is_no_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("x")
    cache = blocked / "llm_choice.json"  # its folder is a file: cannot be written
    assert resolve_default(lambda: 2.0, cache, KEY, large_ready=True)[0] == LARGE


def test_default_resolves_to_a_fetched_model_only(tmp_path: Path) -> None:
    """Where neither model is fetched, ``llamacpp:default`` is the 0.5B path (and the error a
    missing model gives names `clincite models fetch`); nothing is timed."""
    from assistant.config import Settings
    from assistant.models import default_llm, resolve_llm_path
    from assistant.recipes import LLM, target_path

    settings = Settings(models_dir=tmp_path)
    assert default_llm(settings)[0] == SMALL
    assert resolve_llm_path("llamacpp:default", settings) == target_path(LLM, tmp_path)
    assert resolve_llm_path("llamacpp:1.5b", settings).name.startswith("qwen2.5-coder-1.5b")


@pytest.mark.parametrize("model, how, said", [
    (LARGE, {"source": "measured", "seconds_1.5b": 4.651}, "1.5b on this machine (one answer on "
     "the 1.5B took 4.65 s, within"),
    (SMALL, {"source": "cache", "seconds_1.5b": 11.2, "measured_at": "2026-11-25"}, "0.5b on "
     "this machine (one answer on the 1.5B took 11.20 s, over"),
    (SMALL, {"source": "1.5b not fetched"}, "the 1.5B is not fetched"),
    (SMALL, {"source": "measured", "seconds_1.5b": None}, "could not be timed"),
])
def test_describe(model: str, how: dict, said: str) -> None:
    assert said in llm_choice.describe(model, how)


def test_cli_models_choose_and_status_without_models(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """No model fetched: `models choose` says the 0.5B and why (measuring nothing), and
    `models status` says the choice is not measured yet."""
    from assistant.cli import main

    assert main(["--models-dir", str(tmp_path), "models", "choose"]) == 0
    assert "llamacpp:default = llamacpp:0.5b" in capsys.readouterr().out
    assert main(["--models-dir", str(tmp_path), "models", "status"]) == 1
    assert "not measured on this machine yet" in capsys.readouterr().out


@pytest.mark.parametrize("spec, default", [
    ("llamacpp:default", True), ("llamacpp:", True), ("default", True),
    ("llamacpp:0.5b", False), ("llamacpp:1.5b", False), ("llamacpp:/m.gguf", False),
    ("openai:default", False), ("fake", False),
])
def test_which_specs_are_the_measured_default(spec: str, default: bool) -> None:
    from assistant.models import is_default_llm

    assert is_default_llm(spec) is default
