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


# a risk group is known by either name: "中危组有625例" is the "中风险组(n=625)" (dev d2-14 was
# declined for want of a shared word: 中危 / 中风险), and a group's size stays its own
RMS = RetrievedChunk(
    chunk_id="c2", doc_id="d2", title="2023年骨与软组织肉瘤药物治疗进展", language="zh", start=0,
    end=120, text="研究团队在2023 ASCO进一步更新了RMS2005研究的数据。在不同危险度分级的患者中,"
                  "低风险组(n=80)、中风险组(n=625)、高风险组(n=851)、极高风险组(n=150)的5年EFS率"
                  "分别为93.7%、77.4%、67.3%、48.8%。")
RISK_Q = "RMS2005按危险度分组,中危组和高危组分别有多少例?"


@pytest.mark.parametrize("answer, shown", [
    ("中危组有625例,高危组有851例[1]。", True),
    ("中风险组有625例[1]。", True),
    ("The intermediate-risk group had 625 patients [1].", True),
    ("高危组有625例[1]。", False),  # the intermediate-risk group's size
    ("中危组有851例[1]。", False),
])
def test_a_risk_group_binds_its_own_size_by_either_name(answer: str, shown: bool) -> None:
    result = check_answer(answer, [RMS], "en" if answer.isascii() else "zh", question=RISK_Q)
    assert (result.citations != []) is shown, result.checks
