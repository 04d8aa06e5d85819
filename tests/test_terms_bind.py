"""A lexicon term both name makes a source clause about the answer's clause across languages:
"Diarrhoea occurred in 84%" is about "腹泻(84%)" (dev d5-06 was declined: no measure names a
symptom's rate and the English answer shares no word with the Chinese sentence). The value
must still be the term's own: "nausea 84%" is not. Checked red with the rule removed."""

from __future__ import annotations

import pytest

from assistant.citations import check_answer
from assistant.types import RetrievedChunk

TRIAL = RetrievedChunk(
    chunk_id="c1", doc_id="d1", title="2023年骨与软组织肉瘤药物治疗进展", language="zh", start=0,
    end=120, text="尼罗醋司他3期试验共纳入142例硬纤维瘤患者。约95%的不良事件为1级或2级,"
                  "包括腹泻(84%)、恶心(54%)、疲劳(51%)。")
QUESTION = "In the phase 3 nirogacestat trial, how often did diarrhoea and nausea occur?"


@pytest.mark.parametrize("answer, shown", [
    ("Diarrhoea occurred in 84% of patients [1].", True),
    ("In the nirogacestat trial, nausea occurred in 54% of patients [1].", True),
    ("Nausea occurred in 84% of patients [1].", False),  # diarrhoea's value, not nausea's
    ("Diarrhoea occurred in 51% of patients [1].", False),  # fatigue's
])
def test_a_term_binds_its_own_value_across_languages(answer: str, shown: bool) -> None:
    result = check_answer(answer, [TRIAL], "en", question=QUESTION)
    assert (result.citations != []) is shown, result.checks
