"""Quote-first audit, without the LLM: for every gold question, the first text ClinCite shows
before it asks the model (``answer.quote_first``), checked against the gold values — a quote
shown first must hold every ``must`` value of an answerable question, and a must-decline
question must get none. The eval's correctness cannot see this: it asks that the whole answer
hold the gold values, so a wrong quote followed by a right sentence would pass it.

Usage: .venv/bin/python scripts/quote_first_audit.py dev|test|bench > report.txt
(real embedder and index, as `clincite eval` uses them; the LLM is a scripted stand-in that is
never reached before the first text)."""
from __future__ import annotations

import sys
from pathlib import Path

from assistant import Assistant, Settings
from assistant.testing import ScriptedChatModel
from eval.dataset import load_gold
from eval.metrics import answer_correct

ROOT = Path(__file__).resolve().parent.parent
FILES = {"dev": ROOT / "eval/gold/dev.jsonl", "test": ROOT / "eval/gold/test.jsonl",
         "bench": ROOT / "bench/data/bench_questions.jsonl"}


def first_text(bot: Assistant, question: str) -> str | None:
    """The text shown before the model is asked, if any."""
    for event in bot.chain.stream(question):
        if event.kind == "status" and event.text == "generating":
            return None
        if event.kind == "text":
            return event.text
    return None


def main(split: str) -> int:
    items = load_gold(FILES[split])
    bot = Assistant(Settings(), llm=ScriptedChatModel())
    shown = bad = 0
    for g in items:
        text = first_text(bot, g.question)
        if text is None:
            continue
        shown += 1
        good = g.answerable and answer_correct(text, g.must)  # the values, in any order
        bad += not good
        print("OK " if good else "BAD", g.id, g.question[:70], "\n    ", text[:220])
    print(f"{split}: {shown} of {len(items)} questions open with a quote; "
          f"{bad} without every gold value or on a must-decline question")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dev"))
