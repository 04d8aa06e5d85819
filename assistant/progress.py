"""Progress you can read: a bar with rate and time left on a terminal, nothing elsewhere.

``progress_bar(desc, unit)`` returns the ``(done, total)`` callback that ingestion, eval and
model fetching report to. Where the stream is not a terminal (logs, CI, pipes) it stays quiet:
the command's summary line says what happened.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

Progress = Callable[[int, int], None]


def progress_bar(desc: str, unit: str, stream: TextIO | None = None) -> Progress:
    """A callback drawing ``desc: 45%|████   | 47/105 [00:07<00:09, 6.2 chunk/s]``."""
    from tqdm import tqdm

    out = stream if stream is not None else sys.stderr
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None or bar.total != total:
            if bar is not None:
                bar.close()
            bar = tqdm(total=total, desc=desc, unit=unit, file=out, dynamic_ncols=True,
                       disable=not _is_terminal(out))
        bar.update(done - bar.n)  # update() (not setting n) keeps the rate estimate right
        if done >= total:
            bar.close()

    return update


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
