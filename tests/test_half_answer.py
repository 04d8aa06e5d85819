"""Half an answer says it is half: a question that asks two groups the same thing ("16岁及以上和
16岁以下的患者分别用什么评分…?") and an answer that names one group and never the other is marked
partial and says the rest was not found, where no number is asked (so the count of values asked
cannot see it). Each row was checked red with its rule removed (2026-12-07)."""

from __future__ import annotations

import pytest

from assistant.decide import (
    NOT_FOUND_REST,
    half_answer,
    one_side_only,
    question_parts,
    sides_asked,
)

SCORE_Q = "术前SBRT联合PD-1试验中,16岁及以上和16岁以下的患者分别用什么评分评估体能状态?"


@pytest.mark.parametrize("question, sides", [
    (SCORE_Q, ("16岁及以上", "16岁以下")),
    ("中危组和高危组分别有多少例?", ("中危", "高危")),
    ("Which scores are used for adults and for children, respectively?", ("adults", "children")),
    ("ALTER-S004研究的ORR是多少?", None),
])
def test_sides_asked(question: str, sides: tuple | None) -> None:
    assert sides_asked(question) == sides


@pytest.mark.parametrize("answer, half", [
    ("16岁及以上的患者用ECOG评分评估体能状态[1]。", True),
    ("16岁以下的患者用Lansky评分[1]。", True),
    ("16岁及以上的患者用ECOG评分[1];16岁以下的患者用Lansky评分[1]。", False),
    ("≥16岁用ECOG评分,<16岁用Lansky评分[1]。", False),  # names neither in the question's words
])
def test_one_side_only(answer: str, half: bool) -> None:
    assert one_side_only(SCORE_Q, answer) is half


def test_a_group_is_known_by_the_words_only_it_has() -> None:
    """"CDK4" and "表达" name both groups: the answer names only the high-expression one."""
    question = "PAL-201研究中CDK4低表达患者和CDK4高表达患者的中位OS分别是多少?"
    assert one_side_only(question, "CDK4高表达患者的中位OS为13个月[1]。")


@pytest.mark.parametrize("question, shown, values, half", [
    (SCORE_Q, ["16岁及以上的患者用ECOG评分[1]。"], set(), True),
    # a quantity question: its values decide, whatever words name its groups
    ("16岁及以上和16岁以下的患者分别要求多少分?",
     ["16岁及以上的患者要求0-2分[1]。", "另一组要求不低于70分[1]。"], {("0", "2"), ("70",)}, False),
    ("16岁及以上和16岁以下的患者分别要求多少分?", ["16岁及以上的患者要求0-2分[1]。"],
     {("0", "2")}, True),
])
def test_half_answer(question: str, shown: list, values: set, half: bool) -> None:
    assert half_answer(question_parts(question), values, question, shown) is half


DOC = ("术前SBRT联合PD-1试验的入组标准\n\n"
       "术前SBRT联合PD-1试验中,16岁及以上的患者采用ECOG评分评估体能状态,要求0-2分。"
       "16岁以下的患者采用Lansky评分评估体能状态,要求不低于70分。")


@pytest.fixture
def bot(settings, tmp_path):
    from assistant import Assistant
    from assistant.models import HashingEmbedder
    from assistant.testing import ScriptedChatModel

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sbrt.txt").write_text(DOC, encoding="utf-8")
    llm = ScriptedChatModel()
    assistant = Assistant(settings, embedder=HashingEmbedder(), llm=llm)
    assert not assistant.ingest([docs]).failed
    return assistant, llm


def test_an_answer_naming_one_group_says_it_is_incomplete(bot) -> None:
    """End to end with a scripted model (it stands in for the LLM and answers for one group)."""
    assistant, llm = bot
    llm.enqueue("16岁及以上的患者采用ECOG评分评估体能状态[1]。")
    answer = assistant.ask(SCORE_Q)
    assert not answer.abstained and "ECOG" in answer.text
    assert answer.partial and answer.text.endswith(NOT_FOUND_REST["zh"])


def test_an_answer_naming_both_groups_is_complete(bot) -> None:
    assistant, llm = bot
    llm.enqueue("16岁及以上的患者采用ECOG评分评估体能状态[1]。16岁以下的患者采用Lansky评分评估体能状态[1]。")
    answer = assistant.ask(SCORE_Q)
    assert "Lansky" in answer.text and not answer.partial
