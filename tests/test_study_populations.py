"""Whose patients is a figure of? A study names its patients once ("共纳入300例非转移性…患者") and
its later sentences give their figures without naming them again; a study of two populations
gives some figures for one of them. Populations lie on axes (line of treatment, biomarker level,
stage): only populations on one axis exclude each other. The texts are made up; each table row
was checked red with its rule removed (2026-12-07)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.citations import PassageView, check_answer, last_populations
from assistant.decide import best_quote, question_parts
from assistant.lexicon import (
    other_population,
    pooled,
    population_conflict,
    populations_in,
    subpopulation,
)
from assistant.types import RetrievedChunk


def chunk(text: str, language: str = "zh", title: str = "Doc") -> RetrievedChunk:
    return RetrievedChunk(chunk_id="c1", doc_id="doc1", title=title, text=text, start=0,
                          end=len(text), language=language)


def checked(answer: str, passage: RetrievedChunk, question: str) -> bool:
    """Whether the checker shows ``answer`` (it binds a source sentence) for ``question``."""
    return check_answer(answer, [passage], passage.language, question=question).citations != []


# a study of non-metastatic patients only; its figures never name them again
LOCAL = chunk("XYZ-101是一项国际多中心研究,共纳入300例非转移性尤文肉瘤患者。"
              "中位随访时间为60个月。5年OS率为78%,5年EFS率为65%。", title="XYZ-101研究的生存结果")
# a study of two populations, then one population's own figures, then a study of its own
TWO = chunk("ABC-901是一项II期研究。在80例初治和复发的患者中,ORR为20%,DCR为55%。"
            "在初治患者中,ORR为35%;DCR为60%;在复发患者中,DCR为40%。"
            "胡团队报道了DEF-302研究的结果,ORR为11.1%。", title="ABC-901试验")
TWO_EN = chunk("ABC-901 was a phase II study. Among the 80 treatment-naive and relapsed patients, "
               "the ORR was 20%. In the treatment-naive patients, the ORR was 35%.",
               language="en")
# a whole trial's figure next to each population's
LEVELS = chunk("PAL-201是一项II期研究,共入组40例患者。中位PFS为4个月,中位OS为12个月。"
               "对比低表达患者,高表达患者的中位OS更长:7个月 vs 13个月。", title="PAL-201研究")


@pytest.mark.parametrize("text, populations", [
    ("共纳入300例非转移性尤文肉瘤患者", {"non_metastatic"}),  # not also "metastatic"
    ("转移性尤文肉瘤患者", {"metastatic"}),
    ("patients with non-metastatic Ewing sarcoma", {"non_metastatic"}),
    ("metastatic or unresectable sarcoma", {"metastatic"}),
    ("局限期横纹肌肉瘤", {"non_metastatic"}),
    ("本研究的局限性在于样本量小", set()),  # a limitation, not a stage
])
def test_the_stage_is_a_population(text: str, populations: set) -> None:
    assert populations_in(text) == populations


@pytest.mark.parametrize("asked, stated, other", [
    ({"treatment_naive", "metastatic"}, {"treatment_naive"}, False),  # another axis: no conflict
    ({"metastatic"}, {"treatment_naive"}, False),
    ({"metastatic"}, {"non_metastatic"}, True),
    ({"treatment_naive"}, {"treatment_naive", "relapsed"}, True),
])
def test_only_populations_on_an_axis_asked_are_other_patients(asked: set, stated: set,
                                                              other: bool) -> None:
    assert other_population(asked, stated) is other
    assert population_conflict(asked, stated) is (other and not asked & stated)


@pytest.mark.parametrize("populations, is_pooled", [
    ({"treatment_naive", "relapsed"}, True),
    ({"treatment_naive", "metastatic"}, False),  # one group described twice
])
def test_pooled_needs_two_populations_of_one_axis(populations: set, is_pooled: bool) -> None:
    assert pooled(populations, False) is is_pooled


@pytest.mark.parametrize("question, populations", [
    ("ABC-901试验中,初治的转移性患者ORR是多少?", ()),  # one population, described twice
    ("ABC-901试验中,转移性和非转移性患者的5年OS率分别是多少?", ("metastatic", "non_metastatic")),
])
def test_populations_asked_side_by_side_are_of_one_axis(question: str, populations: tuple) -> None:
    assert question_parts(question).populations == populations


@pytest.mark.parametrize("text, populations", [
    ("在80例初治和复发的患者中,ORR为20%", {"treatment_naive", "relapsed"}),
    ("在80例初治和复发的患者中,ORR为20%。在初治患者中,ORR为35%;", {"treatment_naive"}),
    ("中位随访时间为60个月。", set()),
])
def test_last_populations_are_the_last_clause_naming_any(text: str, populations: set) -> None:
    assert last_populations(text) == populations


def test_a_sentence_takes_the_populations_its_study_named_last() -> None:
    view = PassageView.of(1, TWO)
    by_start = {s.text: s for s in view.sentences}
    dcr = next(s for t, s in by_start.items() if t.startswith("DCR为60%"))
    assert dcr.populations == {"treatment_naive"}
    assert dcr.study_populations == {"treatment_naive", "relapsed"}
    other = next(s for t, s in by_start.items() if t.startswith("胡团队"))
    assert other.populations == set() and other.study_populations == set()  # DEF-302's own


@pytest.mark.parametrize("question, answer, shown", [
    # the study's patients are non-metastatic: none of its figures is of metastatic patients
    ("XYZ-101研究中转移性尤文肉瘤患者的5年OS率是多少?", "转移性患者的5年OS率为78%[1]。", False),
    ("XYZ-101研究中非转移性患者的5年OS率是多少?", "5年OS率为78%[1]。", True),
    ("XYZ-101研究的5年OS率是多少?", "5年OS率为78%[1]。", True),
])
def test_a_studys_population_is_the_population_of_its_later_figures(question: str, answer: str,
                                                                    shown: bool) -> None:
    assert checked(answer, LOCAL, question) is shown


@pytest.mark.parametrize("question, shown", [
    ("XYZ-101研究中转移性尤文肉瘤患者的5年OS率是多少?", False),
    ("XYZ-101研究的5年OS率是多少?", True),
])
def test_no_quote_of_another_stage(question: str, shown: bool) -> None:
    found = best_quote(question, [PassageView.of(1, LOCAL)], question_parts(question), "os")
    assert (found is not None and "78%" in found[1].text) is shown


@pytest.mark.parametrize("question, answer, shown", [
    # no population asked: one population's figure is not that of all 80 patients
    ("ABC-901试验的ORR是多少?", "ORR为35%[1]。", False),
    ("ABC-901试验的ORR是多少?", "ORR为20%[1]。", True),
    ("ABC-901试验中初治患者的ORR是多少?", "初治患者的ORR为35%[1]。", True),
    # a piece that names none is the figure of the population its sentence named last
    ("ABC-901试验中复发患者的DCR是多少?", "复发患者的DCR为60%[1]。", False),
    ("ABC-901试验中复发患者的DCR是多少?", "复发患者的DCR为40%[1]。", True),
    # another study, after it: ABC-901's patients are not its patients
    ("DEF-302研究的ORR是多少?", "ORR为11.1%[1]。", True),
])
def test_one_populations_figure_is_no_figure_of_all(question: str, answer: str,
                                                    shown: bool) -> None:
    assert checked(answer, TWO, question) is shown


@pytest.mark.parametrize("answer, shown", [
    ("The ORR was 35% [1].", False),
    ("The ORR was 20% [1].", True),
])
def test_one_populations_figure_in_english(answer: str, shown: bool) -> None:
    question = "What was the ORR of the patients in ABC-901?"
    assert checked(answer, TWO_EN, question) is shown


def test_subpopulation() -> None:
    study = {"treatment_naive", "relapsed", "metastatic"}
    assert subpopulation({"treatment_naive"}, study)
    assert not subpopulation({"treatment_naive", "relapsed"}, study)
    assert not subpopulation({"metastatic"}, study)  # the only stage named: all patients
    assert not subpopulation(set(), study)


# the only PFS given is one population's
SUB = chunk("GHI-401研究纳入初治和复发的患者。在初治患者中,中位PFS为9个月。", title="GHI-401研究")


@pytest.mark.parametrize("question, found_in", [
    ("ABC-901试验的ORR是多少?", "20%"),
    ("GHI-401研究的中位PFS是多少?", None),
    ("GHI-401研究中初治患者的中位PFS是多少?", "9个月"),
])
def test_no_quote_of_one_population_for_all(question: str, found_in: str | None) -> None:
    measure = "orr" if "ORR" in question else "pfs"
    found = best_quote(question, [PassageView.of(1, TWO), PassageView.of(2, SUB)],
                       question_parts(question), measure)
    assert (found[1].text if found else None) == found_in or (
        found is not None and found_in is not None and found_in in found[1].text)


@pytest.mark.parametrize("population, value", [
    ("low_expression", "7个月"),
    ("high_expression", "13个月"),
])
def test_a_population_part_is_quoted_from_a_sentence_that_names_it(population: str,
                                                                  value: str) -> None:
    """The whole trial's "中位OS为12个月" names no population: it is neither part's answer."""
    question = "PAL-201研究中低表达和高表达患者的中位OS分别是多少?"
    parts = replace(question_parts(question), population=frozenset({population}), values=1)
    found = best_quote(question, [PassageView.of(1, LEVELS)], parts, "os")
    assert found is not None and value in found[1].text and "12个月" not in found[1].text


@pytest.mark.parametrize("population", ["low_expression", "high_expression", None])
def test_a_population_part_no_sentence_names_is_not_found(population: str | None) -> None:
    """Only the whole trial's PFS is given: no quote for either part, nor for the question
    as a whole (its populations asked side by side)."""
    question = "PAL-201研究中低表达和高表达患者的中位PFS分别是多少?"
    parts = question_parts(question)
    if population is not None:
        parts = replace(parts, population=frozenset({population}), values=1)
    assert best_quote(question, [PassageView.of(1, LEVELS)], parts, "pfs") is None


RECORD = chunk("The study plans to enrol 30 patients. In 2016, a phase II clinical study evaluated "
               "anlotinib in advanced sarcoma and included 154 patients.", language="en",
               title="Pre-operative SBRT for resectable pulmonary metastatic osteosarcoma")


@pytest.mark.parametrize("question, answer, shown", [
    # the record's title names its patients: metastatic ones
    ("How many patients with non-metastatic osteosarcoma does the SBRT trial plan to enrol?",
     "The trial plans to enrol 30 patients [1].", False),
    ("How many patients does the SBRT trial plan to enrol?",
     "The trial plans to enrol 30 patients [1].", True),
    # a study the text introduces is not the title's: its patients are not named metastatic
    ("How many patients with non-metastatic sarcoma did the 2016 phase II study include?",
     "It included 154 patients [1].", True),
])
def test_a_records_title_names_its_own_studys_patients(question: str, answer: str,
                                                       shown: bool) -> None:
    assert checked(answer, RECORD, question) is shown


# another trial's study starts mid-paragraph; its later sentences are not ABC-901's patients'
AFTER = chunk("ABC-901是一项II期研究。在80例初治和复发的患者中,ORR为20%。在初治患者中,ORR为35%。"
              "胡团队报道了DEF-302研究的结果。其ORR为11.1%。", title="ABC-901试验")


def test_a_sentence_after_another_trial_is_opened_is_that_trials() -> None:
    assert checked("DEF-302研究的ORR为11.1%[1]。", AFTER, "DEF-302研究的ORR是多少?")
    last = PassageView.of(1, AFTER).sentences[-1]
    assert last.text.startswith("其ORR") and last.populations == set()
