"""Claim-level binding (assistant/claims.py, the checker in assistant/citations.py): one test
table per failure class of the "Right or declined" issue. Each row fails when its rule is
removed (units glued to numbers, measure binding, subject context, respective order...)."""

from __future__ import annotations

import pytest

from assistant.citations import check_answer
from assistant.claims import canonical, entities_in, extract_quantities, sentence_claims
from assistant.types import RetrievedChunk


def chunk(text: str, n: int = 0, language: str = "zh", title: str = "综述",
          heading: str = "") -> RetrievedChunk:
    return RetrievedChunk(chunk_id=f"c{n}", doc_id=f"doc{n}", title=title, text=text, start=0,
                          end=len(text), language=language, heading=heading)


RUBI = chunk("2023年ASCO会议上研究人员发布了鲁比卡丁联合多柔比星在晚期肉瘤一线治疗中的剂量爬坡阶段的疗效"
             "数据,10例入组患者中6例PR,3例SD,1例PD,中位PFS为322天。", 1)
ALTER = chunk("2023年年初ALTER-S004临床研究的最新研究数据发现,针对28例不可切除软组织肉瘤患者采用安罗替尼"
              "联合化疗的新辅助治疗方案,其ORR为28.57%,疾病控制率100%,同时中位PFS达21.7个月。\n"
              "除围术期治疗外,2023年ASCO会议也发布了安罗替尼联合蒽环类药物在晚期软组织肉瘤中的疗效数据,"
              "患者ORR约31.03%,疾病控制率82.76%,中位PFS约6.9个月。", 2)
SRE = chunk("一项回顾性研究发现,在医院收治的123例乳腺癌骨转移患者中,不伴有SREs与伴有SREs组的生存时间"
            "分别为54个月与35个月,有19个月的差距。", 3)
TRIAL = chunk("Inclusion criteria\nMale or female patients aged 18-70 years, ECOG PS score: 0 to 2 "
              "points; expected survival over 3 months.", 4, language="en",
              title="Anlotinib combined with toripalimab in advanced soft tissue sarcoma")
DOSE = chunk("安罗替尼推荐剂量为每日12mg,连续口服2周,停药1周。", 5)
RANGE = chunk("The effective rate of immunotherapy for osteosarcoma is about 5% to 10% after "
              "single agent treatment.", 8, language="en")
RUBI_VERB = chunk("2023年ASCO会议上研究人员发布了鲁比卡丁联合多柔比星的疗效数据,10例入组患者中6例获得PR,3例SD,"
                  "1例PD。", 19)
RUBI_EN = chunk("In the dose-escalation phase, 6 of 10 patients had a partial response and 3 had "
                "stable disease.", 10, language="en")
EZH = chunk("他泽司他EZH-202研究中,初次治疗的上皮样肉瘤患者ORR为25%。\n"
            "国内另一项纳入32例上皮样肉瘤患者的HH2853研究,ORR为28.1%。", 11)
HH2853 = chunk("国内另一项纳入32例上皮样肉瘤患者的HH2853研究,ORR为28.1%。", 12)
RATES = chunk("不同瘤种的骨转移发生率存在显著差异,在肺癌患者中骨转移发生率约为30%~40%,晚期乳腺癌患者骨转移"
              "发生率约为65%~75%,前列腺患者骨转移发生率约为65%~90%。", 13)
TOTAL = chunk("一项回顾性研究共纳入45例(20例骨肉瘤+25例尤文肉瘤)患者,ORR为30%。", 20)
NIRO = chunk("ORR患者在尼罗醋司他组为41%,显着高于安慰剂组8%(P<0.001)。", 6)


@pytest.mark.parametrize("text, expected", [
    ("每日1000mg", [("1000", "mg")]),
    ("4mCi的锶-89", [("4", "mci")]),
    ("45mg D1 D8 q4w", [("45", "mg")]),
    ("maximum diameter 20mm", [("20", "mm")]),
    ("12 mg once daily", [("12", "mg")]),
    ("中位PFS为21.7个月", [("21.7", "month")]),
    ("a median PFS of 5.63 months", [("5.63", "month")]),
    ("28例患者", [("28", "patient")]),
    ("0-25岁", [("0", "age_year"), ("25", "age_year")]),
    ("5% to 10%", [("5", "percent"), ("10", "percent")]),
    ("P<0.001", [("0.001", None)]),
    ("IDH1 PD-1 ALTER-S004 3D", []),
    ("3D打印假体术后12个月", [("12", "month")]),  # a name before it does not end the search
    ("八成以上", [("80", "percent")]),
    ("一半的患者", [("50", "percent")]),
    # a count of groups, not of patients (dev en-12: "will enroll 1 participant" passed on
    # "43 participants in 1 patient group")
    ("43 participants in 1 patient group", [("43", "patient"), ("1", "group")]),
    ("2 treatment groups of 30 patients", [("2", "group"), ("30", "patient")]),
])
def test_numbers_glued_to_units_are_numbers(text: str, expected: list) -> None:
    assert [(q.value, q.unit) for q in extract_quantities(text)] == expected


@pytest.mark.parametrize("text, value, unit", [
    # the unit after a closing parenthesis is the number's: "12(95% CI ...)个月" is 12 months
    ("中位OS为12(95% CI 8.7-15.4)个月", "12", "month"),
    ("(n=28)中位OS为12(95% CI 8.7-15.4)个月", "12", "month"),  # an earlier ( ) is not its
    ("中位OS为12((95% CI))个月", "12", "month"),  # nested: the outer ) closes it
    ("中位OS为12(95% CI 8.7-15.4个月", "12", None),  # never closed
    # the closing parenthesis is looked for within 80 characters of the opening one
    ("12(" + "X" * 78 + ")个月", "12", "month"),
    ("12(" + "X" * 79 + ")个月", "12", None),
])
def test_unit_after_a_parenthesis(text: str, value: str, unit: str | None) -> None:
    quantities = {q.value: q for q in extract_quantities(text)}
    assert quantities[value].unit == unit


@pytest.mark.parametrize("text, written", [
    # a quantity's offsets are where it is written, in the order written
    ("28例患者中一半获得缓解", ["28", "一半"]),
    ("八成以上的患者在12个月内", ["八成", "12"]),
])
def test_quantities_point_at_their_text(text: str, written: list[str]) -> None:
    assert [text[q.start:q.end] for q in extract_quantities(text)] == written


@pytest.mark.parametrize("text, in_parens", [
    # inside ( ) or [ ]: a confidence interval, an n/N, a reference, not a result
    ("ORR为28.57%(95% CI 20-35)", [False, True, True, True]),
    ("ORR 30% (n=10) and DCR 90% (n=10)", [False, True, False, True]),
    ("(ORR 30% (95% CI 20-40), DCR 90%) 12", [True, True, True, True, True, False]),
    ("X线片示3处病灶", [False]),
    ("(X线片示3处病灶)", [True]),
    ("中位OS为12个月[3]", [False, True]),
])
def test_numbers_in_parentheses(text: str, in_parens: list[bool]) -> None:
    assert [q.in_parens for q in extract_quantities(text)] == in_parens


@pytest.mark.parametrize("text, ends", [
    # a range's ends know each other; a number next to a range is no end of it
    ("5% to 10% of 28 patients", [("5", "10"), ("10", "5"), ("28", None)]),
    ("28 patients, 5% to 10%", [("28", None), ("5", "10"), ("10", "5")]),
    ("1-3个月, 5-10岁", [("1", "3"), ("3", "1"), ("5", "10"), ("10", "5")]),
])
def test_range_ends_know_each_other(text: str, ends: list) -> None:
    assert [(q.value, q.partner) for q in extract_quantities(text)] == ends


def test_canonical_numbers() -> None:
    assert [canonical(x) for x in ["1,733", "5.60", "007", "0.001", "28.570"]] == [
        "1733", "5.6", "7", "0.001", "28.57"]


@pytest.mark.parametrize("sentence, value, measure", [
    ("10例入组患者中6例PR,3例SD,1例PD,中位PFS为322天", "10", "enrolment"),
    ("10例入组患者中6例PR,3例SD,1例PD,中位PFS为322天", "6", "pr"),
    ("ORR和DCR分别为27.3%与76.4%", "27.3", "orr"),
    ("ORR和DCR分别为27.3%与76.4%", "76.4", "dcr"),
    ("The ORR and DCR were 27.3% and 76.4%, respectively.", "76.4", "dcr"),
    ("with an ORR of 10.13% and a median PFS of 5.63 months", "5.63", "pfs"),
    ("expected survival over 3 months", "3", "life_expectancy"),
    # the measure before it wins over one later in the clause, even at the clause's start
    ("ORR was 28.57% and DCR was 100%", "28.57", "orr"),
    ("疾病控制率100%与ORR 28.57%", "100", "dcr"),  # ... and right before the number
    # the measure right after the number and its unit, one character apart, wins
    ("10例入组患者中6例 PR,3例 SD", "6", "pr"),
    ("10例入组患者中6例达PR", "6", "pr"),
    # ... or a verb apart: six patients achieved a PR, not six were enrolled
    ("10例入组患者中6例获得PR,3例SD", "6", "pr"),
    ("10例入组患者中6例达到PR", "6", "pr"),
    ("10例入组患者中3例出现SD", "3", "sd"),
    # a unit that is a measure by itself: a dose in mCi or mg, a size in mm, a temperature in
    # °C, though no word of the sentence names it (lexicon `unit_measures`)
    ("一例前列腺癌骨转移患者接受了3mCi的锶-89治疗,1周后疼痛减轻。", "3", "dose"),
    ("Patients took 200 mg of the study drug once a day.", "200", "dose"),
    ("The target lesion must be at least 15 mm on conventional CT.", "15", "size"),
    ("Patients with a fever above 39 °C at screening were excluded.", "39", "temperature"),
    ("体温超过38℃的患者不能入组。", "38", "temperature"),
])
def test_each_number_binds_to_its_measure(sentence: str, value: str, measure: str) -> None:
    claims = {c.quantity.value: c for c in sentence_claims(sentence)}
    assert measure in claims[value].measures



# (failure class, draft, passages, question, supported?)
CASES = [
    # 1. right passage, wrong number: 10 is the enrolment, not the responders
    ("wrong count", "10例患者获得PR。", [RUBI], "", False),
    ("right count", "6例患者获得PR。", [RUBI], "", True),
    # 1b. a digit that occurs elsewhere in the passage is not support for another measure
    ("digit elsewhere", "中位PFS为100个月。", [ALTER], "", False),
    # 2. another study's number: the 6.9 months belong to another trial of the same drug
    ("other study", "中位PFS约6.9个月。", [ALTER], "ALTER-S004研究的中位PFS是多少?", False),
    ("same study", "中位PFS达21.7个月。", [ALTER], "ALTER-S004研究的中位PFS是多少?", True),
    ("named other study", "ALTER-S004研究的中位PFS为6.9个月。", [ALTER], "", False),
    # 2b. the answer names no study: the asked one is told by the question's words
    ("rival matches the question", "中位PFS达21.7个月。", [ALTER],
     "2023年ASCO会议上安罗替尼联合蒽环类药物治疗晚期软组织肉瘤的中位PFS是多少?", False),
    ("asked study's value", "中位PFS约6.9个月。", [ALTER],
     "2023年ASCO会议上安罗替尼联合蒽环类药物治疗晚期软组织肉瘤的中位PFS是多少?", True),
    # 5b. a value no lexicon measure names: the words naming it must be in the source clause
    ("unnamed measure", "安罗替尼联合化疗转化治疗后的R0切除率约为28.57%。", [ALTER], "", False),
    ("unnamed measure, en", "The R0 resection rate was 6 of 10 patients.", [RUBI_EN], "", False),
    ("named as the source", "剂量爬坡阶段10例入组患者中6例PR。", [RUBI], "", True),
    # "6例获得PR" counts responders: it is no enrolment of 6
    ("responders as enrolment", "该研究入组6例患者。", [RUBI_VERB], "", False),
    ("responders", "6例患者获得PR。", [RUBI_VERB], "", True),
    # 2c. the question's drug holds even when the answer does not repeat it
    ("question's drug", "初治上皮样肉瘤患者的ORR为28.1%。", [HH2853], "他泽司他治疗初治上皮样肉瘤的ORR是多少?",
     False),
    ("question's drug kept", "初治上皮样肉瘤患者的ORR为25%。", [EZH], "他泽司他治疗初治上皮样肉瘤的ORR是多少?",
     True),
    # 2d. another tumour's rate, in the next clause of the same sentence
    ("other tumour's clause", "肺癌患者的骨转移发生率约为65%~90%。", [RATES], "", False),
    ("own tumour's clause", "肺癌患者的骨转移发生率约为30%~40%。", [RATES], "", True),
    # 3. respective pairs: 54 months is the group without SREs
    ("reversed pair", "伴有SREs组的生存时间为54个月。", [SRE], "", False),
    ("kept pair", "不伴有SREs组的生存时间为54个月。", [SRE], "", True),
    ("reversed arm", "安慰剂组的ORR为41%。", [NIRO], "", False),
    ("kept arm", "尼罗醋司他组的ORR为41%。", [NIRO], "", True),
    # 5. near miss: an eligibility life expectancy is not a survival result
    ("life expectancy", "The median overall survival was 3 months.", [TRIAL], "", False),
    ("eligibility", "Patients needed an expected survival over 3 months.", [TRIAL], "", True),
    # 8. doses are checked with their unit
    ("injected dose", "安罗替尼推荐剂量为每日1000mg。", [DOSE], "", False),
    ("real dose", "安罗替尼推荐剂量为每日12mg。", [DOSE], "", True),
    # half a range is not the value
    ("half range", "The effective rate of immunotherapy is about 10%.", [RANGE], "", False),
    ("whole range", "The effective rate of immunotherapy is about 5% to 10%.", [RANGE], "", True),
    ("wrong unit", "安罗替尼推荐剂量为每日12g。", [DOSE], "", False),
    # a range's two ends are not two values: "30%~40%" is not lung 30% and breast 40%
    ("range split in a pair", "肺癌与乳腺癌患者的骨转移发生率分别约为30%和40%。", [RATES], "", False),
    ("range kept", "肺癌患者的骨转移发生率约为30%~40%。", [RATES], "", True),
    ("range in words", "肺癌患者的骨转移发生率介于30%与40%之间。", [RATES], "", True),
    # 1b. a total broken into parts is no part's count
    ("total as a part", "The study enrolled 45 osteosarcoma and 25 Ewing sarcoma patients, "
     "respectively.", [TOTAL], "", False),
    ("total named as a part", "该研究纳入45例骨肉瘤患者。", [TOTAL], "", False),
    ("parts", "The study enrolled 20 osteosarcoma and 25 Ewing sarcoma patients, respectively.",
     [TOTAL], "", True),
    ("total with its parts", "The study enrolled 45 patients (20 osteosarcoma, 25 Ewing sarcoma).",
     [TOTAL], "", True),
    ("total", "该研究共纳入45例患者。", [TOTAL], "", True),
    # a group count is no enrolment
    ("groups as enrolment", "The trial will enroll 1 participant.",
     [chunk("The study will enroll 43 participants in 1 patient group.", 19, language="en")],
     "How many participants will the trial enroll?", False),
    ("enrolment", "The trial will enroll 43 participants.",
     [chunk("The study will enroll 43 participants in 1 patient group.", 19, language="en")],
     "How many participants will the trial enroll?", True),
    # 2e. the question's arm holds when the answer's clause names none
    ("question's other arm", "ORR为41%。", [NIRO], "安慰剂组的ORR是多少?", False),
    ("question's arm", "ORR为41%。", [NIRO], "尼罗醋司他组的ORR是多少?", True),
    # the same value twice in one source sentence: the first is of something else, the second
    # states the answer's (a source sentence is read to its end)
    ("second of two, range", "The DCR was 10%.",
     [chunk("The ORR ranged from 5% to 10%, and the DCR was 10%.", 14, language="en")], "",
     True),
    ("second of two, measure", "DCR为30%。", [chunk("该研究中ORR为30%,DCR为30%。", 15)], "", True),
    ("second of two, arm", "安慰剂组的ORR为8%。", [chunk("ORR在尼罗醋司他组为8%,安慰剂组亦为8%。", 16)],
     "", True),
    ("second of two, phrase", "The R0 resection rate was 60%.",
     [chunk("The ORR was 60%, and the R0 resection rate was 60%.", 17, language="en")], "", True),
    ("second of two, group", "不伴有SREs组的3年生存率为40%。",
     [chunk("伴有SREs与不伴有SREs组的3年生存率分别为40%与40%。", 18)], "", True),
]


@pytest.mark.parametrize("name, draft, passages, question, ok", CASES,
                         ids=[c[0] for c in CASES])
def test_claim_level_binding(name: str, draft: str, passages: list, question: str,
                             ok: bool) -> None:
    language = "en" if draft.isascii() else "zh"
    result = check_answer(draft, passages, language, question=question)
    assert (result.supported == 1) is ok, result.checks


def test_quote_is_the_sentence_that_binds() -> None:
    result = check_answer("中位PFS达21.7个月。", [ALTER], "zh", question="ALTER-S004的中位PFS?")
    (c,) = result.citations
    assert "ALTER-S004" in c.quote and "6.9" not in c.quote


def test_trial_ids_are_subjects_in_any_language() -> None:
    assert entities_in("ALTER-S004研究") == entities_in("the ALTER-S004 trial") == {
        "trial:ALTERS004"}
    assert entities_in("安罗替尼 and anlotinib") == {"anlotinib"}
    assert "osteosarcoma" not in entities_in("软骨肉瘤")  # longest alias wins


def test_a_sentence_that_only_restates_the_question_is_not_an_answer() -> None:
    question = "Which previous treatments exclude patients from the anlotinib trial?"
    draft = "The previous treatments exclude patients from the anlotinib trial [1]."
    passage = chunk("Patients previously treated with anlotinib or PD-1 inhibitors are excluded "
                    "from the anlotinib trial.", 7, language="en")
    assert check_answer(draft, [passage], "en", question=question).supported == 0
    assert check_answer(draft, [passage], "en").supported == 1  # without the question: overlap


def test_a_sentence_whose_only_number_is_the_question_s_is_not_an_answer() -> None:
    question = "What Lansky score is required for patients under 16 in the SBRT trial?"
    passage = chunk("Lansky score ≥ 70 for patients under 16 years old.", 9, language="en",
                    title="Pre-operative SBRT plus PD-1 blockade for osteosarcoma")
    restated = "The Lansky score is required for patients under 16 in the SBRT trial [1]."
    assert check_answer(restated, [passage], "en", question=question).supported == 0
    answer = "A Lansky score of at least 70 is required for patients under 16 [1]."
    assert check_answer(answer, [passage], "en", question=question).supported == 1


@pytest.mark.parametrize("context, labels, picked", [
    # negation decides first
    ("不伴有病理性骨折的患者", ["伴有病理性骨折", "不伴有病理性骨折"], 1),
    ("伴有病理性骨折的患者", ["伴有病理性骨折", "不伴有病理性骨折"], 0),
    ("without fracture", ["with fracture", "without fracture"], 1),
    # then the words only one label has
    ("patients with Ewing sarcoma", ["osteosarcoma", "Ewing sarcoma"], 1),
    ("osteosarcoma patients", ["osteosarcoma", "Ewing sarcoma"], 0),
    ("anlotinib arm", ["anlotinib plus chemotherapy", "chemotherapy alone"], 0),
    ("不伴有骨转移", ["不伴有骨折", "不伴有骨转移"], 1),
    # words both labels share tell nothing; nor does a context that is empty or a single label
    ("chemotherapy", ["anlotinib plus chemotherapy", "chemotherapy alone"], None),
    ("anlotinib or placebo", ["anlotinib arm", "placebo arm"], None),  # names both: a tie
    ("no fracture", ["no fracture", "no fracture at all"], None),
    ("", ["with fracture", "without fracture"], None),
    ("Ewing", ["Ewing sarcoma"], None),
])
def test_pick_label(context: str, labels: list[str], picked: int | None) -> None:
    from assistant.claims import pick_label

    assert pick_label(context, labels) == picked


@pytest.mark.parametrize("sentence, bound", [
    # "respectively" pairs the values of its own sentence with the names before them; a number
    # in an earlier sentence is not one of the values
    ("The trial enrolled 154 patients. The ORR and DCR were 28.57% and 100%, respectively.",
     [("154", {"enrolment"}), ("28.57", {"orr"}), ("100", {"dcr"})]),
    ("The ORR and DCR were 28.57% and 100%, respectively.",
     [("28.57", {"orr"}), ("100", {"dcr"})]),
    # the first name at the very start of the sentence is one of the names
    ("ORR and DCR were 30% and 90%, respectively.", [("30", {"orr"}), ("90", {"dcr"})]),
    ("ORR为28.57%，ORR与DCR分别为30%与90%。",
     [("28.57", {"orr"}), ("30", {"orr"}), ("90", {"dcr"})]),
    ("In 2019, 154 patients; the ORR and DCR were 30% and 90%, respectively.",
     [("2019", set()), ("154", set()), ("30", {"orr"}), ("90", {"dcr"})]),
])
def test_respectively_binds_within_its_sentence(sentence: str, bound) -> None:
    from assistant.claims import sentence_claims

    assert [(c.quantity.value, set(c.measures)) for c in sentence_claims(sentence)] == bound


@pytest.mark.parametrize("text", ["The RMS2005 study enrolled 1733 patients.",
                                  "RMS2005研究共纳入1733名患者。", "ISG-STS 1001 trial"])
def test_a_trial_id_holds_no_year(text: str) -> None:
    """"RMS2005" names a trial, not the year 2005 (a year entity would be one more subject the
    source must name, and the English answer failed to bind)."""
    from assistant.claims import entities_in

    assert not {e for e in entities_in(text) if e.startswith("year:")}


NAIVE_RELAPSED = chunk("他泽司他EZH-202研究中,在初次治疗的ES患者,ORR为25%;DCR为42%;"
                       "在复发和难治性的患者中,DCR达到16%。", 14, title="上皮样肉瘤与EZH2抑制剂")


@pytest.mark.parametrize("draft, question, supported", [
    # the relapsed patients' DCR is no answer about treatment-naive patients (class 2/5)
    ("DCR为16%。", "EZH-202研究中初治上皮样肉瘤患者的DCR是多少?", 0),
    ("初治患者DCR为16%。", "EZH-202研究中上皮样肉瘤患者的DCR是多少?", 0),
    ("DCR为42%。", "EZH-202研究中初治上皮样肉瘤患者的DCR是多少?", 1),
    ("复发难治患者DCR为16%。", "EZH-202研究中复发上皮样肉瘤患者的DCR是多少?", 1),
])
def test_a_number_of_other_patients_is_not_support(draft: str, question: str,
                                                    supported: int) -> None:
    result = check_answer(draft, [NAIVE_RELAPSED], "zh", question=question)
    assert result.supported == supported


RMS_EFS = chunk("RMS2005研究共纳入1733名患者,主要评估指标为3年无事件生存率(EFS)。\n"
                "低风险组(n=80)、极高风险组(n=150)的5年EFS率分别为93.7%、48.8%。", 15,
                title="RMS2005")


@pytest.mark.parametrize("draft, supported", [
    # the 5-year EFS is not the 3-year EFS (a must-decline question answered on dev)
    ("The 3-year EFS of the very-high-risk group in RMS2005 was 48.8%.", 0),
    ("极高风险组的3年EFS率为48.8%。", 0),
    ("极高风险组的5年EFS率为48.8%。", 1),
])
def test_a_rate_at_another_time_is_not_support(draft: str, supported: int) -> None:
    lang = "en" if draft.isascii() else "zh"
    assert check_answer(draft, [RMS_EFS], lang).supported == supported


@pytest.mark.parametrize("text, horizon", [
    ("2年PFS率尼罗醋司他组为76%", "2year"), ("The 6-month PFS rate was 29%.", "6month"),
    ("6个月 PFS 率为29%", "6month"), ("中位PFS为29个月", ""),
])
def test_the_time_of_a_rate_is_part_of_its_measure(text: str, horizon: str) -> None:
    claims = sentence_claims(text)
    assert [c.horizon for c in claims if c.measures] [-1:] == [horizon]
    assert all(c.quantity.value not in ("2", "6") for c in claims)  # not a claim of its own


@pytest.mark.parametrize("text, value, phrase", [
    # the words before the value in its clause, without the filler ("约为", "was")
    ("ALTER-S004研究中,转化治疗后的R0切除率约为28.57%", "28.57", "转化治疗后的R0切除率"),
    ("R0 resection rate was 60%", "60", "R0 resection rate"),
    ("In 2019, the R0 resection rate reached 60%", "60", "the R0 resection rate"),  # its clause
])
def test_value_phrase(text: str, value: str, phrase: str) -> None:
    from assistant.claims import value_phrase

    assert value_phrase(text, text.rindex(value)).strip() == phrase


def test_a_group_size_is_a_count_of_patients_of_no_measure() -> None:
    """"低风险组(n=80)…的5年EFS率为93.7%": 80 is how many patients, not an EFS rate."""
    claims = {c.quantity.value: c for c in
              sentence_claims("低风险组(n=80)、中风险组(n=625)的5年EFS率分别为93.7%、77.4%。")}
    assert claims["80"].quantity.unit == "patient" and claims["80"].measures == frozenset()
    assert claims["625"].quantity.unit == "patient" and claims["625"].measures == frozenset()
    assert claims["93.7"].measures == {"efs"}


@pytest.mark.parametrize("sentence, bound", [
    # dev en-09: "What ages are eligible?" was answered with the Lansky sentence, whose 16 is the
    # age of the subgroup the sentence is about — a condition, not the eligible age
    ("For patients ≥16 years old, ECOG score is between 0 and 2;",
     [("16", set()), ("0", set()), ("2", set())]),
    ("For patients under 16 years old, Lansky score is at least 70 or above.",
     [("16", set()), ("70", set())]),  # and "years old" is no measure of the 70 after it
    ("In patients aged over 65 years, the ORR was 30%.", [("65", set()), ("30", {"orr"})]),
    ("For patients aged 12-17 years, the dose is 20 mg.",
     [("12", set()), ("17", set()), ("20", {"dose"})]),  # both ends of a range
    ("对于16岁以下的患者,Lansky评分≥70分。", [("16", set()), ("70", set())]),
    # an age range the sentence states is still an age
    ("Aged no less than 10 years old and no more than 65 years old;",
     [("10", {"age"}), ("65", {"age"})]),
    ("Patients aged 18 to 70 years were enrolled.", [("18", {"age"}), ("70", {"age"})]),
    ("纳入年龄18-70岁的患者。", [("18", {"age"}), ("70", {"age"})]),
    ("Male or female patients aged 18-70 years, ECOG PS score: 0 to 2 points;",
     [("18", {"age"}), ("70", {"age"}), ("0", {"age"}), ("2", {"age"})]),
])
def test_a_subgroups_age_is_a_condition_not_an_age(sentence: str, bound: list) -> None:
    assert [(c.quantity.value, set(c.measures)) for c in sentence_claims(sentence)] == bound


@pytest.mark.parametrize("sentence, opens", [
    ("另一项研究探索了PD-1抑制剂纳武利尤单抗联合T-VEC溶瘤病毒与曲贝替定的治疗价值", True),
    ("一项回顾性分析研究报道了PD-L1抑制剂联合奥拉帕利的疗效", True),
    ("2023年也报道了一项单臂、II期临床研究[19],应用CDK4/6抑制剂治疗", True),
    ("此外,国内另一项纳入32例HH2853的Ⅰ期临床研究数据也表明", True),
    ("In another trial, nivolumab plus T-VEC gave an ORR of 18%.", True),
    ("A phase II study of palbociclib enrolled 21 patients.", True),
    ("However, a separate retrospective analysis found no benefit.", True),
    # the same study, or a sentence naming its own study
    ("该研究是一项II期试验,入组70例。", False),
    ("RMS2005是一项国际临床研究,共纳入1733名患者", False),
    ("研究主要观察阿替利珠单抗单药的疗效,尽管只是一项小样本的单臂试验", False),
    ("This study enrolled 70 patients.", False),
    ("The median PFS was 7 months in this trial.", False),
    ("中位OS为18.2个月。", False),
])
def test_opens_study(sentence: str, opens: bool) -> None:
    from assistant.claims import opens_study

    assert opens_study(sentence) is opens


@pytest.mark.parametrize("answer, supported", [
    ("该患者接受的锶-89剂量为3mCi[1]。", True),  # the dose, though the source says no 剂量
    ("该患者接受的锶-89剂量为1mCi[1]。", False),  # "1周" is no dose of 1
    ("该患者接受的锶-89剂量为5mCi[1]。", False),  # made up
])
def test_a_dose_in_a_case_report_is_checked_by_its_unit(answer: str, supported: bool) -> None:
    case = chunk("一例前列腺癌骨转移患者接受了3mCi的锶-89治疗,1周后疼痛减轻。", 30,
                 title="骨转移核素治疗病例")
    result = check_answer(answer, [case], "zh", question="该病例患者接受的锶-89剂量是多少?")
    assert (result.supported == 1) is supported, result.checks


# A value under another circumstance than the one asked is no answer (round 14, dev near miss
# d8-03: "What percentage of osteosarcoma patients develop lung metastasis during chemotherapy?"
# was answered with the 40% who develop it after radical surgery, bound and shown as checked).
# Seen red with condition_conflict returning False.
LUNG = ("About 15%-20% of osteosarcomas are accompanied by lung metastasis when diagnosed, and "
        "about 40% of patients develop secondary lung metastasis after radical surgery of the "
        "primary lesion.")
LUNG_40 = ("and about 40% of patients develop secondary lung metastasis after radical surgery of "
           "the primary lesion.")


@pytest.mark.parametrize("question, clause, sentence, conflict", [
    ("What percentage of osteosarcoma patients develop lung metastasis during chemotherapy?",
     LUNG_40, LUNG, True),
    ("What percentage of osteosarcoma patients develop lung metastasis after radical surgery?",
     LUNG_40, LUNG, False),
    # the question names no circumstance, or the clause none of its own: nothing to conflict
    ("What percentage of osteosarcoma patients develop secondary lung metastasis?",
     LUNG_40, LUNG, False),
    ("What percentage of osteosarcoma patients develop lung metastasis during chemotherapy?",
     "About 40% of patients develop secondary lung metastasis.",
     "About 40% of patients develop secondary lung metastasis.", False),
    ("骨肉瘤患者化疗期间发生肺转移的比例是多少?", "约40%的患者在原发灶根治术后发生继发肺转移",
     "约40%的患者在原发灶根治术后发生继发肺转移。", True),
    ("骨肉瘤患者术后发生肺转移的比例是多少?", "约40%的患者在原发灶根治术后发生继发肺转移",
     "约40%的患者在原发灶根治术后发生继发肺转移。", False),
    # events are not translated: across languages nothing is decided
    ("What percentage of osteosarcoma patients develop lung metastasis during chemotherapy?",
     "约40%的患者在原发灶根治术后发生继发肺转移", "约40%的患者在原发灶根治术后发生继发肺转移。", False),
    # "before enrolment" and "prior to grouping" are one time: only treatments and diagnosis count
    ("What radiotherapy is excluded within 4 weeks before enrolment?",
     "within 2 weeks prior to grouping", "Radiotherapy within 2 weeks prior to grouping.", False),
])
def test_a_value_under_another_circumstance_conflicts(question: str, clause: str,
                                                      sentence: str, conflict: bool) -> None:
    from assistant.claims import condition_conflict, conditions_in

    assert condition_conflict(conditions_in(question), clause, sentence) is conflict
