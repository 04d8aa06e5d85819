"""ClinCite: clinical question answering with verified citations.

>>> from assistant import Assistant, Settings
>>> bot = Assistant(Settings())                      # doctest: +SKIP
>>> answer = bot.ask("ALTER-S004研究的ORR是多少?")    # doctest: +SKIP
>>> answer.text, [c.quote for c in answer.citations]  # doctest: +SKIP

Heavy modules (models, chromadb) load on first use, never at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Settings

if TYPE_CHECKING:
    from .api import Assistant

__all__ = ["Assistant", "Settings"]


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from .api import Assistant

        return Assistant
    raise AttributeError(name)
