"""Which way a comparison goes is checked (round 12, written with dev d7-09 to d7-12): a
numberless answer sentence was supported by shared words alone, so "地舒单抗组整体不良反应发生率
更高" passed as well as the source's "…更低". Each row was seen red with the rule removed."""

from __future__ import annotations

import pytest

from assistant.citations import PassageView, check_answer
from assistant.claims import directions_in
from assistant.decide import (
    Coverage,
    answers_question,
    best_quote,
    compared_in,
    question_parts,
    states_comparison,
)
from assistant.types import RetrievedChunk


def passage(n: int, title: str, text: str) -> RetrievedChunk:
    """A retrieved Chinese passage of its own document."""
    return RetrievedChunk(chunk_id=f"c{n}", doc_id=f"d{n}", title=title, language="zh", start=0,
                          end=len(text), text=text)


SAFETY = passage(1, "乳腺癌骨转移的全程管理",
                 "一项头对头比较地舒单抗与唑来膦酸的Ⅲ期临床研究入组超过2000例患者。在生活质量和安全性方面,"
                 "地舒单抗组安全性更好,整体不良反应发生率更低。")
Q = "地舒单抗组与唑来膦酸组相比,整体不良反应发生率如何?"


@pytest.mark.parametrize("text, ways", [
    ("整体不良反应发生率更低", {"down"}),
    ("The rate was lower with denosumab and safety was better.", {"down", "better"}),
    ("两组发病率相似", {"same"}),
    ("ORR为25%", set()),
    # a direction word inside a term's name goes no way (neutropenia, thrombocytopenia)
    ("不良反应包括中性粒细胞减少与血小板减低", set()),
])
def test_directions_in(text: str, ways: set) -> None:
    assert directions_in(text) == ways


@pytest.mark.parametrize("answer, shown", [
    ("地舒单抗组整体不良反应发生率更低[1]。", True),
    ("地舒单抗组整体不良反应发生率更高[1]。", False),  # the other way
    ("两组整体不良反应发生率相似[1]。", False),
])
def test_a_comparison_is_supported_only_by_a_sentence_going_the_same_way(answer: str,
                                                                       shown: bool) -> None:
    result = check_answer(answer, [SAFETY], "zh", question=Q)
    assert (result.citations != []) is shown, result.checks


# -- a comparison asked without a number (round 15, dev d7-09 to d7-12) ----------------------
# "How did X compare between A and B?" is answered by which way X goes ("lower"), quoted where
# the model's draft does not say it; a sentence going some way about something else (疗效 "优于",
# SRE risk "下降") answers no comparison of adverse events or of hypocalcaemia.

SIDES = passage(2, "骨保护药物的头对头研究",
                "结果显示,地舒单抗组首次骨相关事件的发生风险下降近20%,疗效显著优于唑来膦酸。"
                "在安全性方面,地舒单抗组整体不良反应发生率更低。两组的颌骨坏死发病率则相似。")


@pytest.mark.parametrize("question, compared", [
    (Q, {"adverse"}),
    ("How did the overall adverse event rate compare between the denosumab and zoledronic "
     "acid groups?", {"adverse"}),
    ("How did the incidence of hypocalcaemia compare between denosumab and zoledronic acid?",
     {"term:hypocalcaemia"}),
    ("地舒单抗与唑来膦酸比较,颌骨坏死的发生率有何差异?", {"onj", "term:onj"}),
    # a number asked in so many words: a quantity question, as before
    ("与唑来膦酸相比,地舒单抗组首次骨相关事件风险下降多少?", set()),
    ("By how much did the SRE risk fall with denosumab compared with zoledronic acid?", set()),
    # no comparison asked
    ("地舒单抗组整体不良反应发生率是多少?", set()),
    # one side's value asked, the other named for contrast: a number is asked
    ("What was the overall adverse event rate with denosumab compared with zoledronic acid?",
     set()),
    ("How did the adverse event rate differ between the denosumab and zoledronic acid groups?",
     {"adverse"}),
    # a comparison of nothing the lexicon names: no sentence can be told to answer it
    ("地舒单抗与唑来膦酸相比如何?", set()),
])
def test_compared_in(question: str, compared: set) -> None:
    assert compared_in(question) == compared
    if compared:  # "lower" answers it: no number is asked
        assert not question_parts(question).quantity


@pytest.mark.parametrize("question, quote", [
    (Q, "整体不良反应发生率更低"),
    ("How did the overall adverse event rate compare between the denosumab and zoledronic "
     "acid groups?", "整体不良反应发生率更低"),
    ("地舒单抗与唑来膦酸比较,颌骨坏死的发生率有何差异?", "颌骨坏死发病率则相似"),
    # near misses: nothing compares hypocalcaemia; "优于" and "下降" are of efficacy and SRE risk
    ("How did the incidence of hypocalcaemia compare between denosumab and zoledronic acid?",
     None),
    ("地舒单抗组与唑来膦酸组相比,低钙血症的发生率如何?", None),
])
def test_a_comparison_is_quoted_only_from_a_sentence_that_makes_it(question: str,
                                                                  quote: str | None) -> None:
    parts = question_parts(question)
    found = best_quote(question, [PassageView.of(1, SIDES)], parts)
    if quote is None:
        assert found is None
    else:
        assert found is not None and quote in found[1].text, found


SINGLE_ARM = passage(3, "安罗替尼联合化疗的单臂研究",
                     "安罗替尼联合化疗治疗晚期软组织肉瘤。在安全性方面,3级及以上的不良反应发生率36.7%,"
                     "包含中性粒细胞减少,16.7%的患者减少了化疗药物的剂量。")


@pytest.mark.parametrize("question", [
    "安罗替尼联合化疗与单纯化疗相比,整体不良反应发生率如何?",
    "How did the overall adverse event rate compare between anlotinib plus chemotherapy and "
    "chemotherapy alone?",
])
def test_a_change_of_something_else_makes_no_comparison(question: str) -> None:
    """One arm's adverse events, "减少" only of a dose and in neutropenia's name: no clause
    says which way the adverse events go (dev d9-03/04: both models quoted such a sentence)."""
    parts = question_parts(question)
    assert best_quote(question, [PassageView.of(1, SINGLE_ARM)], parts) is None
    assert not states_comparison(parts, SINGLE_ARM.text)


@pytest.mark.parametrize("answer, shown", [
    ("The overall adverse event rate was lower in the denosumab group [1].", True),
    ("地舒单抗组整体不良反应发生率更低[1]。", True),
    # a sentence of efficacy or of another event going some way does not answer it
    ("地舒单抗疗效显著优于唑来膦酸[1]。", False),
    ("两组颌骨坏死发病率相似[1]。", False),
])
def test_a_comparison_answers_only_of_what_is_compared(answer: str, shown: bool) -> None:
    question = ("How did the overall adverse event rate compare between the denosumab and "
                "zoledronic acid groups?")
    parts = question_parts(question)
    coverage = Coverage(subjects={"denosumab", "zoledronic_acid"},
                        compared=states_comparison(parts, answer))
    assert answers_question(parts, coverage) is shown


def _close(sentences, chunks):  # the embedder across languages, for a passage on the topic
    return [[0.8 for _ in chunks] for _ in sentences]


def test_a_direction_is_bound_to_the_sentence_about_what_it_compares() -> None:
    """An English "lower" of adverse events over a Chinese passage (no shared words: meaning
    finds the passage) is the 不良反应 sentence's, not the SRE risk's "下降" (the first sentence
    going down): the quote shown is the one that states it."""
    result = check_answer("The overall adverse event rate was lower with denosumab [1].", [SIDES],
                          "en", similarity=_close)
    (c,) = result.citations
    assert "不良反应" in c.quote and "骨相关事件" not in c.quote
    # hypocalcaemia lower: no sentence says so, though the passage means much the same
    assert check_answer("Hypocalcaemia was lower with denosumab [1].", [SIDES], "en",
                        similarity=_close).citations == []
