"""Claims: the numbers a sentence states, each bound to its unit, the measure it is a value of,
and the subjects around it. Pure functions, table-tested in tests/test_claims.py.

A number in an answer is supported only by a source sentence that states the same value with
the same unit, of the same measure, about the same subject (``binds``). Membership of the digit
somewhere in a passage is not support: "6 patients" is not supported by "6例PR" of another
study, a PFS is not supported by the OS next to it, and "A and B were x and y, respectively"
binds x to A only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from .lexicon import Lexicon, Mention, Table, lexicon

# A number not glued to a name in front (IDH1, PD-1, ALTER-S004, q3w are names); a letter
# after it is allowed only when it starts a unit (1000mg, 4mCi, 20mm).
NUMBER_RE = re.compile(r"(?<![A-Za-z\d.])(?<![A-Za-z\u4e00-\u9fff][-/])\d+(?:,\d{3})*(?:\.\d+)?"
                       r"(?!\d)")
CHENG_RE = re.compile(r"([一二两三四五六七八九十])成")
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9, "十": 10}
HALF_RE = re.compile(r"一半|半数")
RANGE_BETWEEN_RE = re.compile(r"\s*(?:%|％)?\s*(?:-|–|—|~|～|至|到|to)\s*$")
# "between 20% and 25%", "介于20%与25%之间", "在20%到25%之间": a range written with words
BETWEEN_BEFORE_RE = re.compile(r"(?:\bbetween|介于|在)\s*$", re.IGNORECASE)
BETWEEN_AND_RE = re.compile(r"\s*(?:%|％)?\s*(?:\band\b|与|和)\s*$", re.IGNORECASE)
BETWEEN_AFTER_RE = re.compile(r"^\s*(?:%|％)?\s*之间")
CLAUSE_RE = re.compile(r"[,，;；]|(?<=\D)\.\s")
RESPECTIVE_RE = re.compile(r"分别|各为|respectively", re.IGNORECASE)
LABEL_SPLIT_RE = re.compile(r"与|和|及|以及|、|\band\b|\bvs\.?|\bversus\b|对比", re.IGNORECASE)
NEGATION_RE = re.compile(r"不伴|未伴|无|不|未|without|\bno\b|\bnon-?", re.IGNORECASE)


def normalise_text(text: str) -> str:
    """NFKC folds full-width digits, % and letters (２８．５７％ -> 28.57%); same length for
    every character this project's documents contain, so offsets stay valid."""
    return unicodedata.normalize("NFKC", text)


def canonical(raw: str) -> str:
    """'1,733' -> '1733', '5.60' -> '5.6', '007' -> '7', '0.001' -> '0.001'."""
    value = raw.replace(",", "")
    whole, _, frac = value.partition(".")
    frac = frac.rstrip("0")
    whole = whole.lstrip("0") or "0"
    return f"{whole}.{frac}" if frac else whole


@dataclass(frozen=True)
class Quantity:
    value: str  # canonical: "28.57", "1000", "80" (八成)
    unit: str | None  # lexicon unit key: "percent", "month", "mg" ...
    start: int
    end: int
    in_parens: bool = False  # inside ( ): a confidence interval, an n/N, a trial number
    unit_end: int = -1  # where its unit ends (-1: no unit right after it)
    partner: str | None = None  # the other end of a range ("5% to 10%")


def _paren_depth(text: str) -> list[int]:
    depth, out = 0, []
    for ch in text:
        if ch in "(（[":
            depth += 1
        out.append(depth)
        if ch in ")）]" and depth:
            depth -= 1
    return out


GROUP_SIZE_RE = re.compile(r"(?<![A-Za-z])[nN]\s*=\s*$")


def _after_n_equals(text: str, start: int) -> bool:
    return bool(GROUP_SIZE_RE.search(text[max(0, start - 4):start]))


def is_group_size(text: str, q: Quantity) -> bool:
    """"(n=625)": how many patients a group has — a count, of no measure named near it."""
    return _after_n_equals(text, q.start)


# "For patients ≥16 years old, ECOG …", "对于16岁以下的患者,Lansky评分…": the age names the
# subgroup the rest of the sentence is about — a condition, not the value of any measure
CMP = (r"(?:≥|≤|>=|<=|>|<|under|over|below|above|at\s+least|(?:no\s+|not\s+)?less\s+than|"
       r"(?:no\s+|not\s+)?more\s+than|older\s+than|younger\s+than)")
CONDITION_BEFORE_RE = re.compile(
    r"(?:\b(?:for|in|among)\s+(?:the\s+)?(?:patients?|participants?|subjects?|children|"
    r"adolescents|adults|those|people|cases)\s+(?:(?:who\s+are\s+)?aged\s+)?" + CMP + r"?"
    r"|(?:对于|对|在|其中)\s*(?:年龄)?\s*(?:[≥≤><]|大于|小于|超过|不足|不满)?)\s*"
    r"(?:\d+(?:\.\d+)?\s*(?:-|–|~|～|to|至)\s*)?$",  # "aged 12-17 years": the range's second end
    re.IGNORECASE)
AGE_AFTER = (
    r"(?:\s*(?:-|–|~|～|to|至)\s*\d+(?:\.\d+)?)?"  # "aged 12-17 years": the range's first end
    r"\s*(?:(?:years?|yrs?)(?:\s+of\s+age|[\s-]+old)?|岁)"
    r"(?:\s*(?:以下|以上|及以上|及以下|或以上|或以下|and\s+(?:over|older|above|under|younger)))?"
    r"(?:(?:的)?(?:患者|患儿|儿童|受试者|病人)(?:中)?)?")
# a sentence goes on after its condition ("…, ECOG score is 0-2"); in a question the condition
# may close it ("What Lansky score is required for patients under 16 years old in the trial?")
CONDITION_AFTER_RE = re.compile(AGE_AFTER + r"\s*[,，:：]", re.IGNORECASE)
CONDITION_AFTER_Q_RE = re.compile(AGE_AFTER + r"(?:\s*[,，:：]|\s+(?:in|of|at|on)\b|\s*[?？]|\s*$)",
                                  re.IGNORECASE)


def condition_span(text: str, q: Quantity, question: bool = False) -> tuple[int, int] | None:
    """"For patients ≥16 years old, ECOG score is 0-2": 16 is the age of the subgroup the
    sentence is about, not an age limit it states. The span of that condition, or None."""
    lo = max(0, text.rfind("\n", 0, q.start) + 1, q.start - 60)
    before = CONDITION_BEFORE_RE.search(text, lo, q.start)
    if before is None:
        return None
    after = (CONDITION_AFTER_Q_RE if question else CONDITION_AFTER_RE).match(text, q.end)
    return (before.start(), after.end()) if after else None


def condition_spans(text: str, quantities: list[Quantity] | None = None,
                    question: bool = False) -> dict[int, tuple[int, int]]:
    """Index of each quantity that is a subgroup's age -> the span of its condition."""
    text = normalise_text(text)
    found = extract_quantities(text) if quantities is None else quantities
    return {i: span for i, q in enumerate(found)
            if (span := condition_span(text, q, question)) is not None}


def extract_quantities(text: str, lex: Lexicon | None = None) -> list[Quantity]:
    """Every quantity in ``text`` with its unit, in order. Ranges share their unit
    ("0-25岁": 0 and 25 are both ages); a unit after a parenthesis counts
    ("12(95% CI 8.7-15.4)个月" is 12 months)."""
    lex = lex or lexicon()
    text = normalise_text(text)
    depth = _paren_depth(text)
    found: list[Quantity] = []
    for m in NUMBER_RE.finditer(text):
        end = m.end()
        unit = lex.unit_at(text, end)
        if unit is None and end < len(text) and text[end].isascii() and text[end].isalpha():
            continue  # "3D", "2a": a name, not a quantity
        if unit is None and end < len(text) and text[end] in "(（":
            close = _matching_paren(text, end)
            if close is not None:
                unit = lex.unit_at(text, close + 1)
        if unit is None and _after_n_equals(text, m.start()):
            unit = ("patient", end)  # "中风险组(n=625)": a number of patients
        found.append(Quantity(canonical(m.group(0)), unit[0] if unit else None, m.start(),
                              end, depth[m.start()] > 0, unit[1] if unit else -1))
    for m in CHENG_RE.finditer(text):
        found.append(Quantity(str(CN_DIGITS[m.group(1)] * 10), "percent", m.start(), m.end()))
    for m in HALF_RE.finditer(text):
        found.append(Quantity("50", "percent", m.start(), m.end()))
    found.sort(key=lambda q: q.start)
    # a range's ends know each other, and the first takes the unit of the second:
    # "1-3个月", "18-70 years", "5% to 10%"
    out = list(found)
    for i in range(len(out) - 2, -1, -1):
        a, b = out[i], out[i + 1]
        if not (RANGE_BETWEEN_RE.match(text[a.end:b.start]) or _between(text, a, b)):
            continue
        out[i] = replace(a, unit=a.unit or b.unit, partner=b.value)
        out[i + 1] = replace(out[i + 1], partner=a.value)
    return out


def _between(text: str, a: Quantity, b: Quantity) -> bool:
    """"between 20% and 25%", "介于20%与25%之间": two values that are one range's ends (the
    Chinese forms close with 之间)."""
    if not BETWEEN_AND_RE.match(text[a.end:b.start]):
        return False
    opener = BETWEEN_BEFORE_RE.search(text[max(0, a.start - 12):a.start])
    if opener is None:
        return False
    after = text[b.unit_end if b.unit_end > 0 else b.end:]
    return opener.group(0).strip().lower() == "between" or bool(BETWEEN_AFTER_RE.match(after))


def _matching_paren(text: str, i: int) -> int | None:
    depth = 0
    for j in range(i, min(len(text), i + 80)):
        if text[j] in "(（":
            depth += 1
        elif text[j] in ")）":
            depth -= 1
            if depth == 0:
                return j
    return None


def numbers_of(text: str) -> set[str]:
    return {q.value for q in extract_quantities(text)}


@dataclass(frozen=True)
class Claim:
    """One quantity of a sentence and what it is bound to there."""

    quantity: Quantity
    measures: frozenset[str]  # strict measure keys the number is a value of
    entities: frozenset[str]  # arms (drugs, placebo...) and tumours named in the number's clause
    label: str = ""  # for "A与B分别为x与y": the text naming this value's group (A or B)
    # the time a rate is at ("2年PFS率", "6-month PFS rate": "2year", "6month"); "" for none.
    # That number is part of the measure, not a claim of its own.
    horizon: str = ""


def clauses(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in CLAUSE_RE.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return [(a, b) for a, b in spans if b > a]


def _clause_of(spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for a, b in spans:
        if a <= pos < b:
            return a, b
    return spans[-1] if spans else (0, 0)


# the verb between a count and the measure it counts: "6例获得PR" is six responders
COUNT_VERB_RE = re.compile(r"\s*(?:获得|达到|出现)\s*")


def _nearest_measure(measures: list[Mention], q: Quantity, lo: int, hi: int,
                     text: str) -> str | None:
    """The measure right after the number and its unit ("6例PR", "6例获得PR") wins; else the
    nearest one before it in the clause ("ORR为28.57%"), else the nearest after it there."""
    tail = max(q.end, q.unit_end)
    before = [m for m in measures if lo <= m.start and m.end <= q.start]
    # "43 participants": the unit itself names the measure
    after = [m for m in measures if q.end <= m.start and m.end <= hi]
    near_after = min(after, key=lambda m: m.start) if after else None
    near_before = max(before, key=lambda m: m.end) if before else None
    gap = max(0, near_after.start - tail) if near_after is not None else 0
    if near_after is not None and COUNT_VERB_RE.fullmatch(text, tail, near_after.start):
        gap = min(gap, 1)
    if near_after is not None and gap <= 1 and (
            near_before is None or gap < q.start - near_before.end):
        return near_after.key
    if near_before is not None:
        return near_before.key
    return near_after.key if near_after is not None else None


TIME_UNITS = frozenset({"year", "month", "week", "day"})
# a median asked or stated ("中位PFS", "median OS"): a rate at a time ("6个月PFS率") is none
MEDIAN_RE = re.compile(r"中位|\bmedian\b|\bm(?:PFS|OS|DOR)\b", re.IGNORECASE)
# … nor is a threshold some patients passed ("有6名患者PFS超过6个月")
_THRESHOLD_RE = re.compile(r"(?:超过|大于|多于|长于|高于|>|≥|\bmore than|\blonger than|\bover|"
                           r"\bat least|\bexceeding)\s*$", re.IGNORECASE)


def no_median(text: str, claim: Claim) -> bool:
    """A value that is no median of its measure: a rate at a time ("6个月PFS率为29%") or a
    threshold some patients passed ("有6名患者PFS超过6个月") — not a median's own threshold
    ("某些患者的中位生存期超过72个月", its clause says median)."""
    if claim.horizon:
        return True
    at = claim.quantity.start
    if not _THRESHOLD_RE.search(text[:at]):
        return False
    clause = next((text[a:b] for a, b in clauses(text) if a <= at < b), text)
    return not MEDIAN_RE.search(clause)


def horizons(text: str, quantities: list[Quantity], measures: list[Mention],
             lex: Lexicon) -> dict[int, tuple[int, str]]:
    """Quantities that name a measure's time ("3年EFS率", "6-month PFS rate", "1-year OS"):
    quantity index -> (start of the measure mention, "3year")."""
    starts = {m.start for m in measures}
    out: dict[int, tuple[int, str]] = {}
    for i, q in enumerate(quantities):
        pos = q.end
        while pos < len(text) and text[pos] in " -\u2010\u2011":
            pos += 1
        unit = lex.unit_at(text, pos)
        if unit is None or unit[0] not in TIME_UNITS:
            continue
        end = unit[1]
        while end < len(text) and text[end] in " 的":
            end += 1
        if end in starts:
            out[i] = (end, f"{q.value}{unit[0]}")
    return out


def sentence_horizons(text: str, lex: Lexicon | None = None) -> set[str]:
    """The measure times a text names ("6个月PFS率是多少?" -> {"6month"})."""
    lex = lex or lexicon()
    text = normalise_text(text)
    found = horizons(text, extract_quantities(text, lex), lex.strict_measures(text), lex)
    return {h for _, h in found.values()}


def sentence_claims(sentence: str, lex: Lexicon | None = None) -> list[Claim]:
    """The claims of one sentence. A number's measure is the nearest one before it in its
    clause, else the nearest after it there, else the nearest before it in the sentence; with
    "分别 / respectively", the i-th number belongs to the i-th measure (or group) named."""
    lex = lex or lexicon()
    text = normalise_text(sentence)
    quantities = extract_quantities(text, lex)
    if not quantities:
        return []
    measures = lex.strict_measures(text)
    entities = lex.entities.find(text)
    spans = clauses(text)
    timed = horizons(text, quantities, measures, lex)
    at = dict(timed.values())  # measure mention start -> its time
    conditions = condition_spans(text, quantities)
    # "years old" of a condition names no measure of the sentence's other values
    measures = [m for m in measures
                if not any(a <= m.start < b for a, b in conditions.values())]
    bound: dict[int, tuple[str | None, str]] = _respective(text, quantities, measures, spans)
    out = []
    for i, q in enumerate(quantities):
        if i in timed:
            continue  # "3年" of "3年EFS率" is part of the measure
        lo, hi = _clause_of(spans, q.start)
        keys: frozenset[str] = frozenset()
        respective = bound[i][0] if i in bound else None
        # "低风险组(n=80)…的5年EFS率": 80 is no EFS rate; "in 1 patient group", "分为4组": a
        # count of groups is the value of no measure; "For patients ≥16 years old, ECOG …": a
        # subgroup's age is a condition
        of_no_measure = is_group_size(text, q) or q.unit == "group" or i in conditions
        if respective:
            keys = frozenset({respective})
        elif of_no_measure:
            keys = frozenset()
        else:
            key = _nearest_measure(measures, q, lo, hi, text)
            if key is None:
                before = [m for m in measures if m.end <= q.start]
                key = max(before, key=lambda m: m.end).key if before else None
            keys = frozenset({key}) if key else frozenset()
        implied = lex.unit_measures.get(q.unit or "")
        if implied and not of_no_measure:
            keys |= {implied}  # "4mCi的89氯化锶": a dose, though no word there says so
        # the arms named in the number's clause ("安慰剂组8%")
        clause_entities = frozenset(m.key for m in entities if lo <= m.start < hi and
                                    (m.key in lex.arms or m.key in lex.tumours))
        # the time of the nearest mention of its measure before it in the sentence
        mention = max((m for m in measures if m.key in keys and m.start < q.start),
                      key=lambda m: m.start, default=None)
        horizon = at.get(mention.start, "") if mention is not None else ""
        out.append(Claim(q, keys, clause_entities, bound.get(i, (None, ""))[1], horizon))
    return out


def _respective(text: str, quantities: list[Quantity], measures: list[Mention],
                spans: list[tuple[int, int]]) -> dict[int, tuple[str | None, str]]:
    """Index of a quantity -> (measure key, group label) for "A与B分别为x与y" and
    "A and B were x and y, respectively"."""
    out: dict[int, tuple[str | None, str]] = {}
    for kw in RESPECTIVE_RE.finditer(text):
        english = kw.group(0).lower() == "respectively"
        lo, hi = _clause_of(spans, max(0, kw.start() - 1))
        if english:
            # the values stand before "respectively"; the names before the values
            idx = [i for i, q in enumerate(quantities)
                   if not q.in_parens and q.end <= kw.start() and q.start >= _sentence_lo(
                       text, kw.start())]
            if len(idx) < 2:
                continue
            head_end = quantities[idx[0]].start
            verb = re.search(r"\b(were|was|are|is|of)\b[^,;]*$", text[:head_end])
            head_end = verb.start() if verb else head_end
            head_lo = _sentence_lo(text, head_end)
        else:
            idx = [i for i, q in enumerate(quantities)
                   if not q.in_parens and kw.end() <= q.start < _value_run_end(text, kw.end())]
            if len(idx) < 2:
                continue
            head_end, head_lo = kw.start(), lo
        names = [m for m in measures if head_lo <= m.start and m.end <= head_end]
        head = text[head_lo:head_end]
        if len(names) == len(idx):
            for i, m in zip(idx, names, strict=True):
                out[i] = (m.key, "")
            continue
        labels = [p for p in LABEL_SPLIT_RE.split(head) if p.strip()]
        if len(labels) < len(idx) and not english:
            # "比较了A与B的疗效,PR率分别为x与y": the groups are named in the clause before
            prev = [s for s in spans if s[1] <= lo and not re.search(r"\d", text[s[0]:s[1]])]
            if prev:
                a, b = prev[-1]
                labels = [p for p in LABEL_SPLIT_RE.split(text[a:b]) if p.strip()]
        key = names[-1].key if names else None
        if len(labels) >= len(idx):
            labels = labels[-len(idx):]
            for i, label in zip(idx, labels, strict=True):
                out[i] = (key, label.strip())
    return out


def _sentence_lo(text: str, pos: int) -> int:
    cuts = [m.end() for m in re.finditer(r"[。;；]|\.\s", text[:pos])]
    return cuts[-1] if cuts else 0


def _value_run_end(text: str, pos: int) -> int:
    """Where the values after "分别为" end: the end of that clause."""
    m = re.search(r"[,，;；。]", text[pos:])
    return pos + m.start() if m else len(text)


@dataclass
class LabelSignature:
    negated: bool
    units: set[str] = field(default_factory=set)


def label_signature(text: str) -> LabelSignature:
    from ingest.keywords import support_units

    return LabelSignature(bool(NEGATION_RE.search(text)), support_units(text))


def without_measure_names(text: str, generic_only: bool = False) -> str:
    """``text`` with its lexicon measure names blanked out ("中位PFS", "ORR"); with
    ``generic_only``, only the generic ones (发生率, 比例, rate), which say nothing of what a
    number is about."""
    table = lexicon().measures
    for m in sorted(table.find(text), key=lambda m: -m.start):
        if not generic_only or m.key in table.generic:
            text = text[:m.start] + " " + text[m.end:]
    return text


def _group_words(text: str) -> set[str]:
    """The words of a group label or an answer's context besides measure names ("伴有SREs组的
    生存时间" -> 伴有, SREs, 组): what names a group."""
    from ingest.keywords import support_units

    return support_units(without_measure_names(text))


def pick_label(context: str, labels: list[str]) -> int | None:
    """Which of a source's group ``labels`` an answer's ``context`` (the words right before
    its number) names: by negation first ("不伴有" vs "伴有"), then by words only one label
    has. None when the context does not tell them apart."""
    if len(labels) < 2 or not context.strip():
        return None
    sigs = [label_signature(lab) for lab in labels]
    ctx = label_signature(context)
    if not _group_words(context) & set().union(*(_group_words(lab) for lab in labels)):
        return None  # "The median survival was": it names neither group (nor negates one)
    if len({s.negated for s in sigs}) > 1:
        hits = [i for i, s in enumerate(sigs) if s.negated == ctx.negated]
        if len(hits) == 1:
            return hits[0]
    common = set.intersection(*(s.units for s in sigs)) if sigs else set()
    scores = [len((s.units - common) & ctx.units) for s in sigs]
    best = max(scores)
    if best > 0 and scores.count(best) == 1:
        return scores.index(best)
    return None


# Trial and study identifiers mean the same in every language: ALTER-S004, EZH-202, RMS2005,
# NCT02601950, ISG-STS 1001.
TRIAL_ID_RE = re.compile(r"(?<![A-Za-z0-9-])(?:NCT\d{8}|[A-Z]{2,}[A-Z0-9]*(?:-[A-Z0-9]+)*-?"
                         r"[A-Z]?\d{3,}|[A-Z]{2,}-[A-Z]{2,} \d{3,})(?![A-Za-z0-9])")


def entities_in(text: str, lex: Lexicon | None = None) -> set[str]:
    """Subjects named in ``text``: lexicon entities and trial ids ("trial:ALTER-S004")."""
    text = normalise_text(text)
    found = (lex or lexicon()).entities.keys_in(text)
    found |= {"trial:" + re.sub(r"[\s-]", "", m.group(0)).upper()
              for m in TRIAL_ID_RE.finditer(text)}
    # a year names which study ("the 2016 phase II study")
    found |= {"year:" + m.group(1) for m in YEAR_RE.finditer(text)}
    return found


def _keys_in(table: Table | None, text: str) -> set[str]:
    """The keys of an optional lexicon section named in ``text`` (none without the section)."""
    return table.keys_in(normalise_text(text)) if table is not None else set()


def terms_in(text: str, lex: Lexicon | None = None) -> set[str]:
    """The lexicon's ``terms`` named in ``text`` ("diarrhoea" for 腹泻 and for diarrhea)."""
    return _keys_in((lex or lexicon()).terms, text)


def cues_in(text: str, lex: Lexicon | None = None) -> set[str]:
    """The lexicon's ``cues`` named in ``text`` ("definition" for 定义 and for "defined as")."""
    return _keys_in((lex or lexicon()).cues, text)


def denies(text: str, lex: Lexicon | None = None) -> bool:
    """``text`` states a finding as not so ("was not associated", "未见明显获益")."""
    lex = lex or lexicon()
    return lex.negations is not None and bool(lex.negations.find(normalise_text(text)))


def directions_in(text: str, lex: Lexicon | None = None) -> set[str]:
    """Which ways the comparisons of ``text`` go ("down" for 更低 and for "lower"). A direction
    word inside a term's name goes no way: "中性粒细胞减少" is neutropenia, "血小板减低"
    thrombocytopenia."""
    lex = lex or lexicon()
    if lex.directions is None:
        return set()
    text = normalise_text(text)
    found = lex.directions.find(text)
    if not found or lex.terms is None:
        return {m.key for m in found}
    named = [(m.start, m.end) for m in lex.terms.find(text)]
    return {m.key for m in found if not any(a <= m.start < b for a, b in named)}


TERM_KEY = "term:"  # a lexicon term among a phrase's words, whichever of its names is written


def phrase_words(text: str) -> set[str]:
    """The words naming a value ("中危组有"): content words / CJK bigrams, and each lexicon
    term as one key, so "中危组" and "中风险组" share a word. Pure."""
    from ingest.keywords import support_units

    return support_units(text) | {TERM_KEY + t for t in terms_in(text)}


def value_term(text: str, claim: Claim, claims: list[Claim]) -> str | None:
    """The lexicon term ``claim``'s value is of in ``text``: the nearest term before the value
    with no other value between ("腹泻(84%)、恶心(54%)": 84 is diarrhoea's, 54 nausea's), else
    the nearest after it ("84% had diarrhoea"); None where no term is that near. Pure."""
    table = lexicon().terms
    if table is None:
        return None
    mentions = table.find(text)
    starts = sorted(c.quantity.start for c in claims)
    at, end = claim.quantity.start, claim.quantity.end

    def between(a: int, b: int) -> bool:
        return any(a <= x < b for x in starts if x != at)

    before = [m for m in mentions if m.end <= at and not between(m.end, at)]
    if before:
        return before[-1].key
    after = [m for m in mentions if m.start >= end and not between(end, m.start)]
    return after[0].key if after else None


YEAR_RE = re.compile(r"(?<![\dA-Za-z-])((?:19|20)\d{2})(?:年|\b)(?![\d.%])")


def measures_in(text: str, lex: Lexicon | None = None) -> set[str]:
    return {m.key for m in (lex or lexicon()).strict_measures(normalise_text(text))}


def compared_keys(text: str) -> set[str]:
    """What a comparison in ``text`` may be of, in either language: its strict measures and
    its lexicon terms ("整体不良反应发生率更低": {"adverse"}; "hypocalcaemia":
    {"term:hypocalcaemia"}). Pure."""
    return measures_in(text) | {TERM_KEY + t for t in terms_in(text)}


# words between a label and its value that name nothing ("为", "约", "was", "about")
_PHRASE_FILLER_RE = re.compile(
    r"(?:\s|[为是约达仅近共有的:：=≈~～(（≥≤><]|about|approximately|around|nearly|only|was|"
    r"were|is|are|of|at|to|reached|with|by|a|an|the|median|least|most|more than|less than|"
    r"over|under|greater than|above|below|超过|大于|小于|不少于|至少|以上|以下|中位)+$",
    re.IGNORECASE)


def value_phrase(text: str, start: int) -> str:
    """The words before a value in its clause, which name what it is a value of:
    "ALTER-S004研究中,转化治疗后的R0切除率约为28.57%" -> "转化治疗后的R0切除率"."""
    head = text[:start]
    cut = max((m.end() for m in CLAUSE_RE.finditer(head)), default=0)
    return _PHRASE_FILLER_RE.sub("", head[cut:])


def value_tail(text: str, end: int) -> str:
    """The words after a value in its clause, where nothing before it names it:
    "4%的患者未使用蒽环类药物" -> "的患者未使用蒽环类药物"."""
    tail = text[end:]
    m = CLAUSE_RE.search(tail)
    return tail[:m.start()] if m else tail


def is_study(key: str) -> bool:
    """An entity that tells one study from another: a trial id or a drug (an arm)."""
    return key.startswith("trial:") or key in lexicon().arms


def clause_conflict(answer: frozenset[str], source: frozenset[str]) -> bool:
    """The answer's number and the source's are of different arms, or of different tumours,
    by the entities their clauses name ("安慰剂组8%" vs "尼罗醋司他组", "肺癌" vs "前列腺")."""
    lex = lexicon()
    for kind in (lex.arms, lex.tumours):
        a, b = answer & kind, source & kind
        if a and b and not a & b:
            return True
    return False


# A sentence that introduces a study of its own ("另一项研究探索了纳武利尤单抗…", "一项回顾性
# 分析研究报道了…", "In another trial, …"): the subjects named before it in the paragraph are
# another study's, and do not carry over to it. Not "该研究 / 本研究 / this study" (the same
# study), nor "X是一项…研究" (a sentence naming its own study, already in it).
_OPENS_ZH_RE = re.compile(r"^(?P<pre>[^。;；]{0,24}?)(?<![该本此同])"
                          r"(?:(?:另一项|另外一项|另一|还有一项|一项|两项|三项|多项)[^。;；,，]{0,30}?"
                          r"(?:研究|试验|分析|报道)|"
                          # "同时,2023年ASCO会议更新了表柔比星联合…的最新数据": a meeting's report
                          r"(?:会议|年会|大会)上?(?:还|也|又)?(?:研究人员)?(?:更新|报道|发布|公布)了)")
_OPENS_EN_RE = re.compile(
    r"^(?:(?:in \d{4}|in|by contrast|however|meanwhile|moreover|additionally|similarly|also|"
    r"then),?\s+)?"
    r"(?:another|a second|a third|a further|a separate|an earlier|a later|a previous|a recent|"
    r"a number of|several|many|multiple|previous|prior|earlier|two other|other|one|a|an)\s+"
    r"(?:[\w/,-]+\s+){0,6}?(?:study|trial|analysis|series|studies|trials|analyses)\b",
    re.IGNORECASE)
# A sentence that reports the literature (other studies in the plural, earlier ones): "However,
# a number of current clinical studies on immunotherapy … have shown …", "既往研究显示…". Its
# numbers are never those of the study a document is about.
_LITERATURE_RE = re.compile(
    r"\b(?:a number of|several|many|multiple|numerous|previous|prior|earlier|other|existing)\s+"
    r"(?:[\w-]+\s+){0,3}?(?:studies|trials|reports|analyses)\b|"
    r"\b(?:studies|trials) have (?:shown|found|reported|demonstrated|suggested)\b|"
    r"多项(?:[^。;；,，]{0,8})?(?:研究|试验)|既往(?:[^。;；,，]{0,8})?(?:研究|试验)|以往(?:[^。;；,，]{0,8})?研究|"
    r"前期(?:[^。;；,，]{0,8})?研究|有研究(?:显示|表明|发现|报道)",
    re.IGNORECASE)


def opens_study(sentence: str) -> bool:
    """``sentence`` introduces a study of its own: subjects named before it in its paragraph
    are not its subjects."""
    text = sentence.strip()
    m = _OPENS_ZH_RE.search(text)
    if m and not re.search(r"是|为|只|仅", m.group("pre")):
        return True
    return bool(_OPENS_EN_RE.search(text))


def cites_literature(sentence: str) -> bool:
    """``sentence`` reports other studies, in the plural or from before ("a number of current
    clinical studies … have shown", "既往研究显示"): background, not the document's own study."""
    return bool(_LITERATURE_RE.search(sentence))


# "其中AS类型患者ORR最高(43%)", "其中平滑肌肉瘤组患者PFS为7.1个月": a value of one subgroup of the
# study's patients, named before the value in its clause
_SUBGROUP_RE = re.compile(
    r"其中(?P<name>[A-Za-z][A-Za-z0-9-]{0,11}|[\u4e00-\u9fff]{2,10}?)(?:亚组|亚型|类型|组(?!织))|"
    r"在(?P<name2>[A-Za-z][A-Za-z0-9-]{0,11}|[\u4e00-\u9fff]{2,10}?)(?:亚组|亚型|类型|组(?!织))"
    r"的?(?:患者|人群)")


def subgroup_of(clause: str) -> str | None:
    """The subgroup a source clause gives its value for ("其中AS类型患者ORR最高(43%)" -> "AS"), or
    None. Arms ("其中安慰剂组") are not subgroups: ``clause_conflict`` tells them apart."""
    m = _SUBGROUP_RE.search(clause)
    if not m:
        return None
    name = m.group("name") or m.group("name2")
    if entities_in(name) & set(lexicon().arms):
        return None
    return name


# risk groups are named both ways: 中危组 / 中风险组, 超高危组 / 极高风险组
_GROUP_WORDS = (("风险", "危"), ("极高", "超高"))


def _group_text(text: str) -> str:
    for a, b in _GROUP_WORDS:
        text = text.replace(a, b)
    return text


def names_subgroup(text: str, name: str) -> bool:
    """``text`` (an answer or a question) names the subgroup ``name``: the same tumour, else the
    same words, not as part of another group's name ("高危" is not named by "超高危组")."""
    tumours = set(lexicon().tumours)
    own = entities_in(name) & tumours
    if own:
        return bool(own & entities_in(text))
    pattern = (rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])" if name.isascii() else
               rf"(?<![超极非中低高]){re.escape(_group_text(name))}")
    return bool(re.search(pattern, _group_text(text), re.IGNORECASE))


_WHICH_GROUP_RE = re.compile(
    r"\bby (?:sub)?(?:type|group|histology)\b|\bwhich (?:[\w-]+ ){0,2}?(?:sub)?(?:type|group|"
    r"histolog(?:y|ies)|patients)\b|哪(?:一|种|个|类|些)?[^,，;；?？]{0,6}?(?:类型|亚型|组|亚组|患者)|"
    r"什么(?:类型|亚型)", re.IGNORECASE)


def asks_which_group(question: str) -> bool:
    """The question asks which subgroup ("the highest ORR by subtype", "哪种类型的患者ORR最高"):
    a subgroup's value, with its name, is the answer."""
    return bool(_WHICH_GROUP_RE.search(question))


def other_subgroup(sentence: str, claim: Claim, named_in: str, question: str) -> bool:
    """The claim's clause gives a subgroup's value ("其中AS类型患者ORR最高(43%)") that ``named_in``
    (the question, or the answer and the question) does not name, for a question that does
    not ask which subgroup: no value of all patients."""
    at = claim.quantity.start
    head = next((sentence[a:at] for a, b in clauses(sentence) if a <= at < b), "")
    sub = subgroup_of(head)
    return sub is not None and not names_subgroup(named_in, sub) and \
        not asks_which_group(question)


def asked_group(question: str) -> frozenset[str]:
    """The tumours named in the question's clause that names its measure: the patients it
    asks about ("…治疗复发性脂肪肉瘤与平滑肌肉瘤的研究中,脂肪肉瘤患者的ORR是多少?" -> liposarcoma;
    the tumours of the study's name are not the group asked)."""
    tumours = set(lexicon().tumours)
    found: set[str] = set()
    for a, b in clauses(question):
        piece = question[a:b]
        if measures_in(piece):
            found |= entities_in(piece) & tumours
    return frozenset(found)


def parts_of_total(text: str, quantity: Quantity) -> tuple[frozenset[str], frozenset[str]]:
    """The parts a total is broken into right after it ("60例(22例脂肪肉瘤+38例平滑肌肉瘤)": the
    values {22, 38} and the entities {liposarcoma, leiomyosarcoma}); empty where the parenthesis
    after the value (and its unit) does not hold two or more values that add up to it. Pure."""
    text = normalise_text(text)
    end = quantity.unit_end if quantity.unit_end > 0 else quantity.end
    at = len(text) - len(text[end:].lstrip(" "))
    close = _matching_paren(text, at) if text[at:at + 1] in ("(", "（") else None
    if close is None:
        return frozenset(), frozenset()
    inner = text[at + 1:close]
    values = [q for q in extract_quantities(inner) if q.unit in (None, quantity.unit)]
    # canonical values are plain decimals ("60", "28.57")
    if len(values) < 2 or abs(sum(float(q.value) for q in values) - float(quantity.value)) > 1e-6:
        return frozenset(), frozenset()
    return frozenset(q.value for q in values), frozenset(entities_in(inner))


def stands_for_a_part(claim: Claim, values: frozenset[str], total: Quantity,
                      source: str) -> bool:
    """The answer gives a total as one part's value: "60 liposarcoma and 38 leiomyosarcoma
    patients" from "60例(22例脂肪肉瘤+38例平滑肌肉瘤)" — it states some of the parts' values but
    not all (the total stands in for the part left out), or the value's clause names some of
    the parts and not all ("60例脂肪肉瘤"). ``values``: every value of the answer sentence.
    Pure."""
    part_values, part_entities = parts_of_total(source, total)
    if not part_values:
        return False
    if values & part_values:
        return not part_values <= values  # all of them: the total given with its parts
    named = claim.entities & part_entities
    return bool(named) and not part_entities <= claim.entities


def mixed_group(asked: frozenset[str], clause: str, sentence: str) -> bool:
    """A value of several tumours' patients together, for a question about one of them: the
    sentence names the asked tumour and another ("60例(22例脂肪肉瘤+38例平滑肌肉瘤)患者,ORR…
    27.3%"), the value's clause names none of the asked ones."""
    if not asked:
        return False
    tumours = set(lexicon().tumours)
    if entities_in(clause) & asked:
        return False
    named = entities_in(sentence) & tumours
    return bool(named & asked) and bool(named - asked)


# a reference-list entry: "Gounder, M., et al., Tazemetostat in …", "Lancet Oncol, 2020. 21(11)"
_REFERENCE_RE = re.compile(r"\bet al\b\.?|^\s*\d{1,3}\.\s*$|"
                           r"^[A-Z][\w'-]+,\s*(?:[A-Z]\.\s*){1,3}[,.]|"
                           r"\b(?:19|20)\d\d\.\s*\d+\s*\(\d+\)")


def is_reference(sentence: str) -> bool:
    """A bibliography entry: it names a paper, it states no finding."""
    return bool(_REFERENCE_RE.search(sentence.strip()))


def is_calendar_year(claim: Claim) -> bool:
    """"In 2016, a phase II study…": a date, not a value."""
    q = claim.quantity
    return q.unit in (None, "year") and bool(re.fullmatch(r"(19|20)\d\d", q.value))


# "中危组和高危组分别有多少例?", "研究中平滑肌肉瘤组的PFS": the groups a question names
_ASKED_GROUP_RE = re.compile(
    r"(?:^|(?<=[,，、;；和与及或中的]))(?P<name>[\u4e00-\u9fff]{2,5}?|[A-Za-z][A-Za-z0-9-]{0,9})"
    r"(?<![入分编小])(?:亚组|亚型|组(?!织))")
_NOT_A_GROUP = frozenset({"两", "各", "每", "该", "本", "此", "分", "全", "整体", "对照", "试验",
                          "治疗", "实验", "研究", "协作", "小"})


def subgroups_asked(question: str) -> list[str]:
    """The subgroups a question names by a group word ("中危组和高危组" -> 中危, 高危), not
    arms ("安慰剂组": ``clause_conflict`` tells arms apart) nor "两组 / 各组"."""
    arms = set(lexicon().arms)
    out = []
    for m in _ASKED_GROUP_RE.finditer(question):
        name = m.group("name")
        if name in _NOT_A_GROUP or entities_in(name) & arms:
            continue
        if name not in out:
            out.append(name)
    return out


def of_asked_subgroup(sentence: str, clause: str, asked: list[str]) -> bool:
    """A value answers a question about named subgroups only where its clause names one of them,
    or its sentence names one and gives values "分别 / respectively" ("共纳入1733名…患者" is no
    count of the intermediate-risk group)."""
    if not asked:
        return True
    if any(names_subgroup(clause, g) for g in asked):
        return True
    return bool(RESPECTIVE_RE.search(sentence)) and any(names_subgroup(sentence, g) for g in asked)


# the circumstance a value is of: "after radical surgery", "during chemotherapy", "when
# diagnosed", "化疗期间", "术后". A share of patients who develop lung metastases after surgery
# answers nothing about those who develop them during chemotherapy.
_EN_WHEN_RE = re.compile(
    r"\b(?:during|after|before|following|prior\s+to|when|while)\s+"
    r"((?:(?:the|a|an|their|first-line|radical|primary)\s+)*[a-z][a-z-]{2,}"
    r"(?:\s+(?!and\b|or\b|in\b|of\b|with\b|is\b|are\b|was\b|were\b|for\b|to\b)[a-z][a-z-]{2,})?)",
    re.IGNORECASE)
_ZH_EVENTS = ("放化疗", "化疗", "放疗", "手术", "术", "诊断", "确诊", "切除")
_ZH_WHEN_RE = re.compile(rf"({'|'.join(_ZH_EVENTS)})(?:期间|过程中|之后|以后|后|之前|以前|前|时)")
_WHEN_FILLER = frozenset({"the", "a", "an", "their"})
# the events a value is placed against: treatments and diagnosis ("before enrolment" and "prior
# to grouping" are one time said two ways, so no other words count)
_EN_EVENTS = ("chemo", "surgery", "surgical", "resection", "metastasectomy", "radiotherapy",
              "radiation", "diagnos", "amputation", "operation", "immunotherapy")


def conditions_in(text: str) -> set[str]:
    """The events ``text`` places a value before, during or after ("after radical surgery of
    the primary lesion" -> {"radical surgery"}; "化疗期间" -> {"化疗"}). Pure."""
    out = {" ".join(w for w in m.group(1).lower().split() if w not in _WHEN_FILLER)
           for m in _EN_WHEN_RE.finditer(text)
           if any(e in m.group(1).lower() for e in _EN_EVENTS)}
    out |= {m.group(1) for m in _ZH_WHEN_RE.finditer(text)}
    return {c for c in out if c}


def stem(word: str) -> str:
    """"previous" and "previously", "treatments" and "treated": one stem (ASCII words)."""
    return word[:5] if word.isascii() and len(word) > 5 else word


def condition_conflict(asked: set[str], clause: str, sentence: str) -> bool:
    """A source clause that states its value under another circumstance than the question
    asks: the question names ``asked`` (its ``conditions_in``, "during chemotherapy"), the
    clause names its own ("after radical surgery") and the sentence nowhere names the
    question's event. Only within one language (events are not translated); False where
    either names none. Pure."""
    stated = conditions_in(clause) if asked else set()
    if not stated or any(e.isascii() != sentence.isascii() for e in asked):
        return False
    if sentence.isascii():
        have = {stem(w) for w in re.findall(r"[a-z][a-z-]+", sentence.lower())}
        return not any({stem(w) for w in event.split()} & have for event in asked)
    return not any(event in sentence for event in asked)
