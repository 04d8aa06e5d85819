"""Settle citations in code. Pure functions: draft answer + passages in, checked answer out.

The model's own ``[n]`` markers are hints, not facts. Each sentence of the draft is checked on
its own (``AnswerChecker.check``, so a stream can show a sentence as soon as it passes):
- every number in it is a *claim* (``assistant/claims.py``) and must be bound by one source
  sentence that states the same value with the same unit, of the same measure, in a clause
  about the same subject, with the answer's subjects (drug, trial, tumour, arm; and the
  question's) in that sentence, the sentences before it in its paragraph, or the title.
  "A and B … respectively" keeps the source's order. The quote shown is the binding sentence;
- a sentence without numbers must share enough content words / CJK bigrams with a passage,
  or, across languages, be semantically close (a similarity given by the caller);
- text addressed to an AI or telling it what to answer is never evidence (``injection.py``).
Wrong markers are re-pointed, missing ones added, and a sentence nothing supports is dropped
(or marked).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from ingest.keywords import support_units
from ingest.text import detect_language, split_sentences

from .claims import (
    MEDIAN_RE,
    RESPECTIVE_RE,
    Claim,
    asked_group,
    cites_literature,
    clause_conflict,
    clauses,
    compared_keys,
    condition_conflict,
    conditions_in,
    denies,
    directions_in,
    entities_in,
    extract_quantities,
    is_calendar_year,
    is_study,
    measures_in,
    mixed_group,
    no_median,
    normalise_text,
    numbers_of,
    opens_study,
    other_subgroup,
    phrase_words,
    pick_label,
    sentence_claims,
    stands_for_a_part,
    value_phrase,
    value_tail,
    value_term,
    without_measure_names,
)
from .injection import PLACEHOLDER, instruction_spans, is_instruction, neutralise
from .lexicon import pooled, population_conflict, populations_in, subpopulation
from .types import Citation, RetrievedChunk, SentenceCheck

REFUSAL = {
    "en": "The indexed documents do not answer this question.",
    "zh": "现有文献中未找到该问题的答案。",
}
UNSUPPORTED_MARK = {"en": " [no supporting passage found]", "zh": "[未找到出处]"}
INJECTION_PLACEHOLDER = PLACEHOLDER

# Marker forms models produce: [1], [1, 3], [1][2], 【1】, [Passage 2], (1) is NOT a marker.
_CITED = r"\d{1,2}(?:\s*[,，、]\s*\d{1,2})*"  # "1", "1, 3", "2、4"
MARKER_RE = re.compile(rf"\s*[\[【](?:passage\s*|段落\s*)?({_CITED})[\]】]",
                       re.IGNORECASE)
LIST_ENUM_RE = re.compile(r"^\s*(?:[-*•]\s*|\d{1,2}[.、)）]\s+|[（(]\d{1,2}[)）]\s*)")

# Questions that ask for a quantity: an answer without any number does not answer them.
QUANTITY_RE = re.compile(
    r"\bhow (many|much|long|often|old)\b|\bwhat (percentage|proportion|share|fraction|"
    r"number|dose)\b|\b(rate|ratio|percentage|proportion|incidence|median|dose|dosage)\b|"
    r"\bwhat (\w+ ){0,2}(score|grade|level|status|age|ages)\b|"
    r"多少|几[个名例年月天周次]|比例|百分之|[发生有效缓解控制存活生存]率|中位|剂量|多久|多长时间",
    re.IGNORECASE,
)


def expects_quantity(question: str) -> bool:
    return bool(QUANTITY_RE.search(question))


def extract_numbers(text: str) -> set[str]:
    """Quantities in ``text`` as canonical strings: '28.57', '80' (from 八成), '1000' (1000mg)."""
    return numbers_of(text)


# a marker a draft names as a source in the words around it: "According to [1], …", "the
# study in [1], which …", "根据[1]，…" — those words go with the marker, or "the study in,
# which …" is what the reader sees
_MARKER = rf"(?:[\[【](?:passage\s*|段落\s*)?{_CITED}[\]】])+"  # MARKER_RE's, one or more
MARKER_LEAD_RE = re.compile(
    rf"^\W*(?:according\s+to|as\s+(?:stated|shown|reported|described|noted|indicated|seen)\s+"
    rf"(?:in|by)|based\s+on|根据|据)\s*{_MARKER}\s*[,，:：]?\s*", re.IGNORECASE)
MARKER_OBJECT_RE = re.compile(rf"\s+(?:in|by|from)\s*{_MARKER}(?=\s*[,.;:!?]|\s*$)",
                              re.IGNORECASE)
# a marker made the subject of a sentence: "… survival. [1] indicates that the timing was not
# associated …" — the claim after the verb is what the marker cites; the sentence before the
# marker is another claim, checked on its own
MARKER_SUBJECT_RE = re.compile(
    r"(^\W*|[.!?。！？]\s*)(?:(?:the\s+)?(?:passage|source|study|text|context|document|article"
    rf"|abstract)\s*)?({_MARKER})\s*(?:also\s+|further\s+)?(?:states?|indicates?|shows?|"
    r"reports?|suggests?|notes?|mentions?|demonstrates?|describes?|found|finds|says|"
    r"confirms?|reveals?|concludes?|highlights?)\s+(?:that\s+)?(?=\w)", re.IGNORECASE)


def parse_markers(sentence: str) -> tuple[str, list[int]]:
    """Remove citation markers; return the bare sentence and the cited numbers in order."""
    cited: list[int] = []
    for match in MARKER_RE.finditer(sentence):
        for n in re.split(r"\s*[,，、]\s*", match.group(1)):
            if n and int(n) not in cited:
                cited.append(int(n))
    lead = MARKER_LEAD_RE.match(sentence)
    if lead:
        rest = sentence[lead.end():]
        sentence = rest[:1].upper() + rest[1:]
    bare = MARKER_RE.sub("", MARKER_OBJECT_RE.sub("", sentence)).strip()
    return bare, cited


def marker_subjects(draft: str) -> str:
    """A marker a draft made the subject of a sentence ("[1] indicates that X.") moved to the
    end of the claim it introduces ("X [1]."), so the claim is a sentence of its own. Pure."""
    # from the last to the first: each claim then ends where the next sentence begins
    for m in reversed(list(MARKER_SUBJECT_RE.finditer(draft))):
        rest = draft[m.end():]
        rest = rest[:1].upper() + rest[1:]
        spans = split_sentences(rest)
        end = spans[0].end if spans else len(rest)
        claim = rest[:end]
        stop = len(claim.rstrip(".!?。！？"))
        draft = (draft[:m.start()] + m.group(1) + claim[:stop] + " " + m.group(2) +
                 claim[stop:] + rest[end:])
    return draft


def neutralise_injections(text: str) -> str:
    """Replace instruction-like sentences of a passage with a placeholder."""
    return neutralise(text)


@dataclass
class SourceSentence:
    """One sentence of a passage, as evidence: offsets relative to the chunk."""

    start: int
    end: int
    text: str
    claims: list[Claim]
    context: set[str]  # entities in the title, heading, the paragraph up to here, the sentence
    # entities of the next sentences of the paragraph ("…中位响应时间为41.1周; … 他泽司他经FDA
    # 获批"): a question's subject named just after its fact; never an answer's support
    after: set[str] = field(default_factory=set)
    # the patients the study's text names last before this sentence ("在初次治疗的ES患者,ORR为
    # 25%;" -> treatment_naive for the "DCR为42%;" after it): whose figure a sentence that names
    # none gives
    populations: set[str] = field(default_factory=set)
    # every population the study's text names up to and in this sentence ("62例初治和复发的患者")
    study_populations: set[str] = field(default_factory=set)

    def stated_populations(self, clause: str = "") -> set[str]:
        """Whose figure ``clause`` of this sentence gives: the populations it names, else the
        sentence names, else the study named last before it."""
        return ((populations_in(clause) if clause else set()) or populations_in(self.text) or
                self.populations)


def last_populations(text: str) -> set[str]:
    """The populations of the last clause of ``text`` that names any ("在62例初治和复发的患者中,
    ORR为15%" -> both; "…;在初次治疗的ES患者,ORR为25%;" -> treatment_naive)."""
    for span in reversed(split_sentences(text)):
        sentence = text[span.start:span.end]
        for a, b in reversed(clauses(sentence)):
            found = populations_in(sentence[a:b])
            if found:
                return found
    return set()


@dataclass
class PassageView:
    """What the checker knows about passage ``n`` (1-based, as numbered in the prompt)."""

    n: int
    chunk: RetrievedChunk
    sentences: list[SourceSentence] = field(default_factory=list)
    units: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, n: int, chunk: RetrievedChunk, doc_text: str | None = None) -> PassageView:
        view = cls(n=n, chunk=chunk)
        text = chunk.text
        blocked = instruction_spans(text)
        head = f"{chunk.title}\n{chunk.heading}"
        in_doc = doc_text is not None and doc_text[chunk.start:chunk.end] == text
        head_entities = entities_in(head)
        head_populations = populations_in(head)
        for span in split_sentences(text):
            if any(a <= span.start < b for a, b in blocked):
                continue  # instructions inside documents never count as evidence
            piece = text[span.start:span.end]
            if in_doc:
                assert doc_text is not None
                para = doc_text.rfind("\n", 0, chunk.start + span.start) + 1
                before = doc_text[para:chunk.start + span.start]
                tail = _paragraph_rest(doc_text, chunk.start + span.end)
            else:
                before = text[text.rfind("\n", 0, span.start) + 1:span.start]
                tail = _paragraph_rest(text, span.end)
            before = since_study_opened(before, piece)
            opener = opened_study(before, piece)
            context = entities_in(f"{before}\n{piece}") | study_head(head_entities, opener)
            # the literature's figures ("a number of clinical studies … have shown … 5% to
            # 10%") take no subject from the sentences after them: those are the trial's own
            after = set() if cites_literature(piece) else entities_after(tail, context)
            prior = since_new_trial(before, piece)
            # the patients the document's title names ("… for resectable pulmonary metastatic
            # osteosarcoma") are those of its own study, not of one its text introduces
            own_study = opener is None and prior == before
            base = head_populations if own_study else set()
            view.sentences.append(SourceSentence(
                span.start, span.end, piece, sentence_claims(piece), context, after,
                last_populations(prior) or base,
                base | populations_in(prior) | populations_in(piece)))
            view.units |= support_units(piece)
            view.numbers |= numbers_of(piece)
            view.entities |= context
        view.units |= support_units(chunk.title)
        view.entities |= head_entities
        return view


def _paragraph_rest(text: str, at: int) -> str:
    """The text from ``at`` to the end of its paragraph (not the rest of the document)."""
    end = text.find("\n", at)
    return text[at:] if end < 0 else text[at:end]


AFTER_SENTENCES = 3  # how far past a sentence its paragraph may still name its subject


def since_study_opened(before: str, sentence: str) -> str:
    """The part of ``before`` (the paragraph up to ``sentence``) that is about the same study as
    ``sentence``: from the last sentence that introduces a study of its own (``opens_study``);
    nothing where ``sentence`` introduces one ("…帕博立珠单抗与T-VEC…;另一项研究探索了纳武利尤
    单抗…中位OS为18.2个月": pembrolizumab is not the subject of that OS)."""
    if _begins_study(sentence):
        return ""
    for span in reversed(split_sentences(before)):
        if _begins_study(before[span.start:span.end]):
            return before[span.start:]
    return before


@lru_cache(maxsize=4096)
def _trials_in(text: str) -> frozenset[str]:
    """The trial ids ``text`` names (cached: each sentence of a paragraph is read again for
    every sentence after it)."""
    return frozenset(e for e in entities_in(text) if e.startswith("trial:"))


def since_new_trial(before: str, sentence: str) -> str:
    """The part of ``before`` from the last sentence that names a trial the paragraph had not
    named yet ("上海市第六人民医院胡海燕团队探究了SHR-2554…" after EZH-202's sentences): a study of
    its own, whose patients are not the earlier study's. Nothing where ``sentence`` names one."""
    cut, seen = 0, set[str]()
    for span in split_sentences(before):
        named = _trials_in(before[span.start:span.end])
        if named - seen and seen:
            cut = span.start
        seen |= named
    return "" if _trials_in(sentence) - seen else before[cut:]


def _begins_study(sentence: str) -> bool:
    return opens_study(sentence) or cites_literature(sentence)


def opened_study(before: str, sentence: str) -> str | None:
    """The sentence that introduced the study ``sentence`` belongs to (``before`` already cut
    by ``since_study_opened``), or None where the paragraph introduced none."""
    if _begins_study(sentence):
        return sentence
    spans = split_sentences(before)
    if spans and _begins_study(before[spans[0].start:spans[0].end]):
        return before[spans[0].start:spans[0].end]
    return None


def study_head(head: set[str], opener: str | None) -> set[str]:
    """What a sentence takes from its document's title and heading. A study the text
    introduces by its own drugs ("In 2016, a phase II clinical study evaluated … anlotinib"), or
    the literature ("a number of clinical studies … have shown"), is not the titled trial: the
    title's drugs and trial ids are not its subjects. A study introduced without drugs of its
    own ("2023年报道了一项II期…试验,入组52例ASPS患者", under the heading "阿替利珠单抗治疗…")
    keeps them."""
    if opener is None:
        return head
    own = entities_in(opener)
    if cites_literature(opener) or any(is_study(e) for e in own):
        return {e for e in head if not is_study(e) or e in own}
    return head


def entities_after(tail: str, context: set[str], limit: int = AFTER_SENTENCES) -> set[str]:
    """Entities the next ``limit`` sentences of the paragraph (``tail``: the text after the
    sentence) name, up to a sentence that names another trial or introduces a study of its own
    (a new study begins)."""
    para = tail.split("\n", 1)[0]  # callers may pass more than the paragraph
    found: set[str] = set()
    for span in split_sentences(para)[:limit]:
        piece = para[span.start:span.end]
        if opens_study(piece):
            break
        names = entities_in(piece)
        if any(e.startswith("trial:") and e not in context for e in names):
            break
        found |= {e for e in names if not e.startswith("year:")}
    return found


# similarity(sentences, passages) -> scores[i][j] in [-1, 1]; None = lexical checking only
Similarity = Callable[[Sequence[str], Sequence[RetrievedChunk]], Sequence[Sequence[float]]]


@dataclass
class CheckResult:
    text: str
    citations: list[Citation]
    checks: list[SentenceCheck]
    supported: int  # sentences with support
    refused: bool  # the draft itself was the refusal phrase
    measures: set[str] = field(default_factory=set)  # measures the supported numbers are of
    subjects: set[str] = field(default_factory=set)  # subjects around the supporting quotes


def split_answer(draft: str) -> list[str]:
    """Sentences of a draft answer, markers still attached to the sentence they follow."""
    text = marker_subjects(draft.strip())
    # a marker right after a sentence end belongs to that sentence: "... 28.57%。[1]"
    text = re.sub(rf"([。！？.!?])\s*((?:[\[【]{_CITED}[\]】])+)", r"\2\1",
                  text)
    return [text[s.start:s.end] for s in split_sentences(text)]


def is_refusal(draft: str) -> bool:
    low = normalise_text(draft).strip().lower()
    if not low:
        return True
    patterns = [REFUSAL["en"].lower().rstrip("."), REFUSAL["zh"].rstrip("。"),
                "do not answer this question", "未找到该问题的答案", "cannot answer",
                "not contain the answer", "无法回答", "没有提到", "未提及"]
    return any(p in low for p in patterns)


def _overlap(units: set[str], passage_units: set[str]) -> float:
    return len(units & passage_units) / len(units) if units else 0.0


def clause_text(text: str, claim: Claim) -> str:
    """The clause of ``text`` that holds the claim's number."""
    for a, b in clauses(text):
        if a <= claim.quantity.start < b:
            return text[a:b]
    return text


def without_measures(question: str) -> str:
    """The question without its measure words ("中位PFS", "ORR"): the words that remain name
    the study, arm and population."""
    return without_measure_names(question)


def _units_agree(a: str | None, b: str | None) -> bool:
    if a is None or b is None or a == b:
        return True
    return {a, b} <= {"year", "age_year"}


@dataclass(frozen=True, eq=False)
class Binding:
    view: PassageView
    sentence: SourceSentence
    claim: Claim | None = None  # the source claim that states the answer's number


def bind_claim(claim: Claim, answer: str, prev_end: int, views: Sequence[PassageView],
               wanted_measures: set[str], subjects: set[str],
               values: frozenset[str] = frozenset(), phrase: set[str] | None = None,
               language: str = "", populations: frozenset[str] = frozenset(),
               group: frozenset[str] = frozenset(), question: str = "",
               phrase_share: float = 0.0) -> list[Binding]:
    """Source sentences that state ``claim``: same value, agreeing unit, the measure it is of
    (``wanted_measures``: the answer's, else the question's), no other subject in its clause,
    every one of ``subjects`` in its context, and — for "分别 / respectively" — the group the
    answer's words before the number name. ``phrase``: for a value no lexicon measure names,
    the words naming it in the answer ("R0切除率"), of which the source clause that states the
    value must share one (in the answer's ``language``; across languages meaning decides).
    ``populations``: the patients the answer (or question) is about; a source clause — else
    sentence — about only other patients does not bind ("复发患者" for "初治患者"). ``group``:
    the tumours the question asks about (``asked_group``); a value of those and others together
    does not bind. A value of a subgroup ("其中AS类型患者…43%") binds only where the answer or the
    ``question`` names that subgroup. ``phrase_share``: the share of ``phrase`` the source
    clause must have (0: any of it)."""
    q = claim.quantity
    context = answer[prev_end:q.start]
    # the answer's arms and tumours: its clause's, else the subjects it is bound to
    claim_entities = claim.entities or frozenset(subjects)
    out = []
    for view in views:
        for s in view.sentences:
            if not subjects <= s.context:
                continue
            for c in s.claims:
                if c.quantity.value != q.value or not _units_agree(q.unit, c.quantity.unit):
                    continue
                if claim.horizon and c.horizon and claim.horizon != c.horizon:
                    continue  # the 5年EFS率 is not the 3-year EFS
                if not claim.horizon and no_median(s.text, c) and MEDIAN_RE.search(
                        clause_text(answer, claim)):
                    continue  # "中位PFS为29%" is not the 6个月PFS率 of 29%
                if c.quantity.partner and c.quantity.partner != q.partner:
                    continue  # half a range is not the value: "5% to 10%" is not "10%", nor
                    # are "20% and 25%, respectively" two values of the one "20%~25%"
                if wanted_measures and not (c.measures & wanted_measures):
                    continue
                if stands_for_a_part(claim, values, c.quantity, s.text):
                    continue  # "60例(22例脂肪肉瘤+38例平滑肌肉瘤)": 60 is no part's count
                if clause_conflict(claim_entities, c.entities):
                    continue  # "安慰剂组41%" is not "尼罗醋司他组41%"; lung is not prostate
                clause = clause_text(s.text, c)
                stated = s.stated_populations(clause)
                if populations and population_conflict(set(populations), stated):
                    continue  # relapsed patients' DCR is not the treatment-naive DCR; nor is
                    # a sentence after "共纳入1733名非转移性…患者" about metastatic ones
                if not populations and subpopulation(stated, s.study_populations):
                    continue  # "在初次治疗的ES患者,ORR为25%" is no ORR of all 62 patients
                if len(populations) == 1 and not c.label and pooled(
                        stated, bool(RESPECTIVE_RE.search(s.text))):
                    continue  # "62例初治和复发的患者中,…DCR为26%": both together, not one's
                if mixed_group(group, clause, s.text):
                    continue  # 60 liposarcoma and leiomyosarcoma patients' ORR, not liposarcoma's
                if other_subgroup(s.text, c, f"{answer}\n{question}", question):
                    continue  # "其中AS类型患者ORR最高(43%)" is no ORR of all patients
                if phrase and view.chunk.language == language:
                    # a lexicon term counts as the words of each of its names ("中危组" is the
                    # "中风险组(n=625)")
                    shared = len(phrase & phrase_words(clause)) / len(phrase)
                    if not shared or shared < phrase_share:
                        continue  # "R0切除率约为28.57%" is not "其ORR为28.57%"
                if c.label:
                    labels = [o.label for o in s.claims if o.label and o.measures == c.measures]
                    picked = pick_label(context, labels)
                    if picked is None and len(labels) > 1 and len(values) < 2 and \
                            not RESPECTIVE_RE.search(answer):
                        # one value, its group unnamed ("survival was 35 months", of a
                        # source's "不伴有SREs与伴有SREs组…分别为54个月与35个月"): the
                        # question's group, or none
                        picked = pick_label(question, labels)
                        if picked is None:
                            continue
                    if picked is not None and labels[picked] != c.label:
                        continue  # the answer names the other group
                out.append(Binding(view, s, c))
                break
    return out


def _source_key(binding: Binding) -> tuple[str, int]:
    """Where in its document a bound source number stands: the same sentence retrieved in two
    overlapping passages is one statement."""
    at = binding.sentence.start + (binding.claim.quantity.start if binding.claim else 0)
    return binding.view.chunk.doc_id, binding.view.chunk.start + at


# cos(question, sentence) per evidence sentence, keyed (passage n, sentence start)
SentenceSimilarity = Mapping[tuple[int, int], float]
RIVAL_MARGIN = 0.25  # how much better another value's sentence must match the question
TAIL_SHARE = 0.6  # of the words after a value that name it, the share the source must have


def question_relevance(question_units: set[str], view: PassageView, sentence: SourceSentence,
                       sims: SentenceSimilarity | None = None) -> float:
    """How well a source sentence matches the question: the share of the question's words it
    (or its title) has, plus the cosine of their meanings when known."""
    own = support_units(sentence.text) | support_units(view.chunk.title)
    overlap = len(question_units & own) / max(1, len(question_units))
    return overlap + (sims or {}).get((view.n, sentence.start), 0.0)


def rival_wins(found: Sequence[Binding], claim: Claim, wanted: set[str], subjects: set[str],
               values: frozenset[str], views: Sequence[PassageView], question_units: set[str],
               sims: SentenceSimilarity | None, margin: float = RIVAL_MARGIN) -> bool:
    """Another study's number: a source sentence giving the same measure a different value
    matches the question clearly better than every sentence that binds the answer's value
    (the question asks about the 2023 ASCO anlotinib data; 21.7 months is ALTER-S004's)."""
    if not wanted or not question_units:
        return False
    bound = max(question_relevance(question_units, b.view, b.sentence, sims) for b in found)
    unit = claim.quantity.unit
    for view in views:
        for s in view.sentences:
            if not subjects <= s.context:
                continue
            if not any(c.measures & wanted and c.quantity.value not in values and
                       _units_agree(unit, c.quantity.unit) for c in s.claims):
                continue
            if any(c.quantity.value in values for c in s.claims):
                continue  # it states the answer's value too
            if question_relevance(question_units, view, s, sims) > bound + margin:
                return True
    return False


class AnswerChecker:
    """Checks a draft one sentence at a time and numbers citations in order of first use, so a
    stream can show each sentence once it passes and the final text is the same."""

    def __init__(self, passages: Sequence[RetrievedChunk], language: str, *, question: str = "",
                 documents: Mapping[str, str] | None = None, min_overlap: float = 0.5,
                 min_semantic: float = 0.55,
                 similarity: Similarity | None = None, unsupported: str = "drop",
                 sentence_similarity: SentenceSimilarity | None = None) -> None:
        docs = documents or {}
        self.views = [PassageView.of(i + 1, chunk, docs.get(chunk.doc_id))
                      for i, chunk in enumerate(passages)]
        self.language = language
        self.question_measures = measures_in(question)
        self.question_units = support_units(question)
        self.question_numbers = numbers_of(question)
        self.question_entities = entities_in(question)
        self.question_studies = {e for e in self.question_entities if is_study(e)}
        self.question_populations = populations_in(question)
        self.question = question
        # the circumstance the question places its value in ("during chemotherapy")
        self.question_conditions = conditions_in(question)
        self.question_group = asked_group(question)
        # the question's words besides its measure names: what tells one study from another
        self.question_subject_units = support_units(without_measures(question))
        self.sentence_similarity = sentence_similarity
        self.min_overlap = min_overlap
        self.min_semantic = min_semantic
        self.similarity = similarity
        self.unsupported = unsupported
        self.checks: list[SentenceCheck] = []
        self.parts: list[str] = []
        self.citations: list[Citation] = []
        self.measures: set[str] = set()  # measures of the numbers shown
        self.subjects: set[str] = set()  # subjects in the context of what was shown
        # … of the last sentence checked alone
        self.last_measures: set[str] = set()
        self.last_subjects: set[str] = set()
        self._number_of: dict[tuple[str, int, int], int] = {}
        self.supported = 0

    # -- one sentence ---------------------------------------------------------------------

    def check(self, sentence: str) -> str | None:
        """Check one draft sentence; return its text as shown (re-numbered markers), or None
        when it is not shown."""
        self.last_measures, self.last_subjects = set(), set()
        bare, cited = parse_markers(sentence)
        if not bare or is_instruction(bare):
            return None
        content = LIST_ENUM_RE.sub("", bare)
        # "…, according to the 2023 drug-therapy review": the question's year, said again
        claims = [c for c in sentence_claims(content)
                  if not (c.quantity.value in self.question_numbers and is_calendar_year(c))]
        units = support_units(bare)
        scores = {v.n: _overlap(units, v.units) for v in self.views}
        semantic = self._semantic(bare)
        check = SentenceCheck(text=bare, supported=False, cited=cited,
                              numbers=sorted({c.quantity.value for c in claims}))
        if claims and not self._restates(units, claims):
            support = self._support_claims(content, claims, cited, scores, semantic, check)
        elif bare.rstrip().endswith((":", "：")) or self._restates(units, claims):
            support = []  # a lead-in, or it only restates the question: no claim to show
            check.action = "dropped"
        else:
            support = self._support_words(bare, cited, scores, semantic)
        shown: str | None = None
        if support:
            check.supported = True
            check.supporting = sorted({b.view.n for b in support})
            if not cited:
                check.action = "added"
            elif set(cited) != set(check.supporting):
                check.action = "repointed"
            shown = self._attach(bare, self._cite(support))
            self.supported += 1
        elif len(units) < 2 and not claims:
            check.action = "neutral"  # "Yes." / connective text: carries no claim of its own
            check.supported = True
            shown = bare
        else:
            check.action = "marked" if self.unsupported == "mark" else "dropped"
            if self.unsupported == "mark":
                shown = bare + UNSUPPORTED_MARK.get(self.language, "")
        self.checks.append(check)
        if shown is not None:
            self.parts.append(shown)
        return shown

    def drop(self, sentence: str) -> None:
        """Record a draft sentence held back unchecked: it states something the question does
        not ask (``decide.off_question``)."""
        bare, cited = parse_markers(sentence)
        self.checks.append(SentenceCheck(text=bare, supported=False, cited=cited,
                                         action="dropped"))

    def _restates(self, units: set[str], claims: list[Claim]) -> bool:
        """The sentence only says the question again: its words and numbers are the
        question's ("The Lansky score is required for patients under 16 [1].")."""
        if not self.question_units or len(units) < 2:
            return False
        numbers = {c.quantity.value for c in claims}
        return len(units - self.question_units) <= 1 and numbers <= self.question_numbers

    def _semantic(self, bare: str) -> dict[int, float]:
        if self.similarity is None or not self.views:
            return {v.n: 0.0 for v in self.views}
        sims = self.similarity([bare], [v.chunk for v in self.views])
        return {v.n: float(sims[0][j]) for j, v in enumerate(self.views)}

    def _about(self, clause: str, binding: Binding, semantic: dict[int, float],
               term: str | None = None) -> bool:
        """The binding sentence is about the answer's clause: the lexicon term the answer's
        value is of is the source value's term (the answer's "diarrhoea … 84%" for the source's
        "腹泻(84%)", not for "恶心(84%)"), else shared words in one language, semantic
        similarity across languages."""
        source = binding.sentence.text
        theirs = (value_term(source, binding.claim, binding.sentence.claims)
                  if binding.claim is not None else None)
        if term is not None and theirs is not None:
            return term == theirs
        if binding.view.chunk.language != self.language:
            return semantic[binding.view.n] >= self.min_semantic
        # a generic measure name ("发生率", "rate") says nothing of what the number is about:
        # "高血压的发生率是10%" is about 高血压, which "不良反应主要包括高血压(10%)" names. Either
        # reading will do: "风险" is also part of a group's name ("中风险组625例")
        sentence = support_units(binding.sentence.text)
        need = self.min_overlap * 0.8
        return (_overlap(support_units(clause), sentence) >= need or
                _overlap(support_units(without_measure_names(clause, generic_only=True)),
                         sentence) >= need)

    def _support_claims(self, content: str, claims: list[Claim], cited: list[int],
                        scores: dict[int, float], semantic: dict[int, float],
                        check: SentenceCheck) -> list[Binding]:
        named = entities_in(content)
        sentence_measures = {m for c in claims for m in c.measures}
        chosen: list[Binding] = []
        missing: list[str] = []
        bound_measures: set[str] = set()
        bound_subjects: set[str] = set()
        stated: dict[tuple[str, str | None], int] = {}  # times this sentence states a value
        prev_end = 0
        for claim in claims:
            wanted = set(claim.measures) or (self.question_measures
                                              if not sentence_measures else set())
            # the claim's subject: named in its clause, else in the sentence — and the
            # question's trials and drugs, which an answer about them need not repeat
            subjects = ((entities_in(clause_text(content, claim)) or named or
                         self.question_entities) | self.question_studies
                        ) - {"year:" + claim.quantity.value}
            phrase = (phrase_words(value_phrase(content, claim.quantity.start))
                      if not claim.measures else None)
            share = 0.0
            if phrase is not None and not phrase:
                # "4%的患者未使用蒽环类药物": nothing before the value names it; the words after
                # it do, and most of them must be the source's ("4%的患者未使用烷化剂" is not it)
                phrase = support_units(value_tail(content, claim.quantity.end))
                share = TAIL_SHARE
            populations = frozenset(populations_in(clause_text(content, claim)) or
                                    self.question_populations)
            found = bind_claim(claim, content, prev_end, self.views, wanted, subjects,
                               frozenset(c.quantity.value for c in claims), phrase,
                               self.language, populations, self.question_group,
                               self.question, share)
            # a value under another circumstance than the question asks ("after radical
            # surgery" for "during chemotherapy") is not its answer
            found = [b for b in found if not condition_conflict(
                self.question_conditions, clause_text(b.sentence.text, b.claim) if b.claim else
                b.sentence.text, b.sentence.text)]
            if not wanted:
                # no measure names what the number is: the source sentence itself must be
                # about what the answer says ("术后2年恢复跑步" is not "2年OS率")
                clause = clause_text(content, claim)
                term = value_term(content, claim, claims)
                found = [b for b in found if self._about(clause, b, semantic, term)]
            prev_end = claim.quantity.end
            # one source statement backs one statement of the answer: "the left arm 28.3
            # months, the right arm 28.3 months" from a source that gives 28.3 once is half made
            # up. A value stated n times needs n places in the sources that state it.
            said = (claim.quantity.value, claim.quantity.unit)
            stated[said] = stated.get(said, 0) + 1
            if len({_source_key(b) for b in found}) < stated[said]:
                found = []
            values = frozenset(c.quantity.value for c in claims)
            if found and rival_wins(found, claim, wanted, subjects, values, self.views,
                                    self.question_subject_units, self.sentence_similarity):
                found = []
            if not found:
                missing.append(claim.quantity.value)
                continue
            # prefer a sentence already quoted, then what the model cited, then the closest
            quoted = {id(b.sentence) for b in chosen}
            found.sort(key=lambda b: (id(b.sentence) not in quoted, b.view.n not in cited,
                                      -max(scores[b.view.n], semantic[b.view.n])))
            best = found[0]
            if id(best.sentence) not in quoted:
                chosen.append(best)
            if best.claim is not None:
                bound_measures |= set(best.claim.measures)
            bound_subjects |= best.sentence.context
        if missing:
            check.missing_numbers = sorted(set(missing))
            return []
        self._bound(bound_measures, bound_subjects)
        return chosen

    def _support_words(self, bare: str, cited: list[int], scores: dict[int, float],
                       semantic: dict[int, float]) -> list[Binding]:
        subjects = entities_in(bare)
        order = sorted(self.views, key=lambda v: (v.n not in cited,
                                                  -max(scores[v.n], semantic[v.n])))
        units = support_units(bare)
        # a comparison is supported only by a sentence going the same way ("更低", never "更高")
        # about what the answer compares ("adverse events … lower" is not "首次SRE的发生风险下降")
        ways = directions_in(bare)
        keys = compared_keys(bare) if ways else set()
        for v in order:
            if not subjects <= v.entities:
                continue
            if scores[v.n] >= self.min_overlap or semantic[v.n] >= self.min_semantic:
                best = max((s for s in v.sentences
                            if not ways or (ways <= directions_in(s.text) and
                                            keys <= compared_keys(s.text))),
                           key=lambda s: len(support_units(s.text) & units), default=None)
                # the sentence it restates says the finding is not so, or the other way round
                # ("X improves survival" from "… was not associated with survival")
                if best is not None and not ways and denies(bare) != denies(best.text):
                    continue
                if best is not None:
                    self._bound(set(), best.context)
                    return [Binding(v, best)]
        return []

    def _bound(self, measures: AbstractSet[str], subjects: AbstractSet[str]) -> None:
        """What the sentence being checked binds: kept for it alone and for all shown."""
        self.last_measures |= measures
        self.last_subjects |= subjects
        self.measures |= measures
        self.subjects |= subjects

    def _cite(self, support: list[Binding]) -> list[int]:
        markers: list[int] = []
        by_view: dict[int, list[SourceSentence]] = {}
        for b in support:
            by_view.setdefault(b.view.n, []).append(b.sentence)
        for b in support:
            if b.view.n not in by_view:
                continue
            sentences = sorted(by_view.pop(b.view.n), key=lambda s: s.start)
            start, end = sentences[0].start, sentences[-1].end
            if len(sentences) > 1 and end - start > 600:  # far apart: quote only the first
                end = sentences[0].end
            c = b.view.chunk
            key = (c.chunk_id, start, end)
            if key not in self._number_of:
                self._number_of[key] = len(self.citations) + 1
                self.citations.append(Citation(
                    n=self._number_of[key], doc_id=c.doc_id, title=c.title,
                    chunk_id=c.chunk_id, start=c.start, end=c.end, quote=c.text[start:end],
                    quote_start=c.start + start, quote_end=c.start + end,
                    language=c.language, kind=c.kind, page=c.page_at(c.start + start)))
            if self._number_of[key] not in markers:
                markers.append(self._number_of[key])
        return markers

    def _attach(self, sentence: str, markers: list[int]) -> str:
        return attach_markers(sentence, markers, self.language)

    def cite_sentence(self, view: PassageView, sentence: SourceSentence) -> int:
        """Cite one source sentence directly (a quote-backed answer); its marker number."""
        return self._cite([Binding(view, sentence)])[0]

    # -- the whole answer -----------------------------------------------------------------

    def result(self) -> CheckResult:
        if not self.supported:
            return CheckResult(text=REFUSAL.get(self.language, REFUSAL["en"]), citations=[],
                               checks=self.checks, supported=0, refused=False)
        return CheckResult(text=join_sentences(self.parts, self.language),
                           citations=self.citations, checks=self.checks,
                           supported=self.supported, refused=False, measures=self.measures,
                           subjects=self.subjects)


def join_sentences(parts: Sequence[str], language: str) -> str:
    return ("" if language == "zh" else " ").join(parts)


def attach_markers(sentence: str, markers: list[int], language: str) -> str:
    if not markers:
        return sentence
    tag = "".join(f"[{n}]" for n in markers)
    end = re.search(r"[。！？.!?；;]+$", sentence)
    if end:
        space = "" if language == "zh" else " "
        return sentence[: end.start()] + space + tag + sentence[end.start():]
    return sentence + tag if language == "zh" else f"{sentence} {tag}"


def check_answer(
    draft: str,
    passages: Sequence[RetrievedChunk],
    language: str,
    *,
    question: str = "",
    documents: Mapping[str, str] | None = None,
    min_overlap: float = 0.5,
    min_semantic: float = 0.55,
    similarity: Similarity | None = None,
    unsupported: str = "drop",
) -> CheckResult:
    """Verify every sentence of ``draft`` against ``passages`` (numbered from 1)."""
    if is_refusal(draft):
        return CheckResult(text=REFUSAL.get(language, REFUSAL["en"]), citations=[], checks=[],
                           supported=0, refused=True)
    checker = AnswerChecker(passages, language, question=question, documents=documents,
                            min_overlap=min_overlap, min_semantic=min_semantic,
                            similarity=similarity,
                            unsupported=unsupported)
    for sentence in split_answer(draft):
        checker.check(sentence)
    return checker.result()


def supporting_passages(sentence: str, passages: Sequence[RetrievedChunk], language: str, *,
                        min_overlap: float = 0.5, min_semantic: float = 0.55,
                        similarity: Similarity | None = None) -> list[int]:
    """0-based indexes of passages that support ``sentence`` (markers ignored); empty when
    they do not. The eval harness judges citations with this, the same check the assistant
    applies to its own answers."""
    bare, _ = parse_markers(sentence)
    if not bare or not passages:
        return []
    checker = AnswerChecker(passages, language, min_overlap=min_overlap,
                            min_semantic=min_semantic,
                            similarity=similarity)
    shown = checker.check(bare)
    if shown is None or not checker.checks or not checker.checks[-1].supporting:
        return []
    return [n - 1 for n in checker.checks[-1].supporting]


MAX_CJK_IN_ENGLISH = 3  # Chinese characters an English answer sentence may carry (a name)
MIN_CJK_IN_CHINESE = 6  # ... that make a sentence with English terms in it Chinese


def sentence_language_ok(sentence: str, language: str) -> bool:
    """A sentence in the question's language (numbers and ids alone count as either)."""
    bare, _ = parse_markers(sentence)
    if not re.search(r"[A-Za-z\u4e00-\u9fff]", bare):
        return True
    if language == "en" and len(re.findall(r"[\u4e00-\u9fff]", bare)) > MAX_CJK_IN_ENGLISH:
        return False  # "Guidelines recommend two膦酸盐 class…": half-translated, not English
    if language == "zh" and len(re.findall(r"[\u4e00-\u9fff]", bare)) >= MIN_CJK_IN_CHINESE:
        return True  # Chinese with English names and terms in it
    return detect_language(bare) == language


__all__ = ["REFUSAL", "AnswerChecker", "CheckResult", "PassageView", "check_answer",
           "expects_quantity", "extract_numbers", "extract_quantities", "is_refusal",
           "marker_subjects", "neutralise_injections", "parse_markers", "split_answer",
           "supporting_passages"]
