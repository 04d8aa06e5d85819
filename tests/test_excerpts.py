"""Passage excerpts for the prompt (assistant/excerpts.py): the window that holds the answer,
within the budget, across languages."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.excerpts import ELLIPSIS, excerpt
from ingest.text import weighted_len

EN = ("Soft tissue sarcoma is a rare malignant tumour. Chemotherapy with doxorubicin is the "
      "standard first-line treatment. The trial enrolled patients in eleven centres across "
      "China. In ALTER-S004 the objective response rate was 28.57% and the disease control "
      "rate was 100%. Adverse events were mostly mild. Hypertension occurred in some patients. "
      "Further randomised trials are planned to confirm the benefit.")
ZH = ("软组织肉瘤是一类少见的恶性肿瘤。阿霉素化疗是一线标准治疗。该研究在国内多个中心开展。"
      "ALTER-S004研究中安罗替尼联合化疗的ORR为28.57%,疾病控制率100%。"
      "不良反应多为轻度。高血压较为常见。后续仍需大型随机试验验证。")


def _inner(text: str) -> str:
    return text.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS)


def test_short_text_or_no_budget_is_unchanged() -> None:
    assert excerpt(EN, "What was the ORR?", 0) == EN
    assert excerpt(EN, "What was the ORR?", 10_000) == EN


def test_english_window_holds_the_answer_within_budget() -> None:
    out = excerpt(EN, "What was the objective response rate in ALTER-S004?", 180)
    assert "28.57%" in out
    assert out.startswith(ELLIPSIS) and out.endswith(ELLIPSIS)
    assert weighted_len(_inner(out)) <= 180
    assert _inner(out) in EN
    assert "doxorubicin" not in out  # the beginning was left out


def test_chinese_window_counts_cjk_double() -> None:
    out = excerpt(ZH, "ALTER-S004研究的ORR是多少?", 120)
    assert "ORR为28.57%" in out
    assert weighted_len(_inner(out)) <= 120
    assert _inner(out) in ZH


def test_cross_lingual_question_finds_the_sentence_by_exact_terms() -> None:
    # English question, Chinese passage: no shared words, but the trial id and ORR match
    out = excerpt(ZH, "What was the ORR of ALTER-S004?", 120)
    assert "28.57%" in out


def test_quantity_question_prefers_a_sentence_with_a_number() -> None:
    text = ("The drug was well tolerated overall. Most patients continued treatment. "
            "The median follow-up was 14 months. Quality of life was preserved.")
    out = excerpt(text, "How long was follow-up?", 60)
    assert "14 months" in out


def test_a_single_overlong_sentence_is_cut_to_the_budget() -> None:
    text = "ORR " + "very " * 100 + "long."
    out = excerpt(text, "ORR?", 50)
    assert out.endswith(ELLIPSIS) and out.startswith("ORR")
    assert weighted_len(_inner(out)) <= 50


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab 。.12%软组织ORR\n")), min_size=0, max_size=400),
       st.integers(min_value=20, max_value=300))
def test_excerpt_is_always_a_piece_of_the_text_within_budget(text: str, budget: int) -> None:
    out = excerpt(text, "ORR软组织 12%?", budget)
    if weighted_len(text) <= budget:
        assert out == text
    else:
        assert _inner(out).strip() in text
        assert weighted_len(_inner(out)) <= budget
