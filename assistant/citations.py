"""Settle citations in code. Pure functions: draft answer + passages in, checked answer out.

The model's own ``[n]`` markers are hints, not facts. For each sentence of the draft:
- every number in it (percentages, doses, intervals; 28.57% == 28.57 %, 八成 == 80%) must
  appear in the passages that support it, and
- the rest must overlap a passage enough: a share of its content words / CJK bigrams, or,
  across languages, a semantic similarity given by the caller.
Wrong markers are re-pointed, missing ones added, and a sentence nothing supports is dropped
(or marked). Quotes are the passage sentences that carry the claim, with document offsets.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ingest.keywords import support_units
from ingest.text import split_sentences

from .types import Citation, RetrievedChunk, SentenceCheck

REFUSAL = {
    "en": "The indexed documents do not answer this question.",
    "zh": "现有文献中未找到该问题的答案。",
}
UNSUPPORTED_MARK = {"en": " [no supporting passage found]", "zh": "[未找到出处]"}

# Marker forms models produce: [1], [1, 3], [1][2], 【1】, [Passage 2], (1) is NOT a marker.
MARKER_RE = re.compile(r"\s*[\[【](?:passage\s*|段落\s*)?(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)[\]】]",
                       re.IGNORECASE)
LIST_ENUM_RE = re.compile(r"^\s*(?:[-*•]\s*|\d{1,2}[.、)）]\s+|[（(]\d{1,2}[)）]\s*)")
# A number not glued to a name (IDH1, PD-1, ALTER-S004 are names, not quantities).
NUMBER_RE = re.compile(r"(?<![A-Za-z\d.])(?<![A-Za-z][-/])\d+(?:,\d{3})*(?:\.\d+)?(?![A-Za-z\d])")
CHENG_RE = re.compile(r"([一二两三四五六七八九十])成")
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9, "十": 10}
HALF_RE = re.compile(r"一半|半数")

# Text in a document that tries to instruct the model. Never shown to the model as a passage
# sentence, never accepted as support.
INJECTION_RE = re.compile(
    r"(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|"
    r"preceding|your)\s+(instructions?|prompts?|rules?|directions?)|you are now\b|"
    r"system prompt|new instructions?:|reply (only )?with\b|respond (only )?with\b|"
    r"忽略(之前|以上|上述|前面|先前|所有)|无视(之前|以上|上述|所有)|你现在是|系统提示|新的指令",
    re.IGNORECASE,
)
INJECTION_PLACEHOLDER = "[instruction-like text removed]"


# Questions that ask for a quantity: an answer without any number does not answer them.
QUANTITY_RE = re.compile(
    r"\bhow (many|much|long|often|old)\b|\bwhat (percentage|proportion|share|fraction|"
    r"number|dose)\b|\b(rate|ratio|percentage|proportion|incidence|median|dose|dosage)\b|"
    r"多少|几[个名例年月天周次]|比例|百分之|[发生有效缓解控制存活生存]率|中位|剂量|多久|多长时间",
    re.IGNORECASE,
)


def expects_quantity(question: str) -> bool:
    return bool(QUANTITY_RE.search(question))


def normalise_text(text: str) -> str:
    """NFKC folds full-width digits, % and letters (２８．５７％ -> 28.57%)."""
    return unicodedata.normalize("NFKC", text)


def extract_numbers(text: str) -> set[str]:
    """Quantities in ``text`` as canonical strings: '28.57', '80' (from 八成), '2000'."""
    text = normalise_text(text)
    out: set[str] = set()
    for match in NUMBER_RE.finditer(text):
        out.add(_canonical(match.group(0)))
    for match in CHENG_RE.finditer(text):
        out.add(str(CN_DIGITS[match.group(1)] * 10))
    if HALF_RE.search(text):
        out.add("50")
    return out


def _canonical(raw: str) -> str:
    value = raw.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def parse_markers(sentence: str) -> tuple[str, list[int]]:
    """Remove citation markers; return the bare sentence and the cited numbers in order."""
    cited: list[int] = []
    for match in MARKER_RE.finditer(sentence):
        for n in re.split(r"\s*[,，、]\s*", match.group(1)):
            if n and int(n) not in cited:
                cited.append(int(n))
    bare = MARKER_RE.sub("", sentence).strip()
    return bare, cited


def neutralise_injections(text: str) -> str:
    """Replace instruction-like sentences of a passage with a placeholder."""
    spans = split_sentences(text)
    out = []
    last = 0
    for span in spans:
        piece = text[span.start:span.end]
        if INJECTION_RE.search(piece):
            out.append(text[last:span.start])
            out.append(INJECTION_PLACEHOLDER)
            last = span.end
    out.append(text[last:])
    return "".join(out)


@dataclass
class PassageView:
    """What the checker knows about passage ``n`` (1-based, as numbered in the prompt)."""

    n: int
    chunk: RetrievedChunk
    sentences: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, text)
    units: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, n: int, chunk: RetrievedChunk) -> PassageView:
        view = cls(n=n, chunk=chunk)
        for span in split_sentences(chunk.text):
            piece = chunk.text[span.start:span.end]
            if INJECTION_RE.search(piece):
                continue  # instructions inside documents never count as evidence
            view.sentences.append((span.start, span.end, piece))
            view.units |= support_units(piece)
            view.numbers |= extract_numbers(piece)
        view.units |= support_units(chunk.title)
        return view


# similarity(sentences, passages) -> scores[i][j] in [-1, 1]; None = lexical checking only
Similarity = Callable[[Sequence[str], Sequence[RetrievedChunk]], Sequence[Sequence[float]]]


@dataclass
class CheckResult:
    text: str
    citations: list[Citation]
    checks: list[SentenceCheck]
    supported: int  # sentences with support
    refused: bool  # the draft itself was the refusal phrase


def split_answer(draft: str) -> list[str]:
    """Sentences of a draft answer, markers still attached to the sentence they follow."""
    text = draft.strip()
    # a marker right after a sentence end belongs to that sentence: "... 28.57%。[1]"
    text = re.sub(r"([。！？.!?])\s*((?:[\[【]\d{1,2}(?:\s*[,，、]\s*\d{1,2})*[\]】])+)", r"\2\1",
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


def check_answer(
    draft: str,
    passages: Sequence[RetrievedChunk],
    language: str,
    *,
    min_overlap: float = 0.5,
    min_semantic: float = 0.55,
    min_semantic_numbers: float = 0.40,
    similarity: Similarity | None = None,
    unsupported: str = "drop",
) -> CheckResult:
    """Verify every sentence of ``draft`` against ``passages`` (numbered from 1)."""
    views = [PassageView.of(i + 1, chunk) for i, chunk in enumerate(passages)]
    if is_refusal(draft):
        return CheckResult(text=REFUSAL.get(language, REFUSAL["en"]), citations=[], checks=[],
                           supported=0, refused=True)
    sentences = split_answer(draft)
    bares = [parse_markers(s) for s in sentences]
    sims: Sequence[Sequence[float]] | None = None
    if similarity is not None and views and bares:
        sims = similarity([b for b, _ in bares], [v.chunk for v in views])

    checks: list[SentenceCheck] = []
    kept: list[tuple[str, list[PassageView], set[str]]] = []
    for i, (bare, cited) in enumerate(bares):
        if not bare or INJECTION_RE.search(bare):
            continue
        numbers = extract_numbers(LIST_ENUM_RE.sub("", bare))
        units = support_units(bare)
        scores = {v.n: _overlap(units, v.units) for v in views}
        semantic = {v.n: (sims[i][j] if sims is not None else 0.0) for j, v in enumerate(views)}
        support = _find_support(views, numbers, units, cited, scores, semantic, min_overlap,
                                min_semantic, min_semantic_numbers)
        check = SentenceCheck(text=bare, supported=bool(support), cited=cited,
                              supporting=[v.n for v in support], numbers=sorted(numbers))
        if support:
            if not cited:
                check.action = "added"
            elif set(cited) - {v.n for v in support} or not set(cited) & {v.n for v in support}:
                check.action = "repointed"
            kept.append((bare, support, numbers))
        elif len(units) < 2 and not numbers:
            check.action = "neutral"  # "Yes." / connective text: carries no claim of its own
            check.supported = True
            kept.append((bare, [], numbers))
        else:
            covered = set().union(*(v.numbers for v in views)) if views else set()
            check.missing_numbers = sorted(numbers - covered)
            check.action = "marked" if unsupported == "mark" else "dropped"
            if unsupported == "mark":
                kept.append((bare + UNSUPPORTED_MARK.get(language, ""), [], numbers))
        checks.append(check)

    if not any(support for _, support, _ in kept):
        return CheckResult(text=REFUSAL.get(language, REFUSAL["en"]), citations=[],
                           checks=checks, supported=0, refused=False)

    # renumber citations in order of first use; one Citation per (passage, quote)
    citations: list[Citation] = []
    number_of: dict[tuple[str, int, int], int] = {}
    parts: list[str] = []
    for bare, support, numbers in kept:
        markers: list[int] = []
        for view in support:
            q_start, q_end, quote = _quote(view, numbers, support_units(bare))
            key = (view.chunk.chunk_id, q_start, q_end)
            if key not in number_of:
                number_of[key] = len(citations) + 1
                c = view.chunk
                citations.append(Citation(
                    n=number_of[key], doc_id=c.doc_id, title=c.title, chunk_id=c.chunk_id,
                    start=c.start, end=c.end, quote=quote, quote_start=c.start + q_start,
                    quote_end=c.start + q_end, language=c.language, kind=c.kind,
                    page=c.page_at(c.start + q_start)))
            if number_of[key] not in markers:
                markers.append(number_of[key])
        parts.append(_attach(bare, markers, language))
    joiner = "" if language == "zh" else " "
    supported = sum(1 for _, s, _ in kept if s)
    return CheckResult(text=joiner.join(parts), citations=citations, checks=checks,
                       supported=supported, refused=False)


def supporting_passages(sentence: str, passages: Sequence[RetrievedChunk], language: str, *,
                        min_overlap: float = 0.5, min_semantic: float = 0.55,
                        min_semantic_numbers: float = 0.40,
                        similarity: Similarity | None = None) -> list[int]:
    """0-based indexes of a smallest set of ``passages`` that supports ``sentence`` (markers
    ignored); empty when they do not. The eval harness judges citations with this, the same
    check the assistant applies to its own answers."""
    bare, _ = parse_markers(sentence)
    if not bare or not passages:
        return []
    views = [PassageView.of(i + 1, chunk) for i, chunk in enumerate(passages)]
    numbers = extract_numbers(LIST_ENUM_RE.sub("", bare))
    units = support_units(bare)
    sims = similarity([bare], list(passages)) if similarity is not None else None
    scores = {v.n: _overlap(units, v.units) for v in views}
    semantic = {v.n: (sims[0][j] if sims is not None else 0.0) for j, v in enumerate(views)}
    chosen = _find_support(views, numbers, units, [v.n for v in views], scores, semantic,
                           min_overlap, min_semantic, min_semantic_numbers)
    return [v.n - 1 for v in chosen]


def _find_support(views: list[PassageView], numbers: set[str], units: set[str],
                  cited: list[int], scores: dict[int, float], semantic: dict[int, float],
                  min_overlap: float, min_semantic: float,
                  min_semantic_numbers: float | None = None) -> list[PassageView]:
    """Smallest set of passages that carries the sentence, preferring what the model cited.

    Where the sentence has numbers and they are all found, a lower semantic bar applies
    (``min_semantic_numbers``): the exact numbers are the stronger evidence."""
    sem_numbers = min_semantic if min_semantic_numbers is None else min_semantic_numbers
    def related(v: PassageView) -> bool:
        return scores[v.n] >= min_overlap or semantic[v.n] >= min_semantic

    order = sorted(views, key=lambda v: (v.n not in cited, -max(scores[v.n], semantic[v.n])))
    if not numbers:
        for v in order:
            if related(v):
                return [v]
        return []
    # every number must be found; the passages holding them must be about the sentence
    chosen: list[PassageView] = []
    remaining = set(numbers)
    loose = min_overlap / 2  # a passage supplying some numbers needs only part of the words
    while remaining:
        best = max(order, key=lambda v: (len(v.numbers & remaining), v.n in cited,
                                         max(scores[v.n], semantic[v.n])), default=None)
        if best is None or not (best.numbers & remaining):
            return []
        if not (scores[best.n] >= loose or semantic[best.n] >= sem_numbers):
            return []
        chosen.append(best)
        remaining -= best.numbers
    union = set().union(*(v.units for v in chosen))
    if _overlap(units, union) >= min_overlap or any(semantic[v.n] >= sem_numbers
                                                     for v in chosen):
        return chosen
    return []


def _quote(view: PassageView, numbers: set[str], units: set[str]) -> tuple[int, int, str]:
    """The passage sentence(s) carrying the claim: those holding its numbers, else the one
    sharing the most words. Offsets are relative to the chunk."""
    if not view.sentences:
        text = view.chunk.text
        return 0, len(text), text
    picked: list[tuple[int, int, str]] = []
    remaining = set(numbers)
    for s in sorted(view.sentences, key=lambda s: -len(extract_numbers(s[2]) & remaining)):
        found = extract_numbers(s[2]) & remaining
        if not found:
            break
        picked.append(s)
        remaining -= found
    if not picked:
        picked = [max(view.sentences, key=lambda s: len(support_units(s[2]) & units))]
    picked.sort()
    start, end = picked[0][0], picked[-1][1]
    if len(picked) > 1 and end - start > 600:  # far apart: quote only the first
        start, end = picked[0][0], picked[0][1]
    return start, end, view.chunk.text[start:end]


def _attach(sentence: str, markers: list[int], language: str) -> str:
    if not markers:
        return sentence
    tag = "".join(f"[{n}]" for n in markers)
    end = re.search(r"[。！？.!?；;]+$", sentence)
    if end:
        space = "" if language == "zh" else " "
        return sentence[: end.start()] + space + tag + sentence[end.start():]
    return sentence + tag if language == "zh" else f"{sentence} {tag}"
