"""A value the sources give under another circumstance than the question asks is not its answer
(round 14, dev near miss d8-03): "What percentage of osteosarcoma patients develop lung
metastasis during chemotherapy?" was answered "about 40%" — the share who develop it *after
radical surgery* — bound to its source sentence and shown as checked. The table of
``condition_conflict`` is in test_claims; here the draft path end to end, with a scripted chat
model standing in for the LLM. Seen red with ``condition_conflict`` returning False."""

from __future__ import annotations

import pytest

from .helpers import scripted_bot

DOC = ("Pre-operative SBRT plus PD-1 blockade for metastatic osteosarcoma\n\n"
       "Osteosarcoma is a primary bone malignant tumor with strong metastatic potential. "
       "About 15%-20% of osteosarcomas are accompanied by lung metastasis when diagnosed, and "
       "about 40% of patients develop secondary lung metastasis after radical surgery of the "
       "primary lesion.")
DURING = "What percentage of osteosarcoma patients develop lung metastasis during chemotherapy?"
AFTER = ("What percentage of osteosarcoma patients develop secondary lung metastasis after "
         "radical surgery of the primary lesion?")


@pytest.fixture
def bot(settings, tmp_path):
    return scripted_bot(settings, tmp_path, "sbrt.txt", DOC)


def test_a_value_of_another_circumstance_is_declined(bot) -> None:
    assistant, llm = bot
    llm.enqueue("About 40% of osteosarcoma patients develop lung metastasis during "
                "chemotherapy [1].")
    answer = assistant.ask(DURING)
    assert answer.abstained and "40%" not in answer.text
    assert any(c.action == "dropped" and "40" in c.numbers for c in answer.checks)


def test_the_same_value_answers_the_circumstance_it_is_of(bot) -> None:
    assistant, llm = bot
    llm.enqueue("About 40% of patients develop secondary lung metastasis after radical surgery "
                "of the primary lesion [1].")
    answer = assistant.ask(AFTER)
    assert not answer.abstained and "40%" in answer.text
