"""A median is not a rate at a time: "6个月PFS率为29%" answers no question about the median PFS,
and an answer calling it one is not checked (the reverse — a median for "the 6-month PFS rate"
— was already refused). Each row was checked red with its rule removed (2026-12-07)."""

from __future__ import annotations

import pytest

from assistant.citations import PassageView, check_answer
from assistant.decide import best_quote, question_parts
from assistant.types import RetrievedChunk

TRIAL = RetrievedChunk(
    chunk_id="c1", doc_id="d1", title="PAL-201研究", language="zh", start=0, end=60,
    text="PAL-201研究纳入21例患者,6个月PFS率为29%,有6名患者PFS超过6个月。中位OS为12个月。")
# a median's own threshold, and a median written "mOS"
OWN = RetrievedChunk(
    chunk_id="c2", doc_id="d2", title="QRS-301研究", language="zh", start=0, end=60,
    text="QRS-301研究中,某些患者的中位生存期超过72个月。低表达与高表达患者的mOS为7个月 vs 13个月。")


@pytest.mark.parametrize("question, found_in", [
    ("PAL-201研究的中位PFS是多少?", None),
    ("What was the median PFS in PAL-201?", None),
    ("PAL-201研究的6个月PFS率是多少?", "29%"),
    ("PAL-201研究的中位OS是多少?", "12个月"),
])
def test_a_rate_at_a_time_is_no_median(question: str, found_in: str | None) -> None:
    measure = "os" if "OS" in question else "pfs"
    found = best_quote(question, [PassageView.of(1, TRIAL)], question_parts(question), measure)
    assert (found is not None and found_in is not None and found_in in found[1].text) or (
        found is None and found_in is None)


@pytest.mark.parametrize("answer, shown", [
    ("PAL-201研究的中位PFS为29%[1]。", False),
    ("PAL-201研究的中位PFS为6个月[1]。", False),  # 6 patients' PFS passed 6 months
    ("有6名患者PFS超过6个月[1]。", True),
    ("PAL-201研究的6个月PFS率为29%[1]。", True),
])
def test_an_answer_calling_a_rate_a_median_is_not_checked(answer: str, shown: bool) -> None:
    result = check_answer(answer, [TRIAL], "zh", question="PAL-201研究的PFS结果如何?")
    assert (result.citations != []) is shown


@pytest.mark.parametrize("question, found_in", [
    ("QRS-301研究中,某些患者的中位生存期超过多少个月?", "72个月"),
])
def test_a_medians_own_threshold_is_a_median(question: str, found_in: str) -> None:
    found = best_quote(question, [PassageView.of(1, OWN)], question_parts(question), "os")
    assert found is not None and found_in in found[1].text


def test_mos_is_a_median_os() -> None:
    from assistant.claims import sentence_claims

    claims = sentence_claims("低表达与高表达患者的mOS为7个月 vs 13个月。")
    assert [c.quantity.value for c in claims if "os" in c.measures] == ["7", "13"]


def test_mdor_is_a_median_duration_of_response() -> None:
    """"mDOR 24.7个月" gives the duration of response (a median): an answer quoting it must not
    add that the documents do not state the duration of response."""
    from assistant.claims import sentence_claims

    claims = sentence_claims("ORR为40%,mDOR为24.7个月。")
    assert [c.quantity.value for c in claims if "response_duration" in c.measures] == ["24.7"]
    found = best_quote("XYZ-101研究的中位缓解持续时间是多少?",
                       [PassageView.of(1, RetrievedChunk(
                           chunk_id="c3", doc_id="d3", title="XYZ-101研究", language="zh",
                           start=0, end=40, text="XYZ-101研究中,ORR为40%,mDOR为24.7个月。"))],
                       question_parts("XYZ-101研究的中位缓解持续时间是多少?"), "response_duration")
    assert found is not None and "24.7" in found[1].text
