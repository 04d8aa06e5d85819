"""What an answer must contain (assistant/decide.py) and how the chain completes it: the
multi-part, near-miss and wrong-language classes of the "Right or declined" issue. The scripted
chat model stands in for the LLM (its replies are the drafts under test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.citations import REFUSAL
from assistant.decide import Coverage, answers_question, question_parts, quote_sentence
from assistant.models import HashingEmbedder
from assistant.testing import ScriptedChatModel
from assistant.types import SentenceCheck


@pytest.mark.parametrize("question, measures, values, quantity", [
    ("ORR和DCR分别是多少?", ("orr", "dcr"), 2, True),
    ("尼罗醋司他组和安慰剂组的2年PFS率分别是多少?", ("pfs",), 2, True),
    ("What were the ORR and median PFS of anlotinib?", ("orr", "pfs"), 2, True),
    ("ALTER-S004研究的ORR是多少?", ("orr",), 1, True),
    ("安罗替尼是什么药物?", (), 1, False),
    ("Does anlotinib improve the survival rate of patients with sarcoma?", ("os",), 1, False),
    ("地舒单抗是否降低了SRE的发生率?", ("sre",), 1, False),
])
def test_question_parts(question: str, measures: tuple, values: int, quantity: bool) -> None:
    parts = question_parts(question)
    assert parts.measures == measures and parts.values == values
    assert parts.quantity is quantity


@pytest.mark.parametrize("covered, ok", [
    (Coverage({"orr"}, {"trial:ALTERS004", "anlotinib"}, 1), True),
    (Coverage({"dcr"}, {"trial:ALTERS004", "anlotinib"}, 1), False),  # another measure
    (Coverage({"orr"}, {"anlotinib"}, 1), False),  # another study
    (Coverage({"orr"}, {"trial:ALTERS004", "anlotinib"}, 0), False),  # no number
])
def test_answers_question(covered: Coverage, ok: bool) -> None:
    parts = question_parts("ALTER-S004研究中安罗替尼的ORR是多少?")
    assert answers_question(parts, covered) is ok


def test_quote_sentence_keeps_document_reference_marks_apart() -> None:
    out = quote_sentence("其ORR为28.57%[4]。", 2, "zh", "zh")
    assert out == "文献原文：“其ORR为28.57%［4］。”[2]"
    assert quote_sentence("ORR 10.13%.", 1, "zh", "en").startswith("文献原文（英文）")


@pytest.fixture
def llm() -> ScriptedChatModel:
    return ScriptedChatModel()


@pytest.fixture
def bot(settings: Settings, corpus: Path, llm: ScriptedChatModel) -> Assistant:
    assistant = Assistant(settings, embedder=HashingEmbedder(), llm=llm)
    assert not assistant.ingest([corpus]).failed
    return assistant


def test_half_an_answer_is_completed_from_the_source(bot: Assistant,
                                                     llm: ScriptedChatModel) -> None:
    # class 4: two rates asked, one given; the other comes from the quoted source sentence
    llm.enqueue("该研究的ORR为27.3%[1]。")
    answer = bot.ask("艾立布林联合帕博利珠单抗与安罗替尼治疗脂肪肉瘤与平滑肌肉瘤的ORR和DCR分别是多少?")
    assert not answer.abstained
    assert "27.3%" in answer.text and "76.4%" in answer.text
    assert answer.missing == [] and answer.quoted == 1


def test_a_part_not_in_the_documents_is_said_to_be_missing(bot: Assistant,
                                                          llm: ScriptedChatModel) -> None:
    llm.enqueue("ALTER-S004研究的ORR为28.57%[1]。")
    answer = bot.ask("ALTER-S004研究中安罗替尼联合化疗的ORR和总生存期分别是多少?")
    assert "28.57%" in answer.text and answer.partial and answer.missing == ["os"]
    assert answer.text.endswith("文献中未找到总生存期的数据。")


def test_wrong_language_draft_is_not_shown(bot: Assistant, llm: ScriptedChatModel) -> None:
    # class 7: a Chinese question answered in English; the English draft never shows
    llm.enqueue("The trial will enroll 43 participants in 1 patient group [1].")
    answer = bot.ask("SBRT联合PD-1治疗骨肉瘤肺转移的试验计划入组多少名受试者?")
    assert "The trial will enroll" not in answer.text
    assert answer.abstained or answer.text.startswith("文献原文（英文）：“")


def test_near_miss_survival_from_eligibility_is_declined(bot: Assistant,
                                                        llm: ScriptedChatModel) -> None:
    # class 5: "expected survival over 3 months" is an inclusion criterion, not a result
    llm.enqueue("The median overall survival was 3 months [1].")
    answer = bot.ask("What was the median overall survival with anlotinib plus toripalimab?")
    assert answer.abstained and answer.text == REFUSAL["en"]


def one_view(text: str, language: str, title: str, doc_id: str = "d.txt", n: int = 1):
    """The checker's view of a retrieved passage holding ``text``, ``n``-th in the search."""
    from assistant.citations import PassageView
    from assistant.types import RetrievedChunk

    chunk = RetrievedChunk(chunk_id=f"c{n}", doc_id=doc_id, text=text, start=0, end=len(text),
                           language=language, title=title)
    return PassageView.of(n, chunk)


def test_best_quote_picks_the_stating_sentence_not_a_heading() -> None:
    from assistant.decide import best_quote

    text = ("Inclusion criteria\nPatients voluntarily joined the study and signed informed "
            "consent.\nMale or female patients aged 18-70 years, ECOG PS score: 0 to 2 points; "
            "expected survival over 3 months.")
    view = one_view(text, "en", "Anlotinib combined with toripalimab in STS", "001.txt")
    question = "What ECOG performance status is required in the anlotinib plus toripalimab trial?"
    found = best_quote(question, [view], question_parts(question))
    assert found is not None and "ECOG PS score: 0 to 2" in found[1].text
    # a question about something the passage does not state finds nothing
    other = "What imaging is required before enrolment in the anlotinib plus toripalimab trial?"
    assert best_quote(other, [view], question_parts(other)) is None


@pytest.mark.parametrize("question, found", [
    # a time is asked: a sentence giving only a risk reduction in % answers nothing
    ("地舒单抗对比唑来膦酸,至首次SRE的中位时间分别是多少?", False),
    ("How long was the median time to first SRE with denosumab?", False),
    # the same sentence does answer the risk question
    ("地舒单抗与唑来膦酸相比,首次SRE风险下降多少?", True),
])
def test_a_quote_gives_a_value_of_the_kind_asked(question: str, found: bool) -> None:
    from assistant.decide import asked_units, best_quote

    text = "与唑来膦酸相比,使用地舒单抗的患者首次SRE的发生风险下降近20%。"
    quote = best_quote(question, [one_view(text, "zh", "乳腺癌骨转移", "003.txt")],
                       question_parts(question))
    assert (quote is not None) is found, asked_units(question)


@pytest.mark.parametrize(
    "out_of_scope, model_declined, wrong_language, supported, quantity, reason", [
        (True, True, True, 1, True, "out_of_scope"),
        (False, True, True, 0, True, "model_declined"),
        (False, False, True, 0, False, "wrong_language"),
        (False, False, True, 1, True, "no_quantity"),
        (False, False, False, 1, False, "unsupported"),
        (False, False, False, 0, True, "unsupported"),
    ])
def test_decline_reason(out_of_scope: bool, model_declined: bool, wrong_language: bool,
                        supported: int, quantity: bool, reason: str) -> None:
    from assistant.decide import decline_reason

    assert decline_reason(out_of_scope=out_of_scope, model_declined=model_declined,
                          wrong_language=wrong_language, supported=supported,
                          quantity=quantity) == reason


def test_a_calendar_year_is_not_the_value_asked() -> None:
    from assistant.decide import best_quote

    text = ("In 2016, a phase II clinical study evaluated the efficacy and safety of anlotinib "
            "in advanced soft tissue sarcoma.")
    view = one_view(text, "en", "Anlotinib combined with toripalimab in STS", "001.txt")
    q = "What is the incidence of soft tissue sarcoma given in the anlotinib trial record?"
    assert best_quote(q, [view], question_parts(q)) is None
    when = "In which year did a phase II study evaluate anlotinib in soft tissue sarcoma?"
    assert best_quote(when, [view], question_parts(when)) is not None


@pytest.mark.parametrize("question, sentence, found", [
    # the question's own words name what it asks (no lexicon measure): they must be quoted
    ("ALTER-S004研究中,安罗替尼联合化疗转化治疗后的R0切除率是多少?",
     "ALTER-S004研究针对28例不可切除软组织肉瘤患者采用安罗替尼联合化疗的新辅助治疗方案,其ORR为28.57%。",
     False),
    ("ALTER-S004研究中,安罗替尼联合化疗转化治疗后的R0切除率是多少?",
     "ALTER-S004研究中安罗替尼联合化疗转化治疗后R0切除率为75%。", True),
    ("Which anti-PD-1 antibody is given with SBRT in the osteosarcoma metastasectomy trial?",
     "The investigators aim to conduct a phase II trial of pre-operative immunotherapy and SBRT "
     "followed by metastasectomy in osteosarcoma.", False),
    ("Which anti-PD-1 antibody is given with SBRT in the osteosarcoma metastasectomy trial?",
     "Camrelizumab, an anti-PD-1 antibody, is given with SBRT before metastasectomy in "
     "osteosarcoma.", True),
])
def test_a_quote_names_what_the_question_asks(question: str, sentence: str,
                                              found: bool) -> None:
    from assistant.decide import best_quote

    lang = "en" if sentence.isascii() else "zh"
    quote = best_quote(question, [one_view(sentence, lang, "trial")], question_parts(question))
    assert (quote is not None) is found


@pytest.mark.parametrize("question, measures", [
    # a measure word that only qualifies the asked one is not asked
    ("安罗替尼联合特瑞普利单抗试验,入组患者的年龄范围是多少?", ("age",)),
    ("What is the age range of enrolled patients in the anlotinib trial?", ("age",)),
    ("What was the median PFS of patients with an objective response?", ("pfs",)),
    # two asked measures stay two: joined by a conjunction, or two questions
    ("ALTER-S004研究的ORR和DCR分别是多少?", ("orr", "dcr")),
    ("SHR-2554治疗晚期上皮样肉瘤,中位PFS是多少?最常见的不良反应是什么?", ("pfs", "adverse")),
    # the age of the subgroup asked about is a condition, not asked (dev en-10)
    ("What Lansky score is required for patients under 16 years old in the SBRT trial?", ()),
    ("What is the ORR in patients aged over 65 years?", ("orr",)),
    ("What ages are eligible for the SBRT plus PD-1 osteosarcoma trial?", ("age",)),
])
def test_asked_measures_leave_out_qualifiers(question: str, measures: tuple) -> None:
    from assistant.decide import asked_measures

    assert tuple(asked_measures(question)) == measures


@pytest.mark.parametrize("question, units", [
    ("多少年内患过其他恶性肿瘤的患者不能入组?", {"year"}),
    ("入组前几周内用过细胞毒治疗会被排除?", {"week"}),
    ("How many months was the median follow-up?", {"month"}),
    ("中位响应时间是多久?", {"month", "week", "day", "year"}),
    ("What age range is eligible for the trial?", {"year", "age_year"}),
    ("RMS2005中危组有多少例?", {"patient"}),
])
def test_asked_units_name_the_unit_of_the_question(question: str, units: set) -> None:
    from assistant.decide import asked_units

    assert asked_units(question) == units


def test_a_quote_is_not_another_trials_sentence() -> None:
    """Another study's number (failure class 2), in the quote fallback: a paragraph about
    EZH-202 goes on to HH2853; a sentence naming its own trial answers nothing about EZH-202."""
    from assistant.decide import best_quote

    text = ("一项名为EZH-202的II期试验评估了他泽司他治疗上皮样肉瘤。在初次治疗的ES患者,ORR为25%。"
            "另一项纳入32例HH2853的Ⅰ期研究数据表明,其ORR为28.1%。")
    view = one_view(text, "zh", "上皮样肉瘤", "000.txt")
    q = "他泽司他EZH-202试验中,上皮样肉瘤患者的ORR是多少?"
    found = best_quote(q, [view], question_parts(q))
    assert found is not None and "25%" in found[1].text
    only_other = one_view("一项名为EZH-202的II期试验评估了他泽司他治疗上皮样肉瘤。"
                          "另一项纳入32例HH2853的Ⅰ期研究数据表明,其ORR为28.1%。",
                          "zh", "上皮样肉瘤", "000.txt")
    assert best_quote(q, [only_other], question_parts(q)) is None


def test_a_number_of_the_question_is_no_answer() -> None:
    """"3年EFS率" in the question: a sentence whose only value of that measure is the 3 of
    "3年无事件生存率" does not answer it (a must-decline question of the dev split)."""
    from assistant.decide import best_quote

    text = "RMS2005研究共纳入1733名患者,主要评估指标为3年无事件生存率(EFS)。"
    q = "RMS2005研究超高危组的3年EFS率是多少?"
    assert best_quote(q, [one_view(text, "zh", "RMS2005")], question_parts(q)) is None


def test_a_subject_named_after_the_fact_in_its_paragraph_binds_a_quote() -> None:
    """"…患者中位响应时间为41.1周;…他泽司他经FDA获批": the drug is named two sentences on."""
    from assistant.decide import best_quote

    text = ("EZH-202试验在初次治疗的ES患者,ORR为25%;患者中位响应时间为41.1周;DCR为42%;"
            "基于这项研究,EZH2抑制剂他泽司他经FDA获批。")
    q = "他泽司他EZH-202试验中,上皮样肉瘤患者的中位响应时间是多久?"
    found = best_quote(q, [one_view(text, "zh", "上皮样肉瘤")], question_parts(q))
    assert found is not None and "41.1周" in found[1].text


def test_a_phrase_is_matched_by_its_stems() -> None:
    from assistant.decide import phrase_in

    assert phrase_in("previous treatments", "Patients who have previously been treated with X.")
    assert not phrase_in("previous treatments", "Patients aged 18-70 years.")


def test_a_quote_is_not_about_other_patients() -> None:
    from assistant.decide import best_quote

    text = ("他泽司他EZH-202研究中,在初次治疗的ES患者,ORR为25%。"
            "在复发和难治性的患者中,DCR达到16%。")
    view = one_view(text, "zh", "上皮样肉瘤与EZH2抑制剂")
    q = "他泽司他EZH-202研究中,初治上皮样肉瘤患者的DCR是多少?"
    assert best_quote(q, [view], question_parts(q)) is None
    relapsed = "他泽司他EZH-202研究中,复发上皮样肉瘤患者的DCR是多少?"
    found = best_quote(relapsed, [view], question_parts(relapsed))
    assert found is not None and "16%" in found[1].text


@pytest.mark.parametrize("draft, decision", [
    ("Yes, denosumab lowered the risk [1].", "yes"), ("No. The trial found no benefit.", "no"),
    ("Maybe; the data are limited.", "maybe"), ("是的，首次SRE风险下降近20%[1]。", "yes"),
    ("否，未见获益。", "no"), ("The trial found no benefit.", None),  # "no" not its first word
    ("安罗替尼是多靶点药物。", None),
])
def test_draft_decision_reads_only_the_first_words(draft: str, decision: str | None) -> None:
    from assistant.decide import draft_decision

    assert draft_decision(draft) == decision


def _check(text: str, supported: bool, action: str = "kept") -> SentenceCheck:
    return SentenceCheck(text=text, supported=supported, action=action)  # type: ignore[arg-type]


@pytest.mark.parametrize("checks, decision", [
    # the reasoning that passed says so: the decision is shown
    ([_check("Yes.", True, "neutral"), _check("Survival was longer with early PEG.", True)],
     "yes"),
    # a "yes" over reasoning that all says the finding is not so: not shown
    ([_check("Yes, PEG timing improves survival.", False, "dropped"),
      _check("The timing was not associated with survival.", True)], None),
    # one sentence for it, one against: the model's decision stands, both are shown
    ([_check("Yes.", True, "neutral"), _check("Survival was longer with early PEG.", True),
      _check("Weight was not associated with survival.", True)], "yes"),
    # a "no" over a denial is what it says
    ([_check("No.", True, "neutral"), _check("The timing was not associated with survival.",
                                             True)], "no"),
    ([_check("Yes.", True, "neutral")], None),  # nothing of substance passed
    ([_check("Yes. Survival was longer.", False, "dropped")], None),
])
def test_a_decision_is_shown_only_where_the_reasoning_shown_allows_it(
        checks: list[SentenceCheck], decision: str | None) -> None:
    from assistant.decide import decision_for

    question = "Does PEG tube timing improve survival?"
    assert decision_for(question, checks[0].text, checks) == decision
    assert decision_for("What was the median survival?", checks[0].text, checks) is None


SRE_YES_NO = "与唑来膦酸相比,地舒单抗是否降低了首次SRE的发生风险?"


def test_a_yes_no_decision_is_shown_only_with_supported_reasoning(
        bot: Assistant, llm: ScriptedChatModel) -> None:
    llm.enqueue("是的，使用地舒单抗的患者首次SRE的发生风险下降近20%[1]。")
    answer = bot.ask(SRE_YES_NO)
    assert not answer.abstained and answer.decision == "yes"
    assert "20%" in answer.text and answer.text.endswith("结论：是。")
    # the same decision with a figure the sources do not state: nothing checked, no decision
    llm.enqueue("是的，使用地舒单抗的患者首次SRE的发生风险下降近45%[1]。")
    answer = bot.ask(SRE_YES_NO)
    assert answer.decision is None and "45%" not in answer.text and "结论" not in answer.text


def test_a_time_question_does_not_ask_the_enrolment_count() -> None:
    parts = question_parts("安罗替尼+特瑞普利单抗试验里,多少年内患过其他恶性肿瘤的患者不能入组?")
    assert parts.measures == ()
    assert question_parts("术前SBRT联合PD-1试验计划入组多少人?").measures == ("enrolment",)


def test_a_quote_gives_the_rate_at_the_time_asked() -> None:
    from assistant.decide import best_quote

    text = ("哌柏西利单臂II期研究中,中位PFS为4.2个月。哌柏西利单臂II期研究中,6个月PFS率为29%。")
    q = "哌柏西利单臂II期研究的6个月PFS率是多少?"
    found = best_quote(q, [one_view(text, "zh", "CDK4/6抑制剂")], question_parts(q))
    assert found is not None and "29%" in found[1].text
    three = "哌柏西利单臂II期研究的1年PFS率是多少?"
    assert best_quote(three, [one_view(text, "zh", "CDK4/6抑制剂")],
                      question_parts(three)) is None


def test_no_measure_asked_no_quote_of_another_measures_value() -> None:
    """"What proportion … are mainly osteolytic?" names no measure: a sentence whose every
    value is of a named one ("5年存活率高达20%") answers something else, however close its
    meaning (a dev question answered so with the top-6 passages)."""
    from assistant.decide import best_quote

    q = "What proportion of breast cancer bone metastases are mainly osteolytic?"
    close = {(1, 0): 0.56}  # cos(question, sentence), as the embedder gives it
    other = "仅有骨转移的乳腺癌患者5年生存率高达20%。"
    assert best_quote(q, [one_view(other, "zh", "乳腺癌骨转移")], question_parts(q),
                      semantic=close, min_similarity_across=0.5) is None
    right = "乳腺癌骨转移八成以上以溶骨性骨质破坏为主。"
    found = best_quote(q, [one_view(right, "zh", "乳腺癌骨转移")], question_parts(q),
                       semantic=close, min_similarity_across=0.5)
    assert found is not None and "八成" in found[1].text


def test_a_value_of_a_measure_the_question_names_but_does_not_ask_is_quoted() -> None:
    """"入组前多长时间…": the question asks a time, not the enrolment count, yet a time whose
    clause names the enrolment ("within 4 weeks prior to enrollment") is its answer."""
    from assistant.decide import best_quote

    q = "安罗替尼联合特瑞普利单抗试验,入组前多长时间内用过细胞毒治疗会被排除?"
    text = ("Anlotinib plus toripalimab trial. Exclusion: cytotoxic therapy within 4 weeks "
            "prior to enrollment.")
    close = {(1, 34): 0.45}  # cos(question, sentence) across languages, below 0.5
    found = best_quote(q, [one_view(text, "en", "Exclusion criteria")], question_parts(q),
                       semantic=close, min_similarity_across=0.5)
    assert found is not None and "4 weeks" in found[1].text


@pytest.mark.parametrize("question, values", [
    ("RMS2005按危险度分组,中危组和高危组分别有多少例?", 2),  # one measure, two groups
    ("该研究入组了多少例患者?ORR是多少?", 2),  # a second question
    ("How many patients were enrolled and what proportion had a good response?", 2),
    ("Within how many days before grouping does major surgery exclude a patient, and within "
     "how many months does venous thrombosis?", 2),
    ("ALTER-S004研究中安罗替尼联合化疗的ORR是多少?", 1),
    ("What ages are eligible for the trial?", 1),
])
def test_how_many_values_a_question_wants(question: str, values: int) -> None:
    assert question_parts(question).values == values


@pytest.mark.parametrize("sentence, values", [
    # a confidence interval and a reference mark are no answer values
    ("The median OS was 17.4 months (95%CI 9.1-23.5) [1].", {("17.4",)}),
    ("两组中位OS分别为17.4个月和12.5个月[1]。", {("17.4",), ("12.5",)}),
    # "(n=625)" is a count, a range is one value, the question's own number is none
    ("中风险组(n=625)、高风险组(n=851)的3年EFS率为65%~90%。", {("625",), ("851",), ("65", "90")}),
    # an aside that states a value of its own counts; a restated proportion does not
    ("Cytotoxic therapy (or mitomycin C within 6 weeks) within 4 weeks before.", {("6",), ("4",)}),
    ("共2例(11.1%)患者获得PR,HR 0.5 (P=0.03)。", {("2",), ("0.5",)}),
])
def test_answer_values(sentence: str, values: set) -> None:
    from assistant.decide import answer_values

    q = "两组3年的数值分别是多少?"
    assert answer_values([sentence], q, question_parts(q)) == values


def test_a_second_quote_skips_the_sentence_shown() -> None:
    from assistant.decide import best_quote

    text = ("RMS2005研究按危险度分组:中风险组(n=625)、高风险组(n=851)。"
            "RMS2005研究更新的数据中,中危组625例,高危组851例。"
            "RMS2005研究按危险度分组:低风险组(n=80)、极高风险组(n=150)。")
    q = "RMS2005按危险度分组,中危组和高危组分别有多少例?"
    views = [one_view(text, "zh", "RMS2005")]
    a, b, c = (s.start for s in views[0].sentences)
    # cos(question, sentence): the first is closer; the third is closest, but its groups are
    # not those asked (低危 and 超高危 are no 中危 or 高危)
    close = {(1, a): 0.95, (1, b): 0.55, (1, c): 0.99}
    first = best_quote(q, views, question_parts(q), semantic=close)
    assert first is not None and "n=625" in first[1].text
    second = best_quote(q, views, question_parts(q), semantic=close, skip={(1, a)})
    assert second is not None and "中危组625例" in second[1].text
    assert best_quote(q, views, question_parts(q), semantic=close, skip={(1, a), (1, b)}) is None


def test_what_before_a_measure_asks_its_value() -> None:
    q = "Tazemetostat in EZH-202: what ORR and DCR did the treatment-naive patients have?"
    assert question_parts(q).quantity
    assert not question_parts("What counts as a skeletal-related event?").quantity


def test_a_short_clause_with_the_asked_value_is_quoted() -> None:
    """"DCR为42%;" is short, but it is no heading: it states the value asked."""
    from assistant.decide import best_quote

    text = "他泽司他EZH-202试验在初次治疗的ES患者,ORR为25%;DCR为42%;中位OS为82.4周。"
    q = "他泽司他EZH-202试验的DCR是多少?"
    found = best_quote(q, [one_view(text, "zh", "上皮样肉瘤")], question_parts(q))
    assert found is not None and found[1].text == "DCR为42%;"


def test_a_number_of_groups_is_no_count_of_patients() -> None:
    """"分为低危、中危、高危和超高危4组": 4 groups, not a second count of patients."""
    from assistant.decide import answer_values

    q = "RMS2005按危险度分组,中危组和高危组分别有多少例?"
    shown = "RMS2005共纳入1733名患者,根据危险度被分为低危、中危、高危和超高危4组。"
    assert answer_values([shown], q, question_parts(q)) == {("1733",)}


def test_a_quote_is_not_of_a_mixed_population() -> None:
    """"在62例初治和复发的患者中,ORR为15%" is no answer about the relapsed patients alone."""
    from assistant.decide import best_quote

    text = "EZH-202研究在62例初治和复发的患者中,ORR为15%,DCR为26%。"
    q = "EZH-202研究中复发难治患者的ORR是多少?"
    assert best_quote(q, [one_view(text, "zh", "上皮样肉瘤")], question_parts(q)) is None
    everyone = "EZH-202研究所有患者的ORR是多少?"
    assert best_quote(everyone, [one_view(text, "zh", "上皮样肉瘤")],
                      question_parts(everyone)) is not None


def test_measures_given_as_examples_are_not_asked() -> None:
    """"以哪个指标(如ORR或PFS)作为主要终点?" asks which endpoint: a sentence giving the ORR and
    the PFS is no answer (a must-decline question on dev was answered so)."""
    from assistant.decide import best_quote

    q = "安罗替尼联合特瑞普利单抗试验以哪个指标(如ORR或PFS)作为主要终点?"
    assert question_parts(q).measures == ()
    text = ("Anlotinib plus toripalimab trial. The study included 154 patients with evaluable "
            "efficacy, with an ORR of 10.13% and a median PFS of 5.63 months.")
    close = {(1, 34): 0.62}  # cos(question, sentence) across languages
    assert best_quote(q, [one_view(text, "en", "Anlotinib")], question_parts(q),
                      semantic=close, min_similarity_across=0.5) is None


def test_a_year_question_is_answered_by_the_sentence_giving_the_year() -> None:
    """A year asked, a year given: a little less meaning suffices (cosine 0.49 across
    languages, the floor 0.5 less the relief); a sentence with no year needs it all."""
    from assistant.decide import best_quote

    q = "In what year was the concept of oligometastasis formally defined, and by whom?"
    dated = "在1995年,Hellman和Weichselbaum正式定义了肿瘤寡转移的概念。"
    close = {(1, 0): 0.49}  # cos(question, sentence), as the embedder gave it on dev
    found = best_quote(q, [one_view(dated, "zh", "寡转移")], question_parts(q), semantic=close,
                       min_similarity_across=0.5)
    assert found is not None and "1995" in found[1].text
    undated = "Hellman和Weichselbaum正式定义了肿瘤寡转移的概念。"
    assert best_quote(q, [one_view(undated, "zh", "寡转移")], question_parts(q),
                      semantic=close, min_similarity_across=0.5) is None


def test_a_where_question_is_answered_by_a_sentence_naming_a_place() -> None:
    """dev d2-27: "Where do prostate cancer bone metastases typically occur?" was answered with
    a sentence of incidence rates, which names no place; the sentence naming the sites answers
    it, with the relief a bound answer gets (cosine 0.475 across languages, floor 0.5)."""
    from assistant.decide import best_quote

    q = ("Where do prostate cancer bone metastases typically occur, according to the breast "
         "cancer bone metastasis interview?")
    rates = "晚期乳腺癌患者骨转移发生率约为65%~75%,前列腺患者骨转移发生率约为65%~90%。"
    sites = "相比之下,前列腺癌则以成骨性转移为主,好发于腰骶椎、骨盆。"
    view = one_view(rates + sites, "zh", "乳腺癌骨转移")
    close = {(1, 0): 0.55, (1, len(rates)): 0.475}  # cos(question, sentence) as on dev
    found = best_quote(q, [view], question_parts(q), semantic=close, min_similarity_across=0.5)
    assert found is not None and found[1].text == sites
    # the rates alone answer no "where"
    alone = one_view(rates, "zh", "乳腺癌骨转移")
    assert best_quote(q, [alone], question_parts(q), semantic={(1, 0): 0.55},
                      min_similarity_across=0.5) is None
    # a "how often" question is still answered by the rates
    often = "How often do prostate cancer patients develop bone metastases?"
    assert best_quote(often, [alone], question_parts(often), semantic={(1, 0): 0.55},
                      min_similarity_across=0.5) is not None


@pytest.mark.parametrize("question, yes_no", [
    ("Does denosumab delay the first skeletal-related event?", True),
    ("Double balloon enteroscopy: is it efficacious and safe in a community setting?", True),
    ("Human papillomavirus and pterygium. Is the virus a risk factor?", True),
    ("Injury and poisoning mortality among young men--are there any common factors?", True),
    ("Aripiprazole: a new risk factor for pathological gambling?", True),
    ('"Would a man smell a rose then throw it away?', True),
    ("地舒单抗是否降低了首次SRE的发生风险?", True),
    ("安罗替尼对骨肉瘤有效吗?", True),
    # not yes/no: a wh-question, also after a title's colon, and plain questions for a value
    ("ALTER-S004: what was the ORR?", False),
    ("Anlotinib maintenance: how long was the median PFS?", False),
    ("What was the ORR of the ALTER-S004 study?", False),
    ("In what year was oligometastasis defined, and by whom?", False),
    ("安罗替尼的推荐剂量是多少?", False),
])
def test_yes_no_questions_are_recognised_in_titled_forms(question: str, yes_no: bool) -> None:
    from assistant.decide import is_yes_no

    assert is_yes_no(question) is yes_no


@pytest.mark.parametrize("draft", ["Yes.", "Yes", "No.", "Maybe."])
def test_a_bare_decision_word_is_no_answer(bot: Assistant, llm: ScriptedChatModel,
                                            draft: str) -> None:
    # a question with no subject the lexicon knows and no number asked: before, any sentence
    # "answered" it, so a bare "Yes." (nothing in it to check) was shown as the answer
    llm.enqueue(draft)
    answer = bot.ask("Does the short stay ward work?")
    assert answer.abstained and answer.decision is None
    assert answer.text == "The indexed documents do not answer this question."


def test_a_decision_word_is_shown_with_the_sentence_that_passed(
        bot: Assistant, llm: ScriptedChatModel) -> None:
    llm.enqueue("是的。使用地舒单抗的患者首次SRE的发生风险下降近20%[1]。")
    answer = bot.ask("首次SRE的发生风险是否下降?")
    assert not answer.abstained and "20%" in answer.text
    assert answer.text.endswith("结论：是。") and answer.decision == "yes"


@pytest.mark.parametrize("sentence, aim", [
    ("The aim of this study is to evaluate the efficacy and safety of pre-operative SBRT.", True),
    ("In response to the above problems, the aim of this study was to explore the efficacy.",
     True),
    ("Objective: We evaluated the usefulness of a short stay ward.", True),
    ("Background: The objective of the current study is to determine to what extent …", True),
    ("To assess whether the Hawkins sign predicts avascular necrosis.", True),
    ("This trial was designed to compare denosumab with zoledronic acid.", True),
    ("本研究旨在评估安罗替尼联合化疗的疗效。", True),
    # labels and wordings seen quoted as answers on PubMedQA (round 5)
    ("Study Objective: To determine whether VEGF expression relates to vein invasion.", True),
    ("Our study was undertaken to explore ways in which students can contribute.", True),
    ("We carried out this research to investigate the need for station 9 dissection.", True),
    ("Background: This paper assesses the usefulness of the Child Health Computing System.",
     True),
    ("Background And Aims: This study was planned to evaluate whether NT relates to GDM.", True),
    ("Objective: We sought to determine the feasibility of early extubation.", True),
    ("AIM: In this paper, we assessed the influence of atmospheric pressure.", True),
    ("AIM: To test the hypothesis that premature infants in rural areas fare worse.", True),
    ("We aimed to determine the microbial contamination rates.", True),
    ("目的：评估地舒单抗的安全性。", True),
    # a trial record's plan (dev d2-23 quoted it for "how is a resectable nodule defined?")
    ("Therefore, the investigators aim to conduct a prospective phase II clinical trial.", True),
    ("We plan to enrol patients with resectable pulmonary metastases.", True),
    ("研究者拟开展一项前瞻性II期临床试验。", True),
    # findings, methods and eligibility are not aims
    ("The ORR was 27.3% and the DCR 76.4%.", False),
    ("该研究共纳入60例患者,ORR为27.3%。", False),
    ("Methods: cIMT measurements were obtained in 10 mutations.", False),
    ("Patients were randomised to evaluate the drug.", False),
    ("The study will enroll 43 participants in 1 patient group.", False),
    ("We found no difference in overall survival (P=0.3).", False),
    ("This paper reports a 20% lower risk of a first SRE.", False),
    ("The study was stopped early because 12 patients had grade 3 toxicity.", False),
    ("Investigators planned 70 participants in 1 patient group.", False),
    ("研究者计划入组70例患者。", False),
])
def test_a_sentence_stating_the_aim_is_recognised(sentence: str, aim: bool) -> None:
    from assistant.decide import states_aim

    assert states_aim(sentence) is aim


AIM_PASSAGE = ("The aim of this study is to evaluate the efficacy and safety of pre-operative "
               "concurrent SBRT and PD-1 blockade immunotherapy followed by surgical "
               "metastasectomy for resectable metastatic osteosarcoma. Patients aged 10 to 65 "
               "years are eligible.")


def test_the_aim_is_quoted_only_for_a_question_about_the_aim() -> None:
    # a must-decline question (the documents do not name the antibody; dev d2-34 was answered
    # so in round 4) or a PubMedQA yes/no question ("Objective: We evaluated …") answered
    # with the study's aim, which only restates what the study set out to do
    from assistant.decide import best_quote

    view = one_view(AIM_PASSAGE, "en", "SBRT plus PD-1 for osteosarcoma lung metastases")
    which = ("Which anti-PD-1 antibody is given with SBRT in the pre-operative osteosarcoma "
             "metastasectomy trial?")
    close = {(1, 0): 0.7}  # the embedder finds the aim close in meaning (it was, on dev)
    assert best_quote(which, [view], question_parts(which), semantic=close) is None
    aim = "What is the aim of the pre-operative SBRT plus PD-1 osteosarcoma trial?"
    found = best_quote(aim, [view], question_parts(aim), semantic=close)
    assert found is not None and found[1].text.startswith("The aim of this study")


SCENE_PASSAGE = ("Methods: We investigated cyclosporine with chloroquine for immunosuppression of "
                 "T-cell responses in mice. Background: cyclosporine alone is thought to suppress "
                 "T-cell responses in mice.")


def test_a_yes_no_question_is_not_answered_by_background_or_methods() -> None:
    # PubMedQA (round 5): "Can chloroquine add to cyclosporine's immunosuppression?" was
    # answered with the abstract's "Methods: We investigated …" sentence, which says what
    # was done, not what was found
    from assistant.decide import best_quote, sets_the_scene

    assert sets_the_scene("Patients and Methods: 40 patients were enrolled.")
    assert sets_the_scene("背景：骨转移常见。")
    assert not sets_the_scene("Results: chloroquine added to cyclosporine's effect.")
    view = one_view(SCENE_PASSAGE, "en", "Cyclosporine and chloroquine")
    close = {(1, 0): 0.8, (1, SCENE_PASSAGE.index("Background")): 0.8}
    yes_no = ("Does chloroquine add to cyclosporine's suppression of T-cell responses in mice?")
    assert best_quote(yes_no, [view], question_parts(yes_no), semantic=close) is None
    # the same sentences still answer a question about what was done
    how = "What was investigated with cyclosporine and chloroquine in mice?"
    assert best_quote(how, [view], question_parts(how), semantic=close) is not None


@pytest.mark.parametrize("question, sides", [
    ("安罗替尼联合特瑞普利单抗试验与术前SBRT联合PD-1骨肉瘤试验分别计划入组多少人?",
     [{"anlotinib", "toripalimab"}, {"sbrt", "osteosarcoma"}]),
    ("How many participants do the anlotinib plus toripalimab trial and the SBRT plus PD-1 "
     "osteosarcoma trial each plan to enroll?",
     [{"anlotinib", "toripalimab"}, {"sbrt", "osteosarcoma"}]),
    # one study, two measures; two drugs compared in one study: no sides
    ("ALTER-S004研究的ORR和DCR分别是多少?", []),
    ("地舒单抗与唑来膦酸相比,首次骨相关事件风险下降多少?", []),
    ("How many patients did the denosumab and zoledronic acid arms each have?", []),
])
def test_two_studies_asked_the_same_thing_are_two_parts(question: str, sides: list) -> None:
    from assistant.decide import subject_parts

    assert [set(s) for s in subject_parts(question)] == sides


def trial_chunk(text: str, n: int):
    from assistant.types import RetrievedChunk

    return RetrievedChunk(chunk_id=f"c{n}", doc_id=f"d{n}.txt", text=text, start=0,
                          end=len(text), language="en", title=f"Trial record {n}")


TWO_TRIALS = [  # a trial record each, as in sample_corpus/001 and 002
    trial_chunk("The anlotinib plus toripalimab trial will enroll 70 participants in 1 patient group.",
          31),
    trial_chunk("The SBRT plus PD-1 osteosarcoma trial will enroll 43 participants in 1 patient group.",
          32),
]


def test_each_study_of_a_two_study_question_is_quoted_or_reported_missing() -> None:
    # dev en-15 / zh-27: no one sentence gives both trials' enrolment, so the question was
    # declined whole; each study is now a part, quoted from its own sentence
    from dataclasses import replace

    from assistant.citations import PassageView
    from assistant.decide import best_quote

    q = ("How many participants do the anlotinib plus toripalimab trial and the SBRT plus PD-1 "
         "osteosarcoma trial each plan to enroll?")
    parts = question_parts(q)
    views = [PassageView.of(i + 1, c) for i, c in enumerate(TWO_TRIALS)]
    assert best_quote(q, views, parts, "enrolment") is None  # both studies in one sentence
    found = [best_quote(q, views, replace(parts, entities=side, values=1), "enrolment")
             for side in parts.sides]
    assert [f[1].text.split(" will")[0] for f in found if f] == [
        "The anlotinib plus toripalimab trial", "The SBRT plus PD-1 osteosarcoma trial"]
    # one study's sentence is half the answer: it answers, and the values wanted are two
    assert parts.values == 2
    assert answers_question(parts, Coverage({"enrolment"}, {"anlotinib", "toripalimab"}, 1))
    assert not answers_question(parts, Coverage({"enrolment"}, {"anlotinib"}, 1))


def two_trial_records(tmp_path: Path) -> Path:
    """A folder with a trial record each, as sample_corpus/001 and 002 (70 and 43 to enrol)."""
    docs = tmp_path / "trials"
    docs.mkdir()
    (docs / "anlotinib_trial.txt").write_text(
        "Anlotinib plus toripalimab for refractory soft tissue sarcoma.\n\n"
        "The anlotinib plus toripalimab trial will enroll 70 participants in 1 patient group.",
        encoding="utf-8")
    (docs / "sbrt_trial.txt").write_text(
        "Pre-operative SBRT plus PD-1 blockade for osteosarcoma lung metastases.\n\n"
        "The SBRT plus PD-1 osteosarcoma trial will enroll 43 participants in 1 patient group.",
        encoding="utf-8")
    return docs


def test_a_two_study_question_is_answered_study_by_study(settings: Settings, tmp_path: Path,
                                                         llm: ScriptedChatModel) -> None:
    # the scripted model answers for one trial only; the other trial's enrolment is quoted
    # from its own record, and the answer is complete without a "not found" note
    docs = two_trial_records(tmp_path)
    bot = Assistant(settings, embedder=HashingEmbedder(), llm=llm)
    assert not bot.ingest([docs]).failed
    llm.enqueue("The anlotinib plus toripalimab trial will enroll 70 participants [1].")
    answer = bot.ask("How many participants do the anlotinib plus toripalimab trial and the "
                     "SBRT plus PD-1 osteosarcoma trial each plan to enroll?")
    assert not answer.abstained, answer.abstain_reason
    assert "70 participants" in answer.text and "43 participants" in answer.text
    assert answer.text.index("70") < answer.text.index("43")
    assert not answer.partial and "incomplete" not in answer.text


def test_the_wider_quote_ring_is_read_only_where_the_nearer_gives_none() -> None:
    # dev zh-25 with a single ring of 10: a trial record's background sentence ("154 patients"
    # of an earlier study, 8th by cosine) displaced the record's own "70 participants"
    from assistant.citations import PassageView
    from assistant.decide import best_quote_in_rings

    q = "How many participants will the anlotinib plus toripalimab trial enroll?"
    own = trial_chunk("The anlotinib plus toripalimab trial will enroll 70 participants.", 1)
    other = trial_chunk("In the anlotinib plus toripalimab trial background, an earlier "
                        "anlotinib study enrolled 154 participants; the anlotinib plus "
                        "toripalimab trial will enroll participants.", 2)
    views = [PassageView.of(1, own), PassageView.of(7, other)]
    close = {(7, 0): 0.9, (1, 0): 0.6}  # the far sentence is closer in meaning
    parts = question_parts(q)
    found = best_quote_in_rings(q, views, 6, parts, "enrolment", semantic=close)
    assert found is not None and "70 participants" in found[1].text
    # with nothing in the near ring, the far one answers
    found = best_quote_in_rings(q, views[1:], 6, parts, "enrolment", semantic=close)
    assert found is not None and "154" in found[1].text
    # one ring of everything: the closer far sentence wins (what the ring order prevents)
    found = best_quote_in_rings(q, views, 10, parts, "enrolment", semantic=close)
    assert found is not None and "154" in found[1].text


def test_a_subgroups_age_is_no_answer_to_an_age_question() -> None:
    """dev en-09: "What ages are eligible?" was answered with "For patients under 16 years
    old, Lansky score is at least 70", which shares "eligible" with the question; the
    sentence that states the age limits is the quote."""
    from assistant.decide import best_quote

    record = ("Aged no less than 10 years old and no more than 65 years old;\n"
              "For patients ≥16 years old, ECOG score is between 0 and 2;\n"
              "For patients under 16 years old, Lansky score is at least 70 or above "
              "(they are still eligible included).")
    question = "What ages are eligible for the SBRT plus PD-1 osteosarcoma trial?"
    view = one_view(record, "en", "Pre-operative SBRT plus PD-1 blockade in osteosarcoma")
    quote = best_quote(question, [view], question_parts(question))
    assert quote is not None and quote[1].text.startswith("Aged no less than 10")
    # without the age limits, the subgroups' sentences do not answer it
    rest = one_view(record.split("\n", 1)[1], "en",
                    "Pre-operative SBRT plus PD-1 blockade in osteosarcoma")
    assert best_quote(question, [rest], question_parts(question)) is None


def test_a_study_left_out_by_the_search_is_searched_for_on_its_own(
        settings: Settings, tmp_path: Path, llm: ScriptedChatModel) -> None:
    # dev en-15: the question's own search ranked the SBRT record's "43 participants" below
    # the passages read, so the answer was "70 … incomplete"; the missing study gets a search
    # of its own (its side of the question) and is quoted from what that finds
    docs = two_trial_records(tmp_path)
    one = settings.model_copy(update={
        "retrieval": settings.retrieval.model_copy(update={"k": 1}),
        "answer": settings.answer.model_copy(update={"quote_passages": 1,
                                                     "quote_passages_more": 1})})
    bot = Assistant(one, embedder=HashingEmbedder(), llm=llm)
    assert not bot.ingest([docs]).failed
    llm.enqueue("I cannot find this.")
    question = ("How many participants do the anlotinib plus toripalimab trial and the SBRT "
                "plus PD-1 osteosarcoma trial each plan to enroll?")
    answer = bot.ask(question)
    assert not answer.abstained, answer.abstain_reason
    assert "70 participants" in answer.text and "43 participants" in answer.text
    assert {c.doc_id for c in answer.citations} == {"anlotinib_trial.txt", "sbrt_trial.txt"}
    assert not answer.partial


def test_a_planned_number_is_not_a_finished_studys_result() -> None:
    # dev zh-27: "…试验计划入组多少人?" was answered from a trial record's background sentence
    # on an earlier study ("included 154 patients …, with an ORR of 10.13%")
    from assistant.decide import best_quote

    background = ("Anlotinib plus toripalimab trial background. The study included 154 patients "
                  "with evaluable efficacy, with an ORR of 10.13% and a median PFS of 5.63 "
                  "months.")
    view = one_view(background, "en", "Anlotinib plus toripalimab in soft tissue sarcoma")
    for plan in ("How many participants does the anlotinib plus toripalimab trial plan to "
                 "enroll?", "安罗替尼联合特瑞普利单抗试验计划入组多少人?"):
        assert best_quote(plan, [view], question_parts(plan), "enrolment",
                          semantic={(1, background.index("The study")): 0.7},
                          min_similarity_across=0.5) is None
    asked = "How many patients did the anlotinib plus toripalimab study include?"
    found = best_quote(asked, [view], question_parts(asked), "enrolment")
    assert found is not None and "154 patients" in found[1].text
    planned = one_view("The anlotinib plus toripalimab trial will enroll 70 participants.",
                       "en", "Anlotinib plus toripalimab in soft tissue sarcoma")
    plan = "How many participants does the anlotinib plus toripalimab trial plan to enroll?"
    found = best_quote(plan, [planned], question_parts(plan), "enrolment")
    assert found is not None and "70 participants" in found[1].text


ENROL_EN = "enrol enroll enrolled enrolment enrollment participants included recruited sample size"
ENROL_ZH = "入组 纳入 招募 入选 计划入组 样本量"


@pytest.mark.parametrize("question, query", [
    ("安罗替尼联合特瑞普利单抗试验与术前SBRT联合PD-1骨肉瘤试验分别计划入组多少人?",
     # dev zh-27: the English record's "70 participants" was found only with its English
     # names (the lexicon's, in the other language)
     ["安罗替尼联合特瑞普利单抗试验 计划入组 anlotinib toripalimab " + ENROL_EN,
      "术前SBRT联合PD-1骨肉瘤试验分别计划入组多少人? osteosarcoma stereotactic body radiotherapy "
      "stereotactic body radiation therapy " + ENROL_EN]),
    ("How many participants do the anlotinib plus toripalimab trial and the SBRT plus PD-1 "
     "osteosarcoma trial each plan to enroll?",
     ["How many participants do the anlotinib plus toripalimab trial enroll 安罗替尼 特瑞普利单抗 "
      + ENROL_ZH,
      "the SBRT plus PD-1 osteosarcoma trial each plan to enroll? participants 骨肉瘤 立体定向放疗 "
      "立体定向体部放疗 " + ENROL_ZH]),
])
def test_each_study_is_searched_with_its_side_of_the_question(question: str, query: list) -> None:
    from assistant.decide import side_query, subject_parts

    assert [side_query(question, side) for side in subject_parts(question)] == query


@pytest.mark.parametrize("question, where", [
    ("Where do prostate cancer bone metastases typically occur?", True),
    ("Which bones are most often involved by breast cancer metastases?", True),
    ("前列腺癌骨转移好发于哪些部位?", True),
    ("乳腺癌骨转移最常见于哪里?", True),
    # dev en-26: "bone-modifying agents" are drugs, not a place
    ("Which bone-modifying agents do guidelines mainly recommend for bone metastases?", False),
    ("Which site-specific trials enrolled patients?", False),
    ("What is the ORR of anlotinib?", False),
])
def test_a_question_asking_where(question: str, where: bool) -> None:
    from assistant.decide import asks_where

    assert asks_where(question) is where


@pytest.mark.parametrize("question, defines", [
    ("What counts as a skeletal-related event according to the bone oligometastasis Q&A?", True),
    ("骨相关事件包括哪些?", True),
    ("How is a skeletal-related event defined?", True),
    ("What was the rate of skeletal-related events with denosumab?", False),
    ("SHR-2554最常见的不良反应有哪些?", False),
])
def test_a_question_asking_what_a_measure_is_made_of(question: str, defines: bool) -> None:
    from assistant.decide import asks_definition

    assert asks_definition(question) is defines


def test_a_definition_question_is_answered_by_the_sentence_that_defines_the_measure() -> None:
    """dev d2-25: "What counts as a skeletal-related event?" names no subject, so no quote was
    bound, and the Chinese sentence listing the five events (cosine 0.398 across languages,
    floor 0.5) was not quoted; a sentence that says what the asked measure includes answers."""
    from assistant.decide import best_quote

    q = "What counts as a skeletal-related event according to the bone oligometastasis Q&A?"
    listing = ("对于骨转移瘤而言,恶性肿瘤的持续骨破坏可导致严重的骨相关事件,主要包括以下五种:病理性骨折、脊髓压迫、"
               "高钙血症、需手术治疗或放射治疗的骨并发症。")
    close = {(1, 0): 0.398}
    found = best_quote(q, [one_view(listing, "zh", "骨寡转移")], question_parts(q),
                       semantic=close, min_similarity_across=0.5)
    assert found is not None and "病理性骨折" in found[1].text
    # a sentence that names the measure without saying what it includes does not
    named = "恶性肿瘤的持续骨破坏可导致严重的骨相关事件。"
    assert best_quote(q, [one_view(named, "zh", "骨寡转移")], question_parts(q),
                      semantic=close, min_similarity_across=0.5) is None


@pytest.mark.parametrize("question, quoted", [
    # the sentence is of patients whose CDK4 is overexpressed: no answer for low expression
    ("In the single-arm phase II CDK4/6 inhibitor sarcoma trial, what was the 6-month PFS rate "
     "among patients with low CDK4 expression?", False),
    ("CDK4/6抑制剂单臂II期研究中,CDK4低表达患者的6个月PFS率是多少?", False),
    ("CDK4/6抑制剂单臂II期研究中,CDK4过表达患者的6个月PFS率是多少?", True),
])
def test_a_quote_is_not_of_another_biomarker_level(question: str, quoted: bool) -> None:
    from assistant.decide import best_quote

    text = ("2023年也报道了一项单臂、II期临床研究,应用CDK4/6抑制剂治疗CDK4过表达的晚期成人软组织肉瘤患者,"
            "21例可评估患者中,6个月PFS率为29%。")
    found = best_quote(question, [one_view(text, "zh", "CDK4/6抑制剂")], question_parts(question),
                       semantic={(1, 0): 0.7}, min_similarity_across=0.5)
    assert (found is not None) is quoted


@pytest.mark.parametrize("text, found", [
    ("patients with low CDK4 expression", {"low_expression"}),
    ("CDK4低表达患者", {"low_expression"}),
    ("CDK4-high tumours", {"high_expression"}),
    ("CDK4过表达而CDKN2A无过度表达的患者", {"high_expression"}),
    ("in high-risk patients with a low-grade tumour", set()),
])
def test_biomarker_levels_are_populations(text: str, found: set) -> None:
    from assistant.lexicon import populations_in

    assert populations_in(text) == found


@pytest.mark.parametrize("question, named", [
    ("Which anti-PD-1 antibody is given with SBRT in the metastasectomy trial?", frozenset()),
    ("Which drug must participants in the SBRT plus PD-1 trial not have received?", frozenset()),
    ("该试验中与安罗替尼联用的是哪种PD-1抑制剂?", frozenset({"anlotinib"})),
    ("What ORR did anlotinib reach?", None),  # asks no agent
    ("安罗替尼的推荐剂量是多少?", None),
])
def test_questions_asking_which_agent(question: str, named: frozenset | None) -> None:
    assert question_parts(question).agents_named == named


@pytest.mark.parametrize("text, agents", [
    ("PD-1 blockade immunotherapy followed by surgical metastasectomy", frozenset()),
    ("Participants must not have received gemcitabine.", frozenset({"gemcitabine"})),
    ("患者接受纳武利尤单抗联合T-VEC治疗", frozenset({"nivolumab", "t_vec"})),  # T-VEC is a drug
    ("Camrelizumab 200 mg every 2 weeks", frozenset({"camrelizumab"})),
    ("a novel agent, fooximab, was given", frozenset({"fooximab"})),  # by its stem
    ("compared with placebo after SBRT", frozenset()),
])
def test_agents_in(text: str, agents: frozenset) -> None:
    from assistant.decide import agents_in

    assert agents_in(text) == agents


@pytest.mark.parametrize("new_agent, ok", [(False, False), (True, True)])
def test_a_which_agent_question_is_answered_only_by_naming_one(new_agent: bool, ok: bool) -> None:
    parts = question_parts("Which anti-PD-1 antibody is given with SBRT in the trial?")
    covered = Coverage(subjects=set(parts.entities), new_agent=new_agent)
    assert answers_question(parts, covered) is ok


def test_a_which_agent_question_is_not_quoted_from_a_sentence_naming_none() -> None:
    from assistant.decide import best_quote

    q = "Which anti-PD-1 antibody is given with SBRT before metastasectomy for osteosarcoma?"
    text = ("Participants receive pre-operative SBRT and PD-1 blockade immunotherapy "
            "followed by metastasectomy for metastatic osteosarcoma.")
    assert best_quote(q, [one_view(text, "en", "SBRT osteosarcoma")], question_parts(q),
                      semantic={(1, 0): 0.8}) is None
    named = text.replace("PD-1 blockade immunotherapy", "PD-1 blockade with camrelizumab")
    found = best_quote(q, [one_view(named, "en", "SBRT osteosarcoma")], question_parts(q),
                       semantic={(1, 0): 0.8})
    assert found is not None and "camrelizumab" in found[1].text


def test_which_antibody_answered_with_the_class_is_declined(bot: Assistant,
                                                             llm: ScriptedChatModel) -> None:
    """The 1.5B answered dev d2-34 (the record names no antibody) with the drug class the
    question already names; the scripted model stands for that draft."""
    llm.enqueue("The anti-PD-1 antibody given with SBRT is PD-1 blockade immunotherapy [1].")
    answer = bot.ask("Which anti-PD-1 antibody is given with SBRT in the pre-operative "
                     "osteosarcoma metastasectomy trial?")
    assert answer.abstained and answer.text == REFUSAL["en"]
    assert "blockade" in answer.draft


@pytest.mark.parametrize("question, measure", [
    ("What platelet count is required for enrolment in the anlotinib plus toripalimab trial?",
     "platelet"),
    ("安罗替尼联合特瑞普利单抗试验要求的中性粒细胞绝对计数下限是多少?", "neutrophil"),
    ("How high a fever excludes patients from the anlotinib plus toripalimab trial?",
     "temperature"),
])
def test_a_laboratory_threshold_is_what_is_asked(question: str, measure: str) -> None:
    """A trial record's thresholds are measures of their own: "What platelet count is required
    for enrolment?" asks a platelet count, and a sentence about enrolment that gives a time
    (the pregnancy test "within 7 days prior to enrollment") is no answer to it."""
    from assistant.decide import best_quote

    parts = question_parts(question)
    assert parts.measures == (measure,)
    text = ("Women of childbearing age must have a negative pregnancy test within 7 days prior "
            "to enrollment and use contraception for 8 weeks after the last dose.")
    view = one_view(text, "en", "Anlotinib combined with toripalimab in STS", "001.txt")
    assert best_quote(question, [view], parts) is None


@pytest.mark.parametrize("question, found", [
    ("该病例中地舒单抗的给药剂量是多少?", False),  # the dose in the sentence is strontium's
    ("What dose of zoledronic acid did the patient receive?", False),
    ("该病例患者接受的锶-89剂量是多少?", True),
])
def test_a_quoted_value_is_of_the_asked_arm(question: str, found: bool) -> None:
    """A value in a clause naming one arm is never a quote for another arm the same sentence
    names later: "接受了3mCi的锶-89治疗…后续联用唑来膦酸和地舒单抗" gives no denosumab dose."""
    from assistant.decide import best_quote

    text = ("一例乳腺癌骨转移患者接受了3mCi的锶-89治疗,1周后疼痛减轻,后续联用唑来膦酸和地舒单抗"
            "护骨治疗,目前疼痛仍持续缓解。")
    view = one_view(text, "zh", "骨转移核素治疗病例", "004.txt")
    quote = best_quote(question, [view], question_parts(question))
    assert (quote is not None) is found


def test_an_unbound_nearer_quote_gives_way_to_a_better_match_further_down() -> None:
    """dev d4-25: "Which bones had metastases in the case?" (no measure binds it) was quoted
    with the 1st passage's general "fractures occur in the vertebrae and long bones"
    (cos 0.46) over the 5th passage's case sentence naming them (cos 0.60)."""
    from assistant.decide import best_quote_in_rings

    title = "乳腺癌骨转移全程管理"
    views = [one_view("张教授:乳腺癌骨质破坏显著时,将出现病理性骨折,易发生于椎体、四肢长骨等承重骨。",
                      "zh", title, "004.txt", n=1),
             one_view("张教授:我们收治了一位乳腺癌患者,术后发生了多发椎体、肋骨、骨盆转移,骨痛明显。",
                      "zh", title, "004.txt", n=5)]
    q = "In the breast cancer case Professor Zhang described, which bones had metastases?"
    close = {(1, 0): 0.46, (5, 0): 0.60}
    found = best_quote_in_rings(q, views, 3, question_parts(q), semantic=close,
                                min_similarity_across=0.4)
    assert found is not None and "肋骨、骨盆" in found[1].text
    # where the nearer one matches better, it stays
    found = best_quote_in_rings(q, views, 3, question_parts(q), semantic={(1, 0): 0.6,
                                                                         (5, 0): 0.46},
                                min_similarity_across=0.4)
    assert found is not None and "承重骨" in found[1].text


def test_a_place_question_is_answered_by_places_whatever_the_numbers() -> None:
    """dev d4-25: the case's sentence names the bones ("多发椎体、肋骨、骨盆转移") and also the
    patient's age; values of a measure the question does not name do not rule it out of a
    "which bones?" question, as they do for "which endpoint?"."""
    from assistant.decide import best_quote

    text = "我们收治了一位 40 岁的乳腺癌患者,术后发生了多发椎体、肋骨、骨盆转移,骨痛明显。"
    view = one_view(text, "zh", "乳腺癌骨转移全程管理", "004.txt")
    q = "该乳腺癌病例的患者哪些部位发生了骨转移?"
    found = best_quote(q, [view], question_parts(q))
    assert found is not None and "骨盆" in found[1].text
    # a question naming no place is still not answered by a sentence of other measures' values
    other = "该乳腺癌病例采用了哪个疗效评价指标?"
    assert best_quote(other, [view], question_parts(other)) is None


# "What percentage of … patients …?": until round 13 a quote had to contain the word
# "percentage", which no sentence giving a share does (dev en-08 was declined with its answer in
# the first passage); what the share is of is the phrase now. Seen red with the VALUE_KIND_RE
# branch removed (2026-12-07); the near miss below is why it is not simply no phrase.
@pytest.mark.parametrize("question, phrase", [
    ("What percentage of osteosarcoma patients develop secondary lung metastasis?",
     "osteosarcoma patients develop secondary lung metastasis"),
    ("What share of epithelioid sarcoma patients lose INI1, according to the review?",
     "epithelioid sarcoma patients lose INI1"),
    ("What proportion is osteolytic?", ""),
    ("What R0 resection rate was reached after conversion therapy?", "R0 resection rate"),
])
def test_a_share_asked_names_no_phrase(question: str, phrase: str) -> None:
    from assistant.decide import asked_phrase

    assert asked_phrase(question) == phrase


SHARE_TEXT = ("Osteosarcoma is a primary bone malignant tumor with strong metastatic potential. "
              "About 15%-20% of osteosarcomas are accompanied by lung metastasis when diagnosed, "
              "and about 40% of patients develop secondary lung metastasis after radical surgery "
              "of the primary lesion.")


def test_a_share_is_quoted_from_the_sentence_stating_it_and_not_for_another_time() -> None:
    from assistant.decide import best_quote

    view = one_view(SHARE_TEXT, "en", "Pre-operative SBRT plus PD-1 blockade", "002.txt")
    asked = ("What percentage of osteosarcoma patients develop secondary lung metastasis after "
             "radical surgery of the primary lesion?")
    found = best_quote(asked, [view], question_parts(asked))
    assert found is not None and "about 40% of patients" in found[1].text
    # a share the passage does not give (patients' response to immunotherapy) finds nothing
    other = "What percentage of osteosarcoma patients respond to PD-1 blockade immunotherapy?"
    assert best_quote(other, [view], question_parts(other)) is None


# A share asked is answered by a percentage (round 14, dev near miss d8-04): "What proportion of
# breast cancer patients with bone-only metastasis survive 10 years?" was answered with a quote
# of survival times in months from a Chinese sentence (across languages the asked phrase cannot
# be checked). Seen red with the ``share`` filter of ``best_quote`` removed.
SURVIVAL_MONTHS = ("一项回顾性研究发现,在医院收治的123例乳腺癌骨转移患者中,不伴有SREs与伴有SREs组的"
                   "生存时间分别为54个月与35个月,有19个月的差距。")
OSTEOLYTIC = "不同的是,乳腺癌骨转移八成以上以溶骨性骨质破坏为主,CT表现为虫蚀状骨质破坏。"


@pytest.mark.parametrize("question, text, found", [
    ("What proportion of breast cancer patients with bone-only metastasis survive 10 years?",
     SURVIVAL_MONTHS, False),
    ("乳腺癌骨转移患者中,单纯骨转移者占多少能存活10年?", SURVIVAL_MONTHS, False),
    # the same sentence answers a question for the times
    ("乳腺癌骨转移患者伴有SREs组的生存时间是多少个月?", SURVIVAL_MONTHS, True),
    # a share in words is a percentage ("八成" = 80%)
    ("What proportion of breast cancer bone metastases are mainly osteolytic?", OSTEOLYTIC, True),
])
def test_a_share_asked_is_answered_by_a_percentage(question: str, text: str,
                                                   found: bool) -> None:
    from assistant.decide import asks_share, best_quote

    view = one_view(text, "zh", "乳腺癌骨转移", "003.txt")
    # the embedder's cosine, standing in: each sentence means what the question asks
    close = {(view.n, s.start): 0.9 for s in view.sentences}
    quote = best_quote(question, [view], question_parts(question), semantic=close)
    assert (quote is not None) is found, (asks_share(question), quote)


@pytest.mark.parametrize("question, share", [
    ("What proportion of DDLPS patients had PFS longer than 10.5 months?", True),
    ("SHR-2554治疗晚期上皮样肉瘤的研究中,部分缓解的患者占多少?", True),
    ("骨肉瘤在诊断时约有多大比例已伴有肺转移?", True),
    ("What was the median PFS?", False),
    ("入组患者的中位年龄是多少?", False),
])
def test_asks_share(question: str, share: bool) -> None:
    from assistant.decide import asks_share

    assert asks_share(question) is share


def test_a_share_under_another_circumstance_is_not_quoted() -> None:
    """d8-03: the 40% who develop lung metastasis after radical surgery is no answer for
    "during chemotherapy" (``condition_conflict``); after surgery it is."""
    from assistant.decide import best_quote

    view = one_view(SHARE_TEXT, "en", "Pre-operative SBRT plus PD-1 blockade", "002.txt")
    during = "What percentage of osteosarcoma patients develop lung metastasis during chemotherapy?"
    assert best_quote(during, [view], question_parts(during)) is None
    after = "What percentage of osteosarcoma patients develop lung metastasis after radical surgery?"
    found = best_quote(after, [view], question_parts(after))
    assert found is not None and "about 40% of patients" in found[1].text


def test_a_decision_glued_to_a_source_that_denies_it_is_not_shown(
        settings: Settings, tmp_path: Path, llm: ScriptedChatModel) -> None:
    # PubMedQA round 17: the 1.5B wrote "Yes, X. [1] indicates that <the source's 'not
    # associated'>"; checked as one sentence, "Yes, … improve survival" was shown as checked
    # with "In short: yes". Split, the claim is checked alone and fails; the source's own
    # finding is shown, cited, and a "yes" over it alone is not (the last piece of a stream is
    # split like the others: before, it went to the checker whole)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "peg.txt").write_text(
        "Feeding tubes in nursing home residents with advanced dementia\n\n"
        "In residents who were tube-fed, the timing of PEG tube insertion relative to the onset "
        "of eating problems was not associated with survival after feeding tube insertion "
        "(AHR = 1.01, 95% CI = 0.86-1.20).\n", encoding="utf-8")
    bot = Assistant(settings, embedder=HashingEmbedder(), llm=llm)
    assert not bot.ingest([docs]).failed
    llm.enqueue("Yes, feeding tube insertion and its timing improve survival. [1] indicates "
                "that the timing of PEG tube insertion relative to the onset of eating "
                "problems was not associated with survival after feeding tube insertion.")
    answer = bot.ask("Does the timing of feeding tube insertion improve survival?")
    assert answer.decision is None and "In short" not in answer.text
    assert "improve survival" not in answer.text and "indicates that" not in answer.text
    assert "was not associated with survival after feeding tube insertion [1]." in answer.text
