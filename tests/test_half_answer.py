"""Half an answer says it is half: a question that asks two groups the same thing ("16岁及以上和
16岁以下的患者分别用什么评分…?") and an answer that names one group and never the other is marked
partial and says the rest was not found, where no number is asked (so the count of values asked
cannot see it). Each row was checked red with its rule removed (2026-12-07)."""

from __future__ import annotations

import pytest

from assistant.citations import PassageView
from assistant.decide import (
    NOT_FOUND_REST,
    half_answer,
    one_side_only,
    other_side_quote,
    question_parts,
    sides_asked,
)
from assistant.types import RetrievedChunk

from .helpers import scripted_bot

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
    return scripted_bot(settings, tmp_path, "sbrt.txt", DOC)


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


# the groups named by the bound they set, in the other language: an English quote answering a
# Chinese question names "≥16 years old" for "16岁及以上" (round 11's test reading: such a quote,
# ECOG only, was not marked partial)
@pytest.mark.parametrize("question, answer, half", [
    (SCORE_Q, '文献原文(英文):"For patients ≥16 years old, ECOG score is between 0 and 2."[1]',
     True),
    (SCORE_Q, '文献原文(英文):"For patients under 16 years old, Lansky score is at least 70."[1]',
     True),
    (SCORE_Q, '"For patients ≥16 years old, ECOG score is between 0 and 2." "For patients under '
              '16 years old, Lansky score is at least 70."[1]', False),
    ("Which scores are used for patients aged 16 or older and for those under 16, respectively?",
     "16岁以下的患者用Lansky评分[1]。", True),
    ("Which scores are used for patients aged 16 or older and for those under 16, respectively?",
     "Patients aged 16 or older use the ECOG score and those under 16 the Lansky score [1].",
     False),
])
def test_one_side_only_across_languages(question: str, answer: str, half: bool) -> None:
    assert one_side_only(question, answer) is half


@pytest.mark.parametrize("text, marks", [
    ("16岁及以上", {("up", "16")}),
    ("For patients ≥16 years old", {("up", "16")}),
    ("patients aged 16 or older", {("up", "16")}),
    ("16岁以下", {("down", "16")}),
    ("those under 16", {("down", "16")}),
    ("<16岁", {("down", "16")}),
    ("aged 18-70 years", set()),
])
def test_group_marks(text: str, marks: set) -> None:
    from assistant.decide import group_marks

    assert group_marks(text) == marks


RECORD = RetrievedChunk(
    chunk_id="r1", doc_id="sbrt-record", title="Pre-operative SBRT plus PD-1 blockade", start=0,
    end=200, language="en",
    text="Inclusion criteria\nAged 12-75 years.\nFor patients ≥16 years old, ECOG score is between "
         "0 and 2.\nFor patients under 16 years old, Lansky score is at least 70.\nAdequate "
         "organ function.")
ECOG_ONLY = '文献原文(英文):"For patients ≥16 years old, ECOG score is between 0 and 2."[1]'


def _similar(view, close: float = 0.7, shown: float | None = None) -> dict:
    """Stands in for the embedder's cosines: every sentence of the record ``close`` to the
    question (so only the group rule chooses), the ECOG one ``shown`` where given."""
    return {(view.n, s.start): shown if shown is not None and "ECOG" in s.text else close
            for s in view.sentences}


def test_the_other_groups_sentence_of_the_cited_record_is_quoted() -> None:
    view = PassageView.of(1, RECORD)
    found = other_side_quote(SCORE_Q, ECOG_ONLY, [view], {"sbrt-record"}, _similar(view), 0.5)
    assert found is not None and found[1].text.startswith("For patients under 16 years old")


# a question in Chinese is far from both English criteria (cosines ~0.4, below the 0.5 a quote
# across languages needs): the other group's is quoted when nearly as close as the one shown
@pytest.mark.parametrize("close, ecog", [(0.3, 0.3), (0.37, 0.40), (0.6, 0.9)])
def test_the_other_groups_sentence_nearly_as_close_as_the_one_shown_is_quoted(
        close: float, ecog: float) -> None:
    view = PassageView.of(1, RECORD)
    found = other_side_quote(SCORE_Q, ECOG_ONLY, [view], {"sbrt-record"},
                             _similar(view, close, ecog), 0.5)
    assert found is not None and "Lansky" in found[1].text


@pytest.mark.parametrize("shown, docs, close, ecog", [
    (ECOG_ONLY, {"another-record"}, 0.7, None),  # only a document the answer cites
    (ECOG_ONLY, {"sbrt-record"}, 0.3, 0.45),  # far below the one shown and below 0.5
    ('"For patients ≥16 years old, ECOG…" "For patients under 16 years old, Lansky…"[1]',
     {"sbrt-record"}, 0.7, None),  # both groups answered already
])
def test_no_other_group_quote(shown: str, docs: set, close: float, ecog: float | None) -> None:
    view = PassageView.of(1, RECORD)
    assert other_side_quote(SCORE_Q, shown, [view], docs, _similar(view, close, ecog),
                            0.5) is None
