"""Progress bars: rate and time left on a terminal, silence anywhere else."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_a_bar_with_rate_and_time_left() -> None:
    out = Terminal()
    update = progress_bar("embedding", "chunk", out)
    for done in (0, 10, 40, 100):
        update(done, 100)
    text = out.getvalue()
    assert "embedding" in text and "100/100" in text
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, +[\d.]+(chunk/s|s/chunk)\]", text), text
    assert not re.search(r"^\s*\d+/\d+\s*$", text, re.M)  # no bare "10/100" lines


def test_no_bar_when_output_is_not_a_terminal() -> None:
    out = io.StringIO()
    update = progress_bar("embedding", "chunk", out)
    for done in (0, 50, 100):
        update(done, 100)
    assert out.getvalue() == ""


def test_a_new_total_starts_a_new_bar() -> None:
    out = Terminal()
    update = progress_bar("answering", "question", out)
    update(5, 5)
    update(1, 3)
    update(3, 3)
    assert "5/5" in out.getvalue() and "3/3" in out.getvalue()


def test_cli_ingest_is_quiet_in_logs(corpus: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["ingest", str(corpus)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # captured stderr is not a terminal: no bar, no counters
    assert captured.out.startswith("ingest: 5 added")
