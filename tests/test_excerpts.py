"""Passage excerpts for the prompt (assistant/excerpts.py): the window that holds the answer,
within the budget, across languages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.claims import entities_in, measures_in
from assistant.excerpts import (
    ELLIPSIS,
    _best_window,
    _clauses,
    cut_weighted,
    excerpt,
    question_terms,
    sentence_score,
)
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


# -- the best sentences across passages (CLINCITE_ANSWER__EVIDENCE_CHARS) ---------------------

from assistant.excerpts import select_sentences  # noqa: E402

SRE = ("地舒单抗是一种RANKL单克隆抗体。与唑来膦酸相比,地舒单抗使首次SRE的发生风险下降近20%。"
       "颌骨坏死的发生率两组相近,分别为1.8%与1.3%。低钙血症更常见于地舒单抗组。")
OTHER = ("骨转移是晚期肿瘤的常见并发症。约70%的乳腺癌患者会发生骨转移。"
         "骨转移可导致疼痛、病理性骨折和脊髓压迫。")


def test_best_sentences_keep_the_answer_of_a_lower_ranked_passage() -> None:
    q = "地舒单抗与唑来膦酸相比,首次SRE风险下降多少?"
    first, second = select_sentences([OTHER, SRE], q, budget=80)
    assert "首次SRE的发生风险下降近20%" in second
    assert first == ""  # the higher-ranked passage has nothing on the question
    assert weighted_len(second.replace(ELLIPSIS, "").replace(" ", "")) <= 80


def test_a_semantic_score_finds_the_sentence_words_miss() -> None:
    # the question says 骨相关事件, the passage says SRE: only meaning links them
    q = "地舒单抗与唑来膦酸相比,骨相关事件风险下降多少?"
    answer = "与唑来膦酸相比,地舒单抗使首次SRE的发生风险下降近20%。"

    def meaning(sentences):  # stands in for EmbeddingGemma: close only for the SRE sentence
        return [0.9 if s == answer else 0.3 for s in sentences]

    (kept,) = select_sentences([SRE], q, budget=60, semantic=meaning)
    assert answer in kept


def test_kept_sentences_stay_in_document_order_with_gaps_marked() -> None:
    q = "低钙血症和RANKL单克隆抗体"
    (kept,) = select_sentences([SRE], q, budget=70)
    assert kept.index("RANKL") < kept.index("低钙血症")  # document order, not score order
    assert "首次SRE" not in kept and " … " in kept  # the sentences between are left out
    assert not kept.startswith(ELLIPSIS) and not kept.endswith(ELLIPSIS)


def test_a_passage_with_nothing_kept_is_empty() -> None:
    q = "地舒单抗与唑来膦酸相比,首次SRE风险下降多少?"
    kept = select_sentences([SRE, OTHER], q, budget=60)
    assert kept[1] == ""

ORR_Q = "What was the ORR of ALTER-S004?"
ENROL_Q = "How many patients were enrolled in ALTER-S004?"


@pytest.mark.parametrize("question, sentence, score, with_lexicon", [
    # shared units / question units + 0.5 per exact term + 0.3 for a number when one is asked
    # (+ 1.0 per asked measure, + 0.3 per asked subject through the lexicon)
    (ORR_Q, "In ALTER-S004 the ORR was 10.13%.", 2.0, 3.3),
    (ORR_Q, "The ORR was high.", 1.0, 2.0),
    (ORR_Q, "ALTER-S004 enrolled patients.", 1.0, 1.3),
    (ORR_Q, "Anlotinib is a TKI.", 0.0, 0.0),
    (ENROL_Q, "ALTER-S004 enrolled 154 patients.", 3 / 4 + 0.5 + 0.3, None),
    (ENROL_Q, "Patients were enrolled.", 2 / 4, None),
    (ENROL_Q, "Enrolment closed in 2019.", 0.3, None),
    ("ORR?", "The ORR was high.", 1.0 + 0.5, None),  # one word asked, and found
])
def test_sentence_score_hand_computed(question: str, sentence: str, score: float,
                                      with_lexicon: float | None) -> None:
    units, exact, wants_number = question_terms(question)
    assert sentence_score(sentence, units, exact, wants_number) == pytest.approx(score)
    if with_lexicon is not None:
        assert sentence_score(sentence, units, exact, wants_number, measures_in(question),
                              entities_in(question)) == pytest.approx(with_lexicon)


def test_question_terms() -> None:
    assert question_terms(ORR_Q) == ({"alter-s004", "orr"}, {"alter-s004", "orr"}, False)
    assert question_terms(ENROL_Q)[2] is True


@pytest.mark.parametrize("text, budget, prefix", [
    ("骨转移abc", 5, "骨转"), ("骨转移abc", 6, "骨转移"), ("abc", 3, "abc"), ("abc", 0, ""),
    ("ab骨", 3, "ab"),
])
def test_cut_weighted(text: str, budget: int, prefix: str) -> None:
    assert cut_weighted(text, budget) == prefix


@pytest.mark.parametrize("scores, budget, window", [
    ([1, 0, 0, 1], 3, (0, 2)),  # ties: the earliest window
    ([0, 1, 1, 0], 3, (1, 3)),
    ([0, 0, 0, 2], 3, (2, 4)),
    ([1, 1, 1, 1], 7, (0, 4)),  # everything fits
])
def test_best_window(scores: list[float], budget: int, window: tuple[int, int]) -> None:
    spans = [(0, 1), (2, 3), (4, 5), (6, 7)]  # "a b c d": one letter per span
    assert _best_window("a b c d", spans, scores, budget) == window


def test_best_window_single_span_over_budget_stands_alone() -> None:
    assert _best_window("aaaaa b", [(0, 5), (6, 7)], [1, 0], 3) == (0, 1)
    assert _best_window("aaaaa b", [(0, 5), (6, 7)], [0, 1], 3) == (1, 2)
    # it competes on its own score with the windows that fit
    assert _best_window("aaaaa b", [(0, 5), (6, 7)], [1.5, 1.0], 3) == (0, 1)


def test_clauses_cut_after_commas_and_semicolons() -> None:
    text = "aa, bb; cc：dd"
    assert [text[a:b] for a, b in _clauses(text, 0, len(text))] == ["aa, ", "bb; ", "cc：", "dd"]
    assert [text[a:b] for a, b in _clauses(text, 4, 10)] == ["bb; ", "cc"]


# the lexicon links an English question to Chinese sentences that share no word with it
LEXICON_ZH = "骨转移很常见。唑来膦酸是一种双膦酸盐。地舒单抗是一种抗体。患者的骨相关事件风险较高。"


@pytest.mark.parametrize("question, kept", [
    ("What is denosumab?", "…地舒单抗是一种抗体。…"),  # an asked subject (drug)
    ("How common are skeletal-related events?", "…患者的骨相关事件风险较高。"),  # a measure
])
def test_best_sentences_use_the_lexicon_across_languages(question: str, kept: str) -> None:
    assert select_sentences([LEXICON_ZH], question, budget=28) == [kept]


def test_best_sentences_prefer_a_number_for_a_quantity_question() -> None:
    text = ("ALTER-S004 enrolled patients. ALTER-S004 enrolled 154 patients. "
            "Quality of life was kept.")
    assert select_sentences([text], ENROL_Q, budget=40) == ["…ALTER-S004 enrolled 154 patients.…"]


LONG_FIRST = ("In ALTER-S004 the ORR was 28.57%, the disease control rate was 100%, and adverse "
              "events were mostly mild, with hypertension the most common. Enrolment closed in "
              "2019.")
LONG_MIDDLE = ("Adverse events were mostly mild, hypertension was the most common, and in "
               "ALTER-S004 the ORR was 28.57%, as reported.")


@pytest.mark.parametrize("text, kept", [
    # the passage's first sentence, cut to its first clause (at offset 0)
    (LONG_FIRST, "In ALTER-S004 the ORR was 28.57%, … Enrolment closed in 2019."),
    (LONG_MIDDLE, "…and in ALTER-S004 the ORR was 28.57%,…"),
])
def test_sentence_over_max_sentence_is_cut_to_its_best_clauses(text: str, kept: str) -> None:
    assert select_sentences([text], ORR_Q, budget=200, max_sentence=40) == [kept]
    # without the limit the whole sentence is kept
    assert select_sentences([text], ORR_Q, budget=200) == [text]


@pytest.mark.parametrize("question, text, kept", [
    ("What is denosumab?", LEXICON_ZH, "…地舒单抗是一种抗体。…"),  # a subject, via the lexicon
    ("How common are skeletal-related events?", LEXICON_ZH, "…患者的骨相关事件风险较高。"),
    # an exact term (trial id) is all an English question shares with this Chinese passage
    ("What is the status of ALTER-S004?",
     "多项试验已开展。ALTER-S004研究已完成入组。其余试验仍在进行。",
     "…ALTER-S004研究已完成入组。…"),
    (ENROL_Q, "ALTER-S004 enrolled patients. ALTER-S004 enrolled 154 patients. Quality of life "
     "was kept.", "…ALTER-S004 enrolled 154 patients.…"),  # the number decides
])
def test_excerpt_scores_by_lexicon_exact_terms_and_numbers(question: str, text: str,
                                                           kept: str) -> None:
    assert excerpt(text, question, 40 if text.isascii() else 28) == kept


SEMANTIC_EN = ("Denosumab lowers risk in patients. Denosumab was given monthly. It cut SRE by a "
               "fifth. Calcium was added.")
SEMANTIC_Q = "How much does denosumab lower the risk of skeletal events in patients?"


def _meaning(calls: list[list[str]]):
    def meaning(sentences):  # stands in for EmbeddingGemma: close only for the SRE sentence
        calls.append(list(sentences))
        return [1.0 if "SRE" in s else 0.0 for s in sentences]
    return meaning


def test_excerpt_semantic_score_finds_the_sentence_words_miss() -> None:
    # by words the first sentence wins (denosumab, risk, patients); by meaning the SRE one
    assert excerpt(SEMANTIC_EN, SEMANTIC_Q, 36) == "Denosumab lowers risk in patients.…"
    calls: list[list[str]] = []
    assert excerpt(SEMANTIC_EN, SEMANTIC_Q, 36, semantic=_meaning(calls)) == \
        "…It cut SRE by a fifth.…"
    assert calls == [["Denosumab lowers risk in patients.", "Denosumab was given monthly.",
                      "It cut SRE by a fifth.", "Calcium was added."]]
    # two sentences are enough to compare
    two = "Denosumab lowers risk in patients. It cut SRE by a fifth."
    assert excerpt(two, SEMANTIC_Q, 36, semantic=_meaning([])) == "…It cut SRE by a fifth."


def test_excerpt_of_one_sentence_does_not_embed_it() -> None:
    calls: list[list[str]] = []
    text = "Denosumab lowers the risk of skeletal events in all patients, every month"
    assert excerpt(text, SEMANTIC_Q, 36, semantic=_meaning(calls)) == \
        "Denosumab lowers the risk of skeleta…"
    assert calls == []  # nothing to compare it with: no embedding call


def test_best_sentences_semantic_score_outweighs_words() -> None:
    (kept,) = select_sentences([SEMANTIC_EN], SEMANTIC_Q, budget=36, semantic=_meaning([]))
    assert kept == "…It cut SRE by a fifth.…"


@pytest.mark.parametrize("text, budget, out", [
    ("ORR was 10%. ", 13, "ORR was 10%. "),  # exactly the budget: unchanged, space and all
    ("骨转移。", 1, ELLIPSIS),  # not even one character fits
    ("   \n   ", 2, ""),  # nothing but space
])
def test_excerpt_edges(text: str, budget: int, out: str) -> None:
    assert excerpt(text, "ORR?", budget) == out


def test_best_sentences_prefer_the_higher_ranked_passage() -> None:
    sentence = "In ALTER-S004 the ORR was 28.57%."
    kept = select_sentences(["Background here. " + sentence, sentence + " More text."], ORR_Q,
                            budget=weighted_len(sentence))
    assert kept == [ELLIPSIS + sentence, ""]


@pytest.mark.parametrize("budget", [17, 20])
def test_best_sentences_fill_the_budget_exactly_and_skip_what_does_not_fit(budget: int) -> None:
    # the best sentence is too long for the budget: the next best (17 characters) still fits
    text = ("The ORR of ALTER-S004 was 28.57% in the whole trial population. The ORR was high. "
            "Other.")
    assert select_sentences([text], ORR_Q, budget) == ["…The ORR was high.…"]


@pytest.mark.parametrize("text, budget, out", [
    # a sentence over the budget: its best clause, without the space after the comma
    (LONG_MIDDLE, 45, "…and in ALTER-S004 the ORR was 28.57%,…"),
    (LONG_FIRST, 45, "In ALTER-S004 the ORR was 28.57%,…"),
    (LONG_MIDDLE, 60, "…and in ALTER-S004 the ORR was 28.57%, as reported."),
])
def test_excerpt_cuts_a_long_sentence_to_its_best_clauses(text: str, budget: int,
                                                          out: str) -> None:
    assert excerpt(text, ORR_Q, budget) == out


def test_excerpt_scores_each_sentence_on_its_own() -> None:
    # one sentence with both asked terms beats a window whose sentences have one each
    text = "The ORR was high. Nothing else. The PFS was long. Both ORR and PFS were reported."
    assert excerpt(text, "What were the ORR and the PFS?", 31) == \
        "…Both ORR and PFS were reported."


def test_excerpt_exact_term_outweighs_a_shared_word() -> None:
    # "patients" and "QLT" are both shared words; the acronym is an exact term too (and no
    # lexicon entry: the exact-term bonus alone decides)
    text = "Patients were treated. QLT met twice. Nothing else."
    assert excerpt(text, "What did QLT report for patients?", 22) == "…QLT met twice.…"


def test_best_sentences_exact_term_outweighs_a_shared_word() -> None:
    text = "Patients were treated. QLT met twice. Nothing else."
    assert select_sentences([text], "What did QLT report for patients?", 22) == \
        ["…QLT met twice.…"]


# the lexicon's terms bind no number but still choose what the model reads across languages
AE_ZH = "研究共纳入142例患者。治疗耐受良好。最常见的不良事件包括腹泻(84%)、恶心(54%)。"


@pytest.mark.parametrize("question", [
    "How often did diarrhoea and nausea occur?",
    "How often did diarrhea occur?",
])
def test_best_sentences_match_the_lexicons_terms_across_languages(question: str) -> None:
    (kept,) = select_sentences([AE_ZH], question, budget=42)
    assert "腹泻(84%)" in kept and "142" not in kept


# the lexicon's cues (what is asked about that is no measure or term) choose across languages
# too: "怎么定义" reads the sentence that says "defined as", not the one sharing the trial's words
RECORD = ("Resectable pulmonary nodules are treated with SBRT and PD-1 before surgery. "
          "Resectable nodules are defined as nodule(s) removable by wedge resection. "
          "SBRT is given to pulmonary nodules in five fractions.")


@pytest.mark.parametrize(("question", "kept"), [
    ("可切除肺结节是怎么定义的?", "defined as"),
    ("中心联系人是谁?", "Central trial contact"),
])
def test_best_sentences_match_the_lexicons_cues_across_languages(question: str,
                                                                kept: str) -> None:
    text = RECORD + " Central trial contact: Xing Zhang. Nodules are counted on CT."
    (out,) = select_sentences([text], question, budget=80)
    assert kept in out and "five fractions" not in out


# a sentence split at its semicolons: the answer's two clauses and a short one between them
NAIVE = ("EZH-202研究共入组62例患者。在初次治疗的ES患者,ORR为25%;患者中位响应时间为41.1周;DCR为42%;"
         "在复发和难治性的患者中,DCR达到16%。该药获批二线适应症。")


def test_a_short_gap_between_kept_sentences_is_kept() -> None:
    (kept,) = select_sentences([NAIVE], "初治患者的ORR和DCR分别是多少?", budget=45)
    assert "ORR为25%;患者中位响应时间为41.1周;DCR为42%" in kept  # whole, no "…" inside
    assert "获批" not in kept


def test_a_long_gap_between_kept_sentences_stays_marked() -> None:
    from assistant.excerpts import GAP_FILL, _fill_gaps

    text = "A1. " + "x" * GAP_FILL + ". B2."
    spans = [(0, 3), (len(text) - 3, len(text))]
    assert _fill_gaps(text, spans) == spans
    short = "A1. xx. B2."
    assert _fill_gaps(short, [(0, 3), (8, 11)]) == [(0, 11)]
