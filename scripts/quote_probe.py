"""The quote fallback alone: the model "writes nothing", so every shown answer is a verbatim
quote chosen by assistant/decide.py. Tuning aid for the quote rules on the dev split.

    .venv/bin/python scripts/quote_probe.py eval/gold/dev.jsonl /tmp/probe.json

Prints answerable questions quoted correctly / wrongly / declined and must-decline questions
quoted; writes every shown text to the JSON file. Uses the default data folder's index.
"""

from __future__ import annotations

import json
import sys

from assistant import Assistant
from assistant.testing import ScriptedChatModel
from eval.metrics import answer_correct


def main(gold: str, out: str) -> None:
    # a model that writes nothing (a blank: a stream needs one chunk): every answer is a quote
    bot = Assistant(llm=ScriptedChatModel(responder=None, default_reply=" "))
    rows = []
    with open(gold, encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            ans = bot.chain.invoke(item["question"])
            ok = None if not item.get("must") else (
                not ans.abstained and answer_correct(ans.text, item["must"],
                                                     item.get("order") or None))
            rows.append({"id": item["id"], "answerable": item.get("answerable", True),
                         "abstained": ans.abstained, "correct": ok, "text": ans.text})
    with open(out, "w", encoding="utf-8") as f:
        json.dump(rows, f, ensure_ascii=False, indent=0)
    answerable = [r for r in rows if r["answerable"]]
    decline = [r for r in rows if not r["answerable"]]
    print(f"answerable {len(answerable)}: quoted correctly "
          f"{sum(bool(r['correct']) for r in answerable)}, quoted wrongly "
          f"{sum(not r['abstained'] and not r['correct'] for r in answerable)}, declined "
          f"{sum(r['abstained'] for r in answerable)}; must-decline {len(decline)}: quoted "
          f"{sum(not r['abstained'] for r in decline)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
