"""What an answer must contain to be shown: pure functions over the question and the checker's
state, table-tested in tests/test_decide.py.

- ``question_parts``: the measures a question asks for ("ORR和DCR分别是多少" asks two), and
  how many values it wants ("两组…分别" wants two).
- ``answers_question``: the checked sentences so far answer the question — a number of an
  asked measure for a quantity question, about the question's subjects.
- ``best_quote``: the source sentence that states what was asked (measure, subject, a number
  for a quantity question), for a quote-backed answer when the model's draft fails the check
  or leaves a part out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.keywords import support_units
from ingest.text import detect_language

from .citations import (
    PassageView,
    SourceSentence,
    clause_text,
    expects_quantity,
    without_measures,
)
from .claims import (
    MEDIAN_RE,
    RESPECTIVE_RE,
    Claim,
    asked_group,
    clause_conflict,
    clauses,
    compared_keys,
    condition_conflict,
    condition_spans,
    conditions_in,
    denies,
    directions_in,
    entities_in,
    is_calendar_year,
    is_reference,
    measures_in,
    mixed_group,
    no_median,
    normalise_text,
    numbers_of,
    of_asked_subgroup,
    other_subgroup,
    sentence_claims,
    sentence_horizons,
    stem,
    subgroups_asked,
    terms_in,
)
from .lexicon import (
    Mention,
    lexicon,
    other_population,
    pooled,
    population_axis,
    population_conflict,
    populations_in,
    populations_in_order,
    sites_in,
    subpopulation,
)
from .types import SentenceCheck

RESPECTIVE_Q_RE = re.compile(r"分别|各(是|为|自)|两组|两种|both|each|respectively|"
                             r"\bin the two\b|\bfor the two\b|\bhow many\b.*\band how many\b|"
                             r"多少.*(和|与|及).*多少", re.IGNORECASE)
# a question that asks a second thing: "…入组了多少例患者?ORR是多少?", "how many were enrolled
# and what proportion…", "within how many days …, and within how many months …"
SECOND_ASK_RE = re.compile(r"[?？]\s*\S.*[?？]?\s*$|\band (?:\w+ ){0,2}(?:what|how|which)\b",
                           re.IGNORECASE)

NOT_FOUND = {"zh": "文献中未找到{what}的数据。", "en": "The documents do not state the {what}."}
NOT_FOUND_REST = {"zh": "文献中未找到该问题其余部分的数据，以上回答并不完整。",
                  "en": "The documents do not state the rest of what was asked; this answer is "
                        "incomplete."}
QUOTE_LEAD = {
    ("zh", "zh"): "文献原文：“{quote}”",
    ("en", "en"): 'The source states: "{quote}"',
    ("zh", "en"): "文献原文（英文）：“{quote}”",
    ("en", "zh"): 'The source states (in Chinese): "{quote}"',
}


@dataclass(frozen=True)
class Parts:
    measures: tuple[str, ...]  # strict measures asked, in the order asked
    entities: frozenset[str]  # subjects named in the question
    quantity: bool  # the question asks for a number
    values: int  # how many values the question wants (2 for "两组…分别")
    # each study's subjects where one question asks two studies the same thing (subject_parts)
    sides: tuple[frozenset[str], ...] = ()
    # "Which antibody / 哪种药物 …?": the agents the question itself names, which are no answer
    # (None: the question does not ask which agent)
    agents_named: frozenset[str] | None = None
    # the patient populations a quantity question asks about side by side, in its order
    # ("初治患者和复发难治患者的DCR分别…"): each is a part of the answer
    populations: tuple[str, ...] = ()
    # the one population a part of the answer is about (None: the question's own)
    population: frozenset[str] | None = None
    # what a comparison asked without a number compares (``compared_in``): a sentence that
    # says which way it goes ("整体不良反应发生率更低") answers it; empty for other questions
    compared: frozenset[str] = frozenset()


# a question asking which drug, antibody or agent: answered only by naming one it does not name
AGENT_Q_RE = re.compile(
    r"\b(?:which|what)\s+(?:[\w/-]+\s+){0,3}?(?:drugs?|agents?|antibody|antibodies|inhibitors?|"
    r"medications?|medicines?|compounds?)\b"
    r"|(?:哪种|哪个|哪一种|哪些|什么)[\u4e00-\u9fffA-Za-z0-9/-]{0,8}?(?:药物|药|抗体|单抗|抑制剂)",
    re.IGNORECASE)
# a drug's name by its INN stem: agents the lexicon does not list (Chinese names, which have no
# word boundary to find a stem by, only through the lexicon)
AGENT_NAME_RE = re.compile(
    r"\b[a-z]{3,}(?:mab|nib|lib|parib|platin|rubicin|taxel|mustine|stat|cept|ciclib)\b",
    re.IGNORECASE)
NOT_AGENTS = frozenset({"placebo", "sbrt", "pd1"})  # arms that name no drug


def agents_in(text: str) -> frozenset[str]:
    """The drugs ``text`` names: lexicon arms (not placebo, radiotherapy or a drug class) and
    names with a drug stem ("pembrolizumab", "纳武利尤单抗"). Pure."""
    found = {e for e in entities_in(text) if e in lexicon().arms} - NOT_AGENTS
    return frozenset(found | {m.group(0).lower() for m in AGENT_NAME_RE.finditer(text)})


def names_new_agent(parts: Parts, text: str) -> bool:
    """``text`` names an agent the question does not (or the question asks no agent)."""
    return parts.agents_named is None or bool(agents_in(text) - parts.agents_named)


# a yes/no question starts with an auxiliary verb, or a clause of a titled question does
# ("Double balloon enteroscopy: is it safe …?", "Human papillomavirus and pterygium. Is the …?")
# — or a title asks it of a noun phrase ("Aripiprazole: a new risk factor for gambling?")
_WH = r"what|which|who|whom|whose|when|where|why|how"
YES_NO_RE = re.compile(r"(?:^\W*|[:;.?!]\s+|\s?(?:--|—)\s?)\s*(is|are|does|do|did|can|could|"
                       r"should|was|were|has|have|had|will|would|may|might|must)\b"
                       rf"|^[^:?]+:\s+(?![^?]*\b(?:{_WH})\b)[^:?]*\?\s*$"
                       r"|是否|能否|可否|有没有|会不会|吗\s*[?？]?\s*$", re.IGNORECASE)


# the decision a draft starts with, as the prompt asks of a yes/no question: "Yes, …", "否。…"
# Chinese decision words (one table: the eval reads answers with it too)
ZH_DECISIONS = {"是的": "yes", "是": "yes", "有效": "yes", "否": "no", "不是": "no", "不": "no",
                "无效": "no", "没有": "no", "可能": "maybe", "也许": "maybe", "不确定": "maybe",
                "不清楚": "maybe", "尚不明确": "maybe"}
# longest first, so 不确定 is "maybe", not 不
ZH_DECISION_WORDS = tuple(sorted(ZH_DECISIONS, key=len, reverse=True))
_DRAFT_DECISION_RE = re.compile(rf"^\W*(?:(yes|no|maybe)\b|({'|'.join(ZH_DECISION_WORDS)}))",
                                re.IGNORECASE)
DECISION_TEXT = {
    "en": {"yes": "In short: yes.", "no": "In short: no.",
           "maybe": "In short: maybe — the documents are not conclusive."},
    "zh": {"yes": "结论：是。", "no": "结论：否。",
           "maybe": "结论：尚不确定，文献未给出明确结论。"},
}


def draft_decision(draft: str) -> str | None:
    """The yes / no / maybe a draft commits to in its first words, else None."""
    m = _DRAFT_DECISION_RE.match(draft)
    if not m:
        return None
    return m.group(1).lower() if m.group(1) else ZH_DECISIONS[m.group(2)]


def decision_for(question: str, draft: str, checks: Sequence[SentenceCheck]) -> str | None:
    """A yes/no question's decision, shown only where the model committed to one and at least
    one sentence of its reasoning passed the check against the sources — and not a "yes"
    where every sentence that passed says the finding is not so ("Yes, …" over "the timing …
    was not associated with survival [1]"): what is shown would contradict it."""
    reasons = [c for c in checks if c.supported and c.action != "neutral"]
    if not is_yes_no(question) or not reasons:
        return None
    decision = draft_decision(draft)
    if decision == "yes" and all(denies(c.text) for c in reasons):
        return None
    return decision


def is_yes_no(question: str) -> bool:
    """A question answered by yes / no (its decision, with the sentence that supports it)."""
    return bool(YES_NO_RE.search(question))


# between two measure words of a question: the first only qualifies the second ("入组患者的年龄
# 范围": the age is asked, of enrolled patients) — or, in English, the second the first ("the
# age range of enrolled patients") — unless a conjunction makes both asked
_QUALIFIES_NEXT_RE = re.compile(r"^(?:(?!多少|什么|几|是否)[^和与及、或,，;；?？。])*的"
                                r"(?:(?!多少|什么|几|是否)[^和与及、或,，;；?？。])*$")
_QUALIFIES_PREV_RE = re.compile(r"^(?:(?!\b(?:and|or|versus|vs)\b)[^,;])*\b(?:of|among|in|for)\b"
                                r"(?:(?!\b(?:and|or|versus|vs)\b)[^,;])*$", re.IGNORECASE)


# a sentence that states what a study set out to do ("Objective: To assess …", "The aim of this
# study is to evaluate …", "本研究旨在评估…") says what was asked, never what was found: it is
# quoted only for a question about the aim itself
AIM_RE = re.compile(
    # anywhere: "the aim of this study", "this study aimed to", "本研究旨在"
    r"\b(?:aim|objective|purpose|goal)s?\s+of\s+(?:this|the|our|the\s+(?:current|present))\s+"
    r"(?:study|trial|work|research)\b"
    r"|\b(?:this|the\s+(?:current|present)|our)\s+(?:study|trial)\s+"
    r"(?:aimed|aims|was\s+designed|is\s+designed|sought|seeks)\s+to\b"
    r"|(?:本|该)项?(?:研究|试验)(?:旨在|的目的是|目的是|目的在于|拟)"
    # "we aimed to", "we sought to determine", "we set out to"
    r"|\bwe\s+(?:aimed|sought|set\s+out|intended|wished)\s+to\b"
    # a trial record's "the investigators aim to conduct …" (dev d2-23 quoted it as the
    # definition of a resectable nodule), "研究者拟开展…"
    r"|\b(?:the\s+)?(?:investigators|researchers|authors|we)\s+(?:aim|plan|intend|propose)\s+to\b"
    r"|(?:研究者|研究人员|我们)(?:旨在|拟开展|拟进行)"
    # "our study was undertaken to", "this study was planned to", "we carried out this
    # research to"
    r"|\b(?:this|our|the\s+(?:current|present))\s+(?:study|trial|research|work|paper|analysis)"
    r"\s+(?:was|is)\s+(?:undertaken|conducted|performed|carried\s+out|planned|intended)\s+to\b"
    r"|\bwe\s+(?:carried\s+out|conducted|performed|undertook)\s+this\s+"
    r"(?:study|research|trial|work|analysis)\s+to\b"
    # "This paper assesses …", "In this paper, we assessed …": what the paper is about
    r"|\b(?:this|the\s+present)\s+(?:paper|article|report)\s+(?:assess|examin|investigat|evaluat|"
    r"explor|describ|address)\w*"
    r"|\bin\s+this\s+(?:paper|article|report),?\s+we\s+(?:assess|examin|investigat|evaluat|"
    r"explor)\w*"
    r"|\bto\s+test\s+the\s+hypothesis\b"
    # at the start: a labelled objective, "To evaluate …"
    r"|^\W*(?:(?:(?:study|primary|secondary|main|background\s+and)\s+)?"
    r"(?:objectives?|purposes?|aims?|goals?)\s*[:：]|(?:研究)?目的[:：]"
    r"|(?:[a-z]+\s*[:：]\s*)?to\s+(?:evaluate|assess|investigate|examine|determine|compare|"
    r"explore|study)\b)",
    re.IGNORECASE)
AIM_Q_RE = re.compile(r"\b(?:aims?|objectives?|purpose|goals?|designed\s+to)\b|目的|旨在",
                      re.IGNORECASE)


# an abstract's section label that opens what the study did or what was known before it, not
# what it found: no answer to a yes/no question about the study's finding
SETTING_LABEL_RE = re.compile(
    r"^\W*(?:background|introduction|context|unlabell?ed|rationale|hypothesis"
    r"|(?:(?:materials?|patients?|subjects?|participants?|research\s+design)\s+and\s+)?methods?"
    r"|(?:study\s+|research\s+)?design|setting|participants|subjects|interventions?"
    r"|研究背景|背景|方法|研究方法)\s*[:：]",
    re.IGNORECASE)


def sets_the_scene(sentence: str) -> bool:
    """The sentence opens an abstract's background or methods (``SETTING_LABEL_RE``)."""
    return bool(SETTING_LABEL_RE.match(sentence))


def states_aim(sentence: str) -> bool:
    """The sentence says what a study set out to do (``AIM_RE``), not what it found."""
    return bool(AIM_RE.search(sentence))


# examples a question gives ("以哪个指标(如ORR或PFS)作为主要终点?"): named, not asked
EXAMPLES_RE = re.compile(r"[(（]\s*(?:如|例如|比如|e\.g\.|eg|such as)[^)）]*[)）]", re.IGNORECASE)


def question_measures(question: str) -> list[Mention]:
    """The strict measures a question names, leaving out those it gives as examples and the
    age of a subgroup it is about ("… for patients under 16 years old")."""
    spans = [m.span() for m in EXAMPLES_RE.finditer(question)]
    spans += condition_spans(question, question=True).values()
    return [m for m in lexicon().strict_measures(question)
            if not any(a <= m.start < b for a, b in spans)]


def asked_measures(question: str) -> list[str]:
    """The strict measures a question asks for, in order, without those that only qualify
    another ("入组患者的年龄范围" asks the age, not the enrolment) or are examples."""
    mentions = question_measures(question)
    dropped: set[int] = set()
    for i in range(len(mentions) - 1):
        a, b = mentions[i], mentions[i + 1]
        if a.key == b.key:
            continue
        between = question[a.end:b.start]
        if _QUALIFIES_NEXT_RE.match(between):
            dropped.add(i)
        elif between.isascii() and _QUALIFIES_PREV_RE.match(between):
            dropped.add(i + 1)
    seen: list[str] = []
    for i, m in enumerate(mentions):
        if i not in dropped and m.key not in seen:
            seen.append(m.key)
    return seen


# measures that are counts of patients: a question asking a time or an age does not ask them
# ("多少年内患过其他恶性肿瘤的患者不能入组": 入组 is eligibility there, not the enrolment count)
COUNT_MEASURES = frozenset({"enrolment"})


# "How did X compare between A and B?", "A组与B组相比,X如何?": a comparison asked without a
# number ("lower", "相似" answers it). A number asked in so many words ("by how much", "下降多少"),
# or a value asked of one side ("What was the ORR compared with placebo?") keeps the question a
# quantity question.
COMPARE_Q_RE = re.compile(
    r"\bhow\s+(?:did|does|do|was|were|is|are)\b.*\b(?:compare|differ)\b|"
    r"(?:相比|相较|比较|对比)[^?？]*?(?:如何|怎样|怎么样|有何(?:差异|不同|区别)|有什么(?:差异|不同|区别))|"
    r"(?:差异|不同|区别)如何", re.IGNORECASE)
NUMBER_ASKED_RE = re.compile(r"多少|几[个名例年月天周次]|百分之|\bhow\s+(?:many|much|long)\b|"
                             r"\bby\s+how\b|\bwhat\s+(?:percentage|proportion|share|number)\b",
                             re.IGNORECASE)


def compared_in(question: str) -> frozenset[str]:
    """What a comparison asked without a number compares: the lexicon measures and terms the
    question names ("整体不良反应发生率" -> {"adverse"}; "incidence of hypocalcaemia" ->
    {"term:hypocalcaemia"}). Empty for any other question, and where it names none (what is
    compared is then unknown: no sentence can be told to answer it). Pure."""
    if is_yes_no(question) or not COMPARE_Q_RE.search(question) or \
            NUMBER_ASKED_RE.search(question):
        return frozenset()
    return frozenset(compared_keys(question))


def states_comparison(parts: Parts, text: str) -> bool:
    """``text`` says which way the comparison asked goes, of what is compared: one clause holds
    a direction ("更低", "similar") and every measure and term the question compares — not
    "3级及以上的副反应发生率36.7%,…,16.7%的患者减少了艾立布林的剂量" (its "减少" is of a
    dose). Pure."""
    if not parts.compared:
        return False
    text = normalise_text(text)
    return any(directions_in(text[a:b]) and parts.compared <= compared_keys(text[a:b])
               for a, b in clauses(text))


def question_parts(question: str) -> Parts:
    seen = asked_measures(question)
    units = asked_units(question)
    if units and "patient" not in units:
        seen = [m for m in seen if m not in COUNT_MEASURES]
    wants = max(len(seen), 2 if RESPECTIVE_Q_RE.search(question) or
                SECOND_ASK_RE.search(question.strip()) else 1)
    compared = compared_in(question)
    quantity = not is_yes_no(question) and not compared and (
        expects_quantity(question) or bool(seen and _asks_value(question)))
    sides = tuple(subject_parts(question)) if quantity else ()
    agents = agents_in(question) if AGENT_Q_RE.search(question) else None
    populations = side_by_side(populations_in_order(question)) if quantity else ()
    return Parts(tuple(seen), frozenset(entities_in(question)), quantity,
                 max(wants, len(sides), len(populations)), sides, agents, populations,
                 compared=compared)


def side_by_side(populations: Sequence[str]) -> tuple[str, ...]:
    """The populations a question asks about side by side, in its order: two or more of one axis
    ("初治患者和复发难治患者"); "初治的转移性患者" is one population described twice."""
    axes = [population_axis(p) for p in populations]
    return tuple(p for p, axis in zip(populations, axes, strict=True) if axes.count(axis) >= 2)


# two studies asked about in one question ("A试验与B试验分别计划入组多少人?", "… the A trial and
# the B trial each …"): the conjunction between them, each side naming a trial or study
_STUDY_WORD_RE = re.compile(r"试验|研究|trial|study", re.IGNORECASE)
_BETWEEN_STUDIES_RE = re.compile(r"与|和|及|以及|\band\b|\bvs\.?|\bversus\b", re.IGNORECASE)


def study_sides(question: str) -> list[tuple[str, frozenset[str]]]:
    """(text, subjects) of each study a question asks the same thing of, in order — two or
    more sides of a conjunction, each naming a trial or study and subjects of its own — else
    []."""
    cuts = [m for m in _BETWEEN_STUDIES_RE.finditer(question)
            if _STUDY_WORD_RE.search(question[:m.start()]) and
            _STUDY_WORD_RE.search(question[m.end():])]
    if not cuts:
        return []
    bounds = [0, *(x for m in cuts for x in (m.start(), m.end())), len(question)]
    sides = [question[a:b] for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
    if not all(_STUDY_WORD_RE.search(side) for side in sides):
        return []
    subjects = [frozenset(entities_in(side)) for side in sides]
    if any(not e for e in subjects) or len(set(subjects)) < len(subjects):
        return []
    return list(zip(sides, subjects, strict=True))


def subject_parts(question: str) -> list[frozenset[str]]:
    """The subjects of each study a question asks the same thing of (``study_sides``): each
    side is a part to answer (or report missing) on its own, since no one source sentence
    states both trials' figures."""
    return [subjects for _, subjects in study_sides(question)]


_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def side_query(question: str, subjects: frozenset[str]) -> str:
    """A search for one study of a two-study question: its side of the question, with the
    measure words of the question its side lacks ("安罗替尼联合特瑞普利单抗试验" + "计划入组"),
    then the lexicon's names of its subjects and measures in the other language ("anlotinib
    toripalimab … participants"): the study's record may be written in either."""
    text = next((t for t, s in study_sides(question) if s == subjects), question)
    mentions = question_measures(question)
    words = [question[m.start:m.end] for m in mentions]
    extra = [w for w in dict.fromkeys(words) if w not in text]
    lex = lexicon()
    chinese = detect_language(question) == "zh"
    names = [a for key in sorted(subjects) for a in lex.entities.aliases(key)]
    names += [a for key in dict.fromkeys(m.key for m in mentions)
              for a in lex.measures.aliases(key)]
    other = [a for a in dict.fromkeys(names)
             if bool(_CJK_RE.search(a)) is not chinese and a.lower() not in text.lower()]
    return " ".join([text.strip(), *extra, *other])


def _asks_value(question: str) -> bool:
    if re.search(r"多少|几|是什么|为何|what (is|was|were|are)|how", question, re.IGNORECASE):
        return True
    # "what ORR and DCR did … have?": "what" right before the measure asks its value
    first = next(iter(lexicon().strict_measures(question)), None)
    return first is not None and bool(re.search(r"\bwhat\s+(?:\S+\s+){0,2}$",
                                                question[:first.start], re.IGNORECASE))


# what kind of value a question asks for, by its words: a quote must give a value of that kind
# ("至首次SRE的中位时间" asks a time: a sentence giving only a risk reduction in % is no answer)
# a time in the unit the question names ("多少年内" asks years), else any time: first match
ASKED_TIME: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (re.compile(r"(?:多少|几)个?月|how many months", re.IGNORECASE), frozenset({"month"})),
    (re.compile(r"(?:多少|几)个?(?:周|星期)|how many weeks", re.IGNORECASE), frozenset({"week"})),
    (re.compile(r"(?:多少|几)(?:天|日)|how many days", re.IGNORECASE), frozenset({"day"})),
    (re.compile(r"(?:多少|几)年|how many years", re.IGNORECASE), frozenset({"year"})),
    (re.compile(r"多久|多长时间|多长|时间|how long|\btime to\b|duration", re.IGNORECASE),
     frozenset({"month", "week", "day", "year"})),
)
ASKED_UNITS: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    # an age is in years ("aged 18-70 years", "16岁以下")
    (re.compile(r"年龄|\bages?\b|how old", re.IGNORECASE), frozenset({"year", "age_year"})),
    (re.compile(r"多少例|多少人|多少名|多少位|几例|几名|how many (?:patients|participants|people|"
                r"subjects|children|cases)", re.IGNORECASE), frozenset({"patient"})),
)
# ... and by the measure whose units the lexicon lists (``unit_measures``: a dose in mg, mCi,
# Gy …, a temperature in °C, a size in mm or cm), with any further units a value may have
ASKED_UNIT_MEASURES: tuple[tuple[re.Pattern[str], str, frozenset[str]], ...] = (
    (re.compile(r"剂量|多少毫克|\bdoses?\b|\bdosed\b|how much .* (?:given|take)",
                re.IGNORECASE), "dose", frozenset({"ml"})),
    (re.compile(r"多少度|体温|\bwhat temperature\b|\bhow high\b.*\b(?:fever|temperature)\b",
                re.IGNORECASE), "temperature", frozenset()),
    (re.compile(r"多少毫米|多少厘米|\bhow (?:large|big)\b|\bwhat size\b", re.IGNORECASE),
     "size", frozenset()),
)


def of_kind(claim: Claim, units: frozenset[str]) -> bool:
    """A value of the kind asked: in one of ``units`` — or a bare number where a count of
    patients is asked ("共纳入1733名" and "入组21" alike)."""
    unit = claim.quantity.unit
    return unit in units or (unit is None and "patient" in units)


# a question asking what a measure is made of ("What counts as a skeletal-related event?",
# "骨相关事件包括哪些?"), and a sentence that says it ("骨相关事件…主要包括以下五种:病理性骨折、…")
DEFINE_Q_RE = re.compile(r"\bwhat\s+counts\s+as\b|\bwhat\s+does\b.*\binclude\b|"
                         r"\bwhat\s+(?:is|are)\s+(?:meant\s+by|included\s+in)\b|"
                         r"\bhow\s+is\b.*\bdefined\b|包括哪些|包含哪些|是指什么|指什么|"
                         r"如何定义|怎么定义|怎样定义", re.IGNORECASE)
DEFINES_RE = re.compile(r"包括|包含|主要有|是指|指的是|定义为|\binclud(?:e|es|ing)\b|"
                        r"\bconsists?\s+of\b|\bdefined\s+as\b|\brefers?\s+to\b", re.IGNORECASE)


def asks_definition(question: str) -> bool:
    """"What counts as an SRE?", "骨相关事件包括哪些?": what a measure is made of."""
    return bool(DEFINE_Q_RE.search(question))


# a question asking where in the body: only a sentence naming a site answers it
PLACE_Q_RE = re.compile(r"\bwhere\b|\bwhich\s+(?:sites?|bones?|parts?|locations?|organs?)(?![\w-])|"
                        r"\bwhat\s+(?:sites?|locations?)(?![\w-])|哪里|何处|哪些?个?部位|什么部位|好发于哪",
                        re.IGNORECASE)


def asks_where(question: str) -> bool:
    """"Where do … occur?", "好发于哪些部位?" — not "Which bone-modifying agents …?"."""
    return bool(PLACE_Q_RE.search(question))
# a number a study plans ("计划入组多少人", "plan to enroll") is not a result a sentence reports:
# "The study included 154 patients with evaluable efficacy, with an ORR of 10.13%" is a finished
# study's count (dev zh-27 quoted it, from a trial record's background, as the record's plan)
PLAN_Q_RE = re.compile(r"计划|拟|预计|\bplan(?:s|ned)?\b|\bwill\s+(?:enrol|enroll|recruit)|"
                       r"\btarget(?:ed)?\s+(?:enrol|sample)", re.IGNORECASE)
RESULT_MEASURES = frozenset({"orr", "dcr", "pfs", "os", "efs", "dfs", "cr", "pr", "sd", "pd",
                             "hr"})
YEAR_Q_RE = re.compile(r"哪一?年|何年|年份|什么时候|\bwhen\b|\bwhich year\b|\bwhat year\b",
                       re.IGNORECASE)


_ZH_ASK_RE = re.compile(r"(?:是|为|有)?(?:多少|几|多久|多长|怎么|什么|哪)")
_EN_ASK_RE = re.compile(r"\b(?:what|which|how)\b(?:\s+(?:is|was|were|are|did|does|do|kind of|"
                        r"type of))?(?:\s+(?:the|a|an))?\s+(.+?)(?=\s+(?:in|of|for|with|"
                        r"among|after|at|given|used|did|does|do|is|was|were|are|by)\b|[?？]|$)",
                        re.IGNORECASE)


# words naming the kind of value asked, not what it is of ("What percentage of …")
VALUE_KINDS = r"share|percentage|proportion|fraction|percent"
VALUE_KIND_RE = re.compile(rf"(?:{VALUE_KINDS})s?", re.IGNORECASE)


# a question asking what share of a group something is ("What proportion of … survive 10
# years?", "…的患者占多少?", "多大比例"): a value answering it is a percentage ("八成" is 80%)
SHARE_Q_RE = re.compile(rf"\bwhat\s+(?:{VALUE_KINDS})s?\b|占多少|占比|多大比例|比例(?:是|为)?多少|"
                        r"百分之多少|百分比(?:是|为)?多少", re.IGNORECASE)
# ... or how often something occurs: a share, or a rate per population ("1-2/100000")
RATE_Q_RE = re.compile(r"\b(?:incidence|prevalence)\b|发生率|发病率|患病率", re.IGNORECASE)


def asks_share(question: str) -> bool:
    """``question`` asks one share of a group, so its answer is a percentage. Pure."""
    return bool(SHARE_Q_RE.search(question))


def asked_phrase(question: str) -> str:
    """The words that name what a question asks for, where no lexicon measure does:
    "…转化治疗后的R0切除率是多少?" -> "R0切除率"; "Which anti-PD-1 antibody is given…" ->
    "anti-PD-1 antibody". "" when it cannot be told."""
    if question.isascii():
        if re.search(r"\bhow (?:many|much|long|often|old)\b", question, re.IGNORECASE):
            return ""  # a count, an amount, a time: the kind of value is checked instead
        m = _EN_ASK_RE.search(question)
        phrase = m.group(1).strip() if m else ""
        if m and VALUE_KIND_RE.fullmatch(phrase):
            # "What percentage of osteosarcoma patients develop …?": the word names the kind
            # of value and no sentence giving a share says "percentage"; what it is a share of
            # does
            of = re.match(r"\s+of\s+([^,;?]+)", question[m.end(1):], re.IGNORECASE)
            return of.group(1).strip() if of else ""
        return phrase
    m = _ZH_ASK_RE.search(question)
    if not m:
        return ""
    head = re.split(r"[,，;；:：、?？]", question[:m.start()])[-1]
    return head.rsplit("的", 1)[-1][-8:] if "的" in head else ""


ACRONYM_RE = re.compile(r"\b(?:[A-Z]{2,}[A-Za-z0-9-]*|[A-Z]\d+[A-Za-z0-9-]*)")


def phrase_in(phrase: str, text: str) -> bool:
    """``text`` names what ``phrase`` asks: its acronyms ("R0", "ECOG", "PD-1"), if it has
    any, else at least half of its words."""
    acronyms = ACRONYM_RE.findall(phrase)
    if acronyms:
        low = text.lower()
        return any(a.lower() in low for a in acronyms)
    words = {stem(w) for w in support_units(phrase)}
    have = {stem(w) for w in support_units(text)}
    return not words or 2 * len(words & have) >= len(words)


def asked_units(question: str) -> frozenset[str]:
    """The units a value answering ``question`` can have (empty: the question does not say)."""
    out: frozenset[str] = next((units for pattern, units in ASKED_TIME
                                if pattern.search(question)), frozenset())
    for pattern, units in ASKED_UNITS:
        if pattern.search(question):
            out |= units
    for pattern, measure, more in ASKED_UNIT_MEASURES:
        if pattern.search(question):
            out |= lexicon().units_of(measure) | more
    return out


@dataclass
class Coverage:
    """What the shown sentences cover of the question."""

    measures: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    numbers: int = 0  # shown sentences that carry a bound number
    # a shown sentence names an agent the question does not (always, where it asks no agent)
    new_agent: bool = False
    # a shown sentence says which way the comparison asked goes (``states_comparison``)
    compared: bool = False


def asks_one_value(parts: Parts) -> bool:
    """The question asks one number — of one measure, or of none the lexicon names ("多少个以内",
    "how many days") — of one study and population, and no agent, comparison or second part:
    one source sentence can answer it whole. Pure."""
    return (parts.quantity and len(parts.measures) <= 1 and parts.values == 1
            and not parts.sides and not parts.populations and not parts.compared
            and parts.agents_named is None)


def quote_first_ok(parts: Parts, quote: Quote) -> bool:
    """A quote may be shown before the model's answer: the question asks one value
    (``asks_one_value``) and the quote states a number; where a measure is asked, the measure
    and every subject of the question bind it (``Quote.bound``); where none is, the words or
    meaning ``scored_quote`` requires chose it (on dev: 54 questions get a quote first, every
    one holding the gold values, none of the must-decline ones). Pure."""
    return (asks_one_value(parts) and bool(quote.sentence.claims)
            and (quote.bound or not parts.measures))


def quote_coverage(sentence: SourceSentence) -> Coverage:
    """What a quoted source sentence covers of a question: the measures of its values, the
    subjects of its paragraph and the sentences it opens, one number where it states any.
    Pure."""
    return Coverage(measures={m for c in sentence.claims for m in c.measures},
                    subjects=set(sentence.context | sentence.after),
                    numbers=int(bool(sentence.claims)))


def missing_measures(parts: Parts, covered: Coverage) -> list[str]:
    return [m for m in parts.measures if m not in covered.measures]


def answers_question(parts: Parts, covered: Coverage) -> bool:
    """The shown sentences answer (at least part of) the question: about its subjects, with a
    number of an asked measure where it asks for a quantity."""
    if parts.compared:
        if parts.entities and not parts.entities & covered.subjects:
            return False  # a comparison's sentence names one side at least ("地舒单抗组…更低")
    elif parts.entities and not parts.entities <= covered.subjects and not any(
            side <= covered.subjects for side in parts.sides):
        return False  # (one of two studies asked about, whole, is part of the answer)
    if parts.agents_named is not None and not covered.new_agent:
        return False  # "Which antibody?" — "PD-1 blockade immunotherapy" names none
    if parts.compared and not covered.compared:
        return False  # "How did X compare?" — a sentence of X's that goes no way, or of Y's
    if parts.quantity:
        if covered.numbers == 0:
            return False
        if parts.measures and not set(parts.measures) & covered.measures:
            return False
    return True


# Where no lexicon measure names what a quantity question asks ("未使用蒽环类药物的患者占多少?"),
# the binding cannot tell an answer's number from another number of the same passage: "24.8%的
# 患者接受了维持化疗" binds its source and answers nothing asked. Such a sentence must share this
# much of the words of the question's asking clause (without its ask words); on dev the answers
# shown share 0.43 to 1.00 of them, the off-question ones 0.06 to 0.18.
ASK_CLAUSE_OVERLAP = 0.3
_ZH_ASKS = r"多少|多久|多长时间|多长|多大|几|什么|哪些|哪"
_ASKS_RE = re.compile(rf"{_ZH_ASKS}|\b(?:what|which|how)\b", re.IGNORECASE)
_ASK_WORDS_RE = re.compile(rf"{_ZH_ASKS}|\b(?:what|which|how|many|much|long|often|{VALUE_KINDS}|"
                           r"the|of|in|is|was|were|are|did|does|do|a|an)\b", re.IGNORECASE)


def ask_clause(question: str) -> str:
    """The clause of a question that asks (the first with an ask word), without the ask words:
    "RMS2005研究的化疗方案中,未使用蒽环类药物的患者占多少?" -> "未使用蒽环类药物的患者占 , "."""
    clauses = [c for c in re.split(r"[,，;；:：?？]", question) if c.strip()]
    asking = next((c for c in clauses if _ASKS_RE.search(c)), question)
    return _ASK_WORDS_RE.sub(" , ", asking)


def off_question(question: str, parts: Parts, sentence: str) -> bool:
    """A draft sentence that states a number about something other than what the question asks,
    where no lexicon measure names it: it shares too little of the asking clause's words
    (``ASK_CLAUSE_OVERLAP``). False where a measure is asked (the binding checks that), where
    no number is asked or stated, and where the asking clause has too few words to tell."""
    if not parts.quantity or parts.measures:
        return False
    if not numbers_of(MARKER_RE.sub("", sentence)):
        return False
    clause = ask_clause(question)
    if terms_in(clause) & terms_in(sentence):
        return False  # the asked term by any of its names ("中危组" asked, "中风险组" said)
    asked = support_units(clause)
    if len(asked) < 3:
        return False
    return len(asked & support_units(sentence)) < ASK_CLAUSE_OVERLAP * len(asked)


# units no share is given in: "The incidence of bone metastasis … is 19 months [1]" bound the
# source's "有19个月的差距" and was shown (dev en-20, 0.5B, round 14)
NOT_A_SHARE = frozenset({"month", "week", "day", "year", "age_year", "hour", "mg", "g", "ug",
                         "kg", "mg_m2", "mg_kg", "ml", "gy", "mci", "mbq", "mm", "cm", "celsius"})


def not_a_share(question: str, parts: Parts, sentence: str) -> bool:
    """A draft sentence answering a question that asks one share or rate ("What is the
    incidence of …?", "…占多少?") with values that cannot be one: none in percent, and one in
    a unit no share has (months, mg, mm …). False where the question asks something else.
    Pure."""
    if not (parts.quantity and parts.values == 1 and
            (asks_share(question) or RATE_Q_RE.search(question))):
        return False
    asked = numbers_of(question)
    claims = [c for c in sentence_claims(MARKER_RE.sub("", sentence))
              if c.quantity.value not in asked]
    return (not any(c.quantity.unit == "percent" for c in claims) and
            any(c.quantity.unit in NOT_A_SHARE for c in claims))


def decline_reason(*, out_of_scope: bool, model_declined: bool, wrong_language: bool,
                   supported: int, quantity: bool) -> str:
    """Why an answer that shows nothing is declined (``Answer.abstain_reason``), first rule
    that applies: no passage close enough; the model said the documents do not answer; it
    wrote only in the other language; it stated no number where one was asked; else nothing
    it wrote was supported."""
    if out_of_scope:
        return "out_of_scope"
    if model_declined:
        return "model_declined"
    if wrong_language and not supported:
        return "wrong_language"
    if supported and quantity:
        return "no_quantity"
    return "unsupported"


def other_study(asked: frozenset[str], named: set[str]) -> bool:
    """A sentence that names a trial of its own, and not the question's, reports another
    study: "HH2853的Ⅰ期研究…ORR为28.1%" answers nothing about EZH-202. (Not drugs: a trial
    record's sentences name the standard drugs the trial is compared with.)"""
    own = {e for e in named if e.startswith("trial:")}
    wanted = {e for e in asked if e.startswith("trial:")}
    return bool(own and wanted and not own & wanted)


def with_population(view: PassageView, sentence: SourceSentence, population: str,
                    reach: int = 3) -> SourceSentence:
    """The quote of a population's figure, from where its sentence names the population: "DCR为
    42%;" alone says not whose it is, so the quote starts at "在初次治疗的ES患者,ORR为25%;" (at
    most ``reach`` pieces back, within the same full sentence). Unchanged where the sentence
    names it, or no piece before it does."""
    if population in populations_in(sentence.text):
        return sentence
    prev = _piece_naming(view, sentence, {population}, reach)
    if prev is None:
        return sentence
    piece = view.chunk.text[prev.start:sentence.end]
    return SourceSentence(prev.start, sentence.end, piece, sentence_claims(piece),
                          prev.context | sentence.context, sentence.after, prev.populations,
                          sentence.study_populations)


# a sentence that sets two groups' values side by side
COMPARES_RE = re.compile(r"分别|各为|respectively|\bvs\.?|\bversus\b|对比|相比|compared", re.I)


def states_each(sentence: SourceSentence, parts: Parts, wanted: set[str],
                stated: set[str]) -> bool:
    """A sentence that gives each population asked side by side its own value ("对比CDK4低表达
    患者,CDK4高表达患者的mOS更长:7.23个月 vs 13.27个月"): a quote for every one of them at once."""
    values = [c for c in sentence.claims if not wanted or c.measures & wanted]
    return (len(parts.populations) >= 2 and set(parts.populations) <= stated and
            len(values) >= len(parts.populations) and bool(COMPARES_RE.search(sentence.text)))


def names_population_before(view: PassageView, sentence: SourceSentence,
                            populations: Collection[str], reach: int = 3) -> bool:
    """Whether a piece of ``sentence``'s full sentence before it names one of ``populations``
    ("在初次治疗的ES患者,ORR为25%;" before "DCR为42%;")."""
    return _piece_naming(view, sentence, set(populations), reach) is not None


def _piece_naming(view: PassageView, sentence: SourceSentence, populations: set[str],
                  reach: int) -> SourceSentence | None:
    text = view.chunk.text
    at = next((i for i, s in enumerate(view.sentences) if s.start == sentence.start), None)
    if at is None:
        return None
    for back in range(at - 1, max(-1, at - 1 - reach), -1):
        prev = view.sentences[back]
        between = text[prev.end:view.sentences[back + 1].start]
        if between.strip() or prev.text.rstrip().endswith(("。", ".", "!", "?", "！", "？")):
            return None  # another sentence, not a piece of this one
        if populations & populations_in(prev.text):
            return prev
    return None


UNIT_BOUND_RELIEF = 0.1


def best_quote(question: str, views: Sequence[PassageView], parts: Parts,
               measure: str | None = None, **kw: Any
               ) -> tuple[PassageView, SourceSentence] | None:
    """``scored_quote`` without its score: the sentence and its passage, or None."""
    found = scored_quote(question, views, parts, measure, **kw)
    return (found.view, found.sentence) if found else None


@dataclass(frozen=True)
class Quote:
    """A quote ``best_quote`` chose: how well it matched and whether a measure and every
    subject bind it (else only words or meaning chose it)."""

    score: float
    bound: bool
    view: PassageView
    sentence: SourceSentence


def scored_quote(question: str, views: Sequence[PassageView], parts: Parts,
                 measure: str | None = None, min_overlap: float = 0.3,
                 semantic: dict[tuple[int, int], float] | None = None,
                 min_similarity: float = 0.6, min_similarity_across: float | None = None,
                 skip: Collection[tuple[int, int]] = ()) -> Quote | None:
    """The source sentence that states what ``question`` asks (or its ``measure`` part): it
    names the measure (a number of it, for a quantity question), its paragraph names every
    subject of the question, and it shares enough of the question's other words — or, where
    no measure and subject bind it, means the same (``min_similarity``; a sentence in the
    other language, where words cannot be shared: ``min_similarity_across``). Sentences in
    ``skip`` ((passage number, start) pairs) are not chosen."""
    language = detect_language(question)
    across = min_similarity if min_similarity_across is None else min_similarity_across
    wanted = {measure} if measure else set(parts.measures)
    units = asked_units(question)
    # no lexicon measure names what is asked: the words that do must be in the quote
    asks_year = bool(YEAR_Q_RE.search(question))
    phrase = "" if wanted or units or asks_year else asked_phrase(question)
    q_units = support_units(without_measures(question))
    # measures the question names, asked or not ("入组前多久": enrolment is not the value
    # asked, but a value of it is what the question is about)
    named = {m.key for m in question_measures(question)}
    asked_populations = (set(parts.population) if parts.population is not None
                         else populations_in(question))
    # the populations a quote must name itself: a population's part, else those asked side by
    # side ("初治患者和复发难治患者的DCR分别…")
    must_name = set(parts.population if parts.population is not None else parts.populations)
    group = asked_group(question)
    # one share asked and nothing else (a two-part question's other part may be a count).
    # Not an ``asked_units`` entry: a unit asked turns the asked-phrase check off, and what a
    # share is of ("… develop secondary lung metastasis") is what tells one share from another
    share = asks_share(question) and parts.values == 1 and not units
    when = conditions_in(question)  # "during chemotherapy": the circumstance asked
    named_groups = subgroups_asked(question)
    q_numbers = numbers_of(question)  # "3年EFS率": the 3 names the measure, it is no answer
    q_horizons = sentence_horizons(question)  # "6个月PFS率": a median PFS is no answer
    # … and the reverse: "中位PFS" asked, "6个月PFS率为29%" (a rate at a time) is no median
    asks_median = bool(MEDIAN_RE.search(question)) and not q_horizons
    aim_not_asked = not AIM_Q_RE.search(question)
    yes_no = is_yes_no(question)
    asks_place = asks_where(question)
    asks_plan = bool(PLAN_Q_RE.search(question)) and not wanted & RESULT_MEASURES
    defines = bool(wanted) and not parts.quantity and asks_definition(question)
    compares = bool(parts.compared)
    best: Quote | None = None
    for view in views:
        title = support_units(view.chunk.title)
        for s in view.sentences:
            if (view.n, s.start) in skip:
                continue  # already shown
            if compares:
                # "地舒单抗组…整体不良反应发生率更低": which way, of what is compared, about one
                # side at least (the other named in the passage, "…优于唑来膦酸" before it)
                if not states_comparison(parts, s.text) or not (
                        parts.entities & (s.context | s.after) and
                        parts.entities <= view.entities):
                    continue
            elif not parts.entities <= s.context | s.after:
                continue
            own = support_units(s.text)
            if len(own - title) < 3 and not any(c.measures & wanted and c.quantity.unit
                                                for c in s.claims):
                continue  # a heading or label ("Inclusion criteria") states nothing; a
                # short clause with a value of the measure asked does ("DCR为42%;")
            if is_reference(s.text):
                continue  # a bibliography entry names a paper; it states no finding
            if other_study(parts.entities, entities_in(s.text)):
                continue  # it names its own trial: another study's sentence
            if aim_not_asked and states_aim(s.text):
                continue  # what the study set out to do answers no question but its aim
            if yes_no and sets_the_scene(s.text):
                continue  # "Methods: We investigated …" is what was done, not what was found
            stated = populations_in(s.text)
            if other_population(asked_populations, stated) and not (
                    parts.population is not None and states_each(s, parts, wanted, stated)):
                continue  # relapsed patients' figures (or those of treatment-naive and
                # relapsed patients together) for a question on treatment-naive ones
            whose = s.stated_populations()  # its own, else those its study named last
            if population_conflict(asked_populations, whose):
                continue  # after "共纳入1733名非转移性…患者", a figure of non-metastatic ones
            if not asked_populations and subpopulation(whose, s.study_populations):
                continue  # one population's figure of a study of several, none asked
            if must_name and not must_name & stated and \
                    not names_population_before(view, s, must_name):
                continue  # a population's part (or populations asked side by side): its
                # sentence says whose figure it is; "中位PFS…为4.2…个月" (all patients) is none's
            if pooled(asked_populations & stated, bool(RESPECTIVE_RE.search(s.text))):
                continue  # one figure of both populations asked: the figure of neither
            if asks_plan and any(c.measures & RESULT_MEASURES for c in s.claims):
                continue  # a plan asked; the sentence reports a finished study's results
            if asks_place and not sites_in(s.text):
                continue  # "Where do they occur?": a sentence of rates names no place
            if not names_new_agent(parts, s.text):
                continue  # "Which antibody?": a sentence naming none but the question's
            same_language = view.chunk.language == language
            if phrase and same_language and not phrase_in(phrase, s.text):
                continue  # "R0切除率" asked; the sentence gives ORR
            if parts.quantity:
                claims = [c for c in s.claims if (asks_year or not is_calendar_year(c)) and
                          c.quantity.value not in q_numbers and
                          (not q_horizons or c.horizon in q_horizons) and
                          not (asks_median and no_median(s.text, c)) and
                          not clause_conflict(parts.entities, c.entities) and
                          not condition_conflict(when, clause_text(s.text, c), s.text) and
                          not mixed_group(group, clause_text(s.text, c), s.text) and
                          not other_subgroup(s.text, c, question, question) and
                          of_asked_subgroup(s.text, clause_text(s.text, c), named_groups)]
                # ("4mCi的89氯化锶" is strontium's dose, not that of the denosumab named
                # later in the sentence)
                if not claims:
                    continue
                if wanted and not any(c.measures & wanted for c in claims):
                    continue
                if units and not any(of_kind(c, units) for c in claims):
                    continue  # asked a time, a count or a dose: a value of that kind
                if share and not any(c.quantity.unit == "percent" for c in claims):
                    continue  # a share asked: "生存时间分别为54个月与35个月" gives none
                if not wanted and all(measures_in(clause_text(s.text, c)) - named and
                                      not (c.quantity.unit in units and not c.measures)
                                      for c in claims):
                    continue  # no measure asked; every value here is of another its clause names
            elif wanted and not measures_in(s.text) & wanted:
                continue
            elif not wanted and s.claims and not asks_place and all(
                    measures_in(clause_text(s.text, c)) - named for c in s.claims):
                continue  # "which endpoint…?": a sentence of values of other measures (but
                # "which bones?" is answered by the places a sentence names, whatever its
                # numbers: "一位40岁的…患者,术后发生了多发椎体、肋骨、骨盆转移")
            ctx_units = own | title
            overlap = len(q_units & ctx_units) / max(1, len(q_units))
            sim = (semantic or {}).get((view.n, s.start), 0.0)
            # a measure and every named subject bound: that is the question's fact, in any
            # language; otherwise the words (or, across languages, the meaning) must match
            bound = bool(wanted) and bool(parts.entities)
            # what the asked measure is made of, said of it: "骨相关事件…主要包括以下五种:…"
            bound = bound or (defines and bool(DEFINES_RE.search(s.text)))
            # the comparison asked, said of what is compared (checked above)
            bound = bound or compares
            need = min_overlap if wanted or parts.entities else 2 * min_overlap
            # a value of the asked kind (a time, a count, a dose) about every named subject,
            # or the year a year question asks, needs a little less meaning
            year_given = asks_year and any(is_calendar_year(c) for c in s.claims)
            # — as does a place named about every subject, for a question asking where
            floor = (min_similarity if same_language else across) - (
                UNIT_BOUND_RELIEF if (units and parts.entities) or year_given or
                (asks_place and parts.entities) else 0.0)
            if not bound and overlap < need and sim < floor:
                continue
            score = overlap + sim + 0.01 * (len(views) - view.n)
            if best is None or score > best.score:
                best = Quote(score, bound, view, s)
    return best


def best_quote_in_rings(question: str, views: Sequence[PassageView], first: int, parts: Parts,
                        measure: str | None = None, **kw: Any
                        ) -> tuple[PassageView, SourceSentence] | None:
    """``best_quote`` over the first ``first`` passages; where they give none, or give one that
    only words or meaning chose (no measure and subject bind it), over all of ``views``: a
    wider ring finds a sentence ranked lower without displacing a bound quote the nearer
    passages give (a trial record's own "70 participants" before a background sentence's "154
    patients" of another study, 8th by cosine); an unbound nearer quote stands only if it is
    also the wider ring's best."""
    near = [v for v in views if v.n <= first]
    found = scored_quote(question, near, parts, measure, **kw)
    if (found is None or not found.bound) and len(near) < len(views):
        # words or meaning alone chose the nearer quote: the best match of the wider ring,
        # which holds it too, is the quote ("which bones had metastases in the case?": the
        # case's own sentence, 5th passage, over a general one of the 1st)
        found = scored_quote(question, views, parts, measure, **kw)
    return (found.view, found.sentence) if found else None


# a citation marker, ClinCite's ("[1]") or a quoted document's own reference mark ("［12］",
# "[15, 16]"): no value
MARKER_RE = re.compile(r"\[\d{1,3}(?:\s*[,，、-]\s*\d{1,3})*\]")


def answer_values(sentences: Sequence[str], question: str, parts: Parts) -> set[tuple[str, ...]]:
    """The values shown sentences give in answer to ``question``: numbers not in a parenthesis
    that holds a confidence interval, a P value or a proportion restated ("(n=625)" and "(or
    mitomycin C within 6 weeks …)" hold values), not named by the question, not a
    calendar year (unless a year is asked), of an asked measure or unit where the question
    names one; a range ("65%~90%") is one value."""
    units = asked_units(question)
    q_numbers = numbers_of(question)
    asks_year = bool(YEAR_Q_RE.search(question))
    wanted = set(parts.measures)
    out: set[tuple[str, ...]] = set()
    for sentence in sentences:
        text = MARKER_RE.sub("", normalise_text(sentence))
        for c in sentence_claims(text):
            q = c.quantity
            if q.in_parens and _aside(text, q.start):
                continue
            if q.value in q_numbers or (not asks_year and is_calendar_year(c)):
                continue
            if (wanted or units) and not (c.measures & wanted or (units and of_kind(c, units))):
                continue
            out.add(tuple(sorted({q.value, q.partner or q.value})))
    return out


# what a parenthesis holds that gives no value of its own: a confidence interval, a P value,
# a hazard ratio, the proportion of a count just given ("1例(11.1%)")
_ASIDE_RE = re.compile(r"CI|置信|\b95\s*%|\b[PpHR]{1,2}\s*[=<>≤]|^\s*[\d.]+\s*%\s*$")


def _aside(text: str, at: int) -> bool:
    """The number at ``at`` sits in a parenthesis that states no answer value."""
    open_at = max(text.rfind(c, 0, at) for c in "(（[")
    close = [i for i in (text.find(c, at) for c in ")）]") if i >= 0]
    inner = text[open_at + 1:min(close)] if close else text[open_at + 1:]
    return bool(_ASIDE_RE.search(inner))


# two groups asked the same thing, named before "分别 / respectively" ("16岁及以上和16岁以下的患者
# 分别用什么评分…?", "… for adults and for children, respectively?")
_SIDES_ZH_RE = re.compile(r"([^,，。;；:：?？]{2,40}?)分别")
_SIDES_EN_RE = re.compile(r"\b(?:for|in|of)\s+([^,;?]{2,60}?)\s+and\s+(?:for\s+|in\s+|of\s+)?"
                          r"([^,;?]{2,60}?),?\s+respectively\b", re.IGNORECASE)
_JOIN_ZH_RE = re.compile(r"和|与|以及|或")
_GROUP_TAIL_RE = re.compile(r"(?:的)?(?:患者|病人|受试者|人群|组)$")


def sides_asked(question: str) -> tuple[str, str] | None:
    """The two groups a question asks the same thing of, side by side, in its words ("16岁及以上",
    "16岁以下"); None where it names no such pair."""
    m = _SIDES_ZH_RE.search(question)
    if m:
        pieces = _JOIN_ZH_RE.split(m.group(1))
        if len(pieces) == 2:
            a, b = (_GROUP_TAIL_RE.sub("", p.strip()) for p in pieces)
            if a and b:
                return a, b
    m = _SIDES_EN_RE.search(question)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return None


# a group bounded by a number, in either language: "16岁及以上" = "≥16 years" = "16 or older" (up),
# "16岁以下" = "under 16" = "<16岁" (down)
_UP_RE = re.compile(r"(?:≥|>=|>|＞|≧|\bover|\babove|\bat least|\bolder than)\s*(\d+(?:\.\d+)?)"
                    r"|(\d+(?:\.\d+)?)\s*(?:周?岁|years?(?: old)?|yrs?)?\s*"
                    r"(?:及以上|或以上|以上|\band (?:older|over|above)|\bor (?:older|over|above))",
                    re.IGNORECASE)
_DOWN_RE = re.compile(r"(?:<|≤|<=|＜|≦|未满|不满|\bunder|\bbelow|\byounger than|\bless than)\s*"
                      r"(\d+(?:\.\d+)?)"
                      r"|(\d+(?:\.\d+)?)\s*(?:周?岁|years?(?: old)?|yrs?)?\s*(?:及以下|以下|以内)",
                      re.IGNORECASE)


SIDE_SIMILARITY_RATIO = 0.9  # the other group's sentence: nearly as close as the one shown


def group_marks(text: str) -> set[tuple[str, str]]:
    """The groups ``text`` bounds by a number, language-free: ("up", "16") for "16岁及以上",
    "≥16 years", "16 or older"; ("down", "16") for "16岁以下", "under 16", "<16岁"."""
    return ({("up", m.group(1) or m.group(2)) for m in _UP_RE.finditer(text)} |
            {("down", m.group(1) or m.group(2)) for m in _DOWN_RE.finditer(text)})


def one_side_only(question: str, shown: str) -> bool:
    """An answer that names one of the two groups asked side by side and not the other (the
    ECOG score "16岁及以上的患者" use, and nothing of those under 16): half an answer, whatever it
    asks — a number or not. Each group is known by the words only it has ("以上" / "以下") or
    by the bound it sets in either language ("16岁及以上" is "≥16 years old", "For patients ≥16
    years old, ECOG…" quoted in English); an answer naming neither is not judged."""
    sides = sides_asked(question)
    if sides is None:
        return False
    a, b = (support_units(s) for s in sides)
    own_a, own_b = a - b, b - a
    ma, mb = (group_marks(s) for s in sides)
    mark_a, mark_b = ma - mb, mb - ma
    said, said_marks = support_units(shown), group_marks(shown)
    named = [bool(own & said) or bool(mark & said_marks)
             for own, mark in ((own_a, mark_a), (own_b, mark_b))]
    judged = (own_a and own_b) or (mark_a and mark_b)
    return bool(judged) and named[0] != named[1]


def missing_side(question: str, shown: str) -> str | None:
    """The group asked side by side that ``shown`` leaves out (``one_side_only``), in the
    question's words; None where both or neither are named."""
    if not one_side_only(question, shown):
        return None
    sides = sides_asked(question)
    assert sides is not None
    said, said_marks = support_units(shown), group_marks(shown)
    a, b = (support_units(x) for x in sides)
    ma, mb = (group_marks(x) for x in sides)
    names_a = bool((a - b) & said) or bool((ma - mb) & said_marks)
    return sides[1] if names_a else sides[0]


def other_side_quote(question: str, shown: str, views: Sequence[PassageView], docs: set[str],
                     semantic: dict[tuple[int, int], float], min_similarity: float
                     ) -> tuple[PassageView, SourceSentence] | None:
    """The sentence that answers ``question`` for the group asked side by side that ``shown``
    leaves out: of a document the answer cites (the record that states one group states the
    other), naming that group by its own words or bound ("16岁以下" = "under 16") and not the
    group shown, closest to the question in meaning — at least ``min_similarity``, or nearly
    as close as (``SIDE_SIMILARITY_RATIO`` of) the sentence there naming the group shown: a
    record's two parallel criteria ("For patients ≥16 years old, ECOG…" / "For patients under
    16 years old, Lansky…") are about equally far from a question in another language. None
    where ``shown`` names both groups or neither. Pure."""
    side = missing_side(question, shown)
    sides = sides_asked(question)
    if side is None or sides is None:
        return None
    other = sides[0] if side == sides[1] else sides[1]

    def best_naming(group: str, not_group: str) -> tuple[float, PassageView, SourceSentence] | None:
        own = support_units(group) - support_units(not_group)
        marks = group_marks(group) - group_marks(not_group)
        not_own = support_units(not_group) - support_units(group)
        not_marks = group_marks(not_group) - group_marks(group)
        best: tuple[float, PassageView, SourceSentence] | None = None
        for view in views:
            if view.chunk.doc_id not in docs:
                continue
            for sentence in view.sentences:
                units, got = support_units(sentence.text), group_marks(sentence.text)
                if (not ((own & units) or (marks & got)) or (not_own & units)
                        or (not_marks & got)):
                    continue
                score = semantic.get((view.n, sentence.start), 0.0)
                if best is None or score > best[0]:
                    best = (score, view, sentence)
        return best

    found = best_naming(side, other)
    if found is None:
        return None
    floor = min_similarity
    if (twin := best_naming(other, side)) is not None:
        floor = min(floor, SIDE_SIMILARITY_RATIO * twin[0])
    return (found[1], found[2]) if found[0] >= floor else None


def half_answer(parts: Parts, values: set[tuple[str, ...]], question: str,
                shown: Sequence[str]) -> bool:
    """An answer that gives less than asked: fewer values than a quantity question wants, or —
    where no number is asked, so values cannot be counted — one of two groups asked side by
    side never named ("16岁及以上…ECOG", nothing of those under 16). A quantity answer may name
    its groups in words of its own ("不伴有SREs与伴有SREs组分别为54个月与35个月"): its values
    decide."""
    return short_of_values(parts, values) or (
        not parts.quantity and one_side_only(question, " ".join(shown)))


def short_of_values(parts: Parts, shown: set[tuple[str, ...]]) -> bool:
    """A quantity question that wants more values than the answer gives ("两组…分别", "X? Y?")."""
    return parts.quantity and len(shown) < parts.values


def quote_sentence(quote: str, marker: int, question_language: str,
                   source_language: str) -> str:
    """A quote-backed answer sentence: the source sentence verbatim, cited."""
    # a document's own reference marks ("潜力[4]。") are not ClinCite's citation markers
    quote = re.sub(r"\[(\d{1,3}(?:[-–,，]\d{1,3})*)\]", r"［\1］", quote.strip())
    lead = QUOTE_LEAD[(question_language, source_language)].format(quote=quote)
    return f"{lead}[{marker}]" if question_language == "zh" else f"{lead} [{marker}]"


def not_found_sentence(measure: str, language: str) -> str:
    lex = lexicon()
    aliases = lex.measures.aliases(measure)
    upper = [a for a in aliases if a.isupper() and a.isascii()]
    if language == "zh":
        zh = [a for a in aliases if not a.isascii()]
        what = upper[0].upper() if upper else (zh[0] if zh else measure)
    else:
        long = [a for a in aliases if a.isascii() and " " in a]
        what = long[0] if long else (upper[0] if upper else measure)
    return NOT_FOUND[language].format(what=what)
