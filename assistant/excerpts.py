"""What of each retrieved passage the LLM reads: the window of sentences that best matches the
question, within a size budget. Pure functions.

Prompt processing dominates an answer on a CPU (~250 prompt tokens/s for the 0.5B model here),
so the prompt is kept to the sentences that can answer. A sentence scores by the question's
content words / CJK bigrams it shares, the exact terms it shares (trial ids, numbers, acronyms,
which also work across languages) and, for a question asking for a quantity, by containing a
number. The best-scoring contiguous window of sentences that fits the budget is kept, marked
with "…" where it was cut. The whole passage is still what answers are checked against and
what the user sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ingest.keywords import anchor_terms, support_units, tokenize
from ingest.text import split_sentences, weighted_len

from .citations import expects_quantity, extract_numbers
from .claims import cues_in, entities_in, measures_in, terms_in

# semantic(sentences) -> cosine of the question with each sentence (EmbeddingGemma), or None
Semantic = Callable[[Sequence[str]], Sequence[float]]
MEASURE_WEIGHT = 1.0  # a sentence naming the asked measure (SRE = 骨相关事件) in any language
ENTITY_WEIGHT = 0.3  # ... naming an asked subject (drug, trial, tumour)
TERM_WEIGHT = 0.5  # ... naming an asked term that binds no number (腹泻 = diarrhoea)
CUE_WEIGHT = 1.5  # ... naming what else is asked about (定义 = "defined as", 联系人 = contact)
SEMANTIC_WEIGHT = 2.0  # cosine above the passage's mean, scaled

ELLIPSIS = "…"


def question_terms(question: str) -> tuple[set[str], set[str], bool]:
    """(content units, exact terms, wants a number) of a question; the exact terms are the
    retriever's language-independent anchors (trial ids, numbers, acronyms)."""
    return (support_units(question), set(anchor_terms(question, tokenize(question))),
            expects_quantity(question))


def question_keys(question: str) -> tuple[set[str], set[str], bool, set[str], set[str],
                                           set[str], set[str]]:
    """What a sentence is scored against (``sentence_score``'s arguments after the sentence):
    the question's words, exact terms, whether it wants a number, and its lexicon measures,
    subjects, terms and cues."""
    units, exact, wants_number = question_terms(question)
    return (units, exact, wants_number, measures_in(question), entities_in(question),
            terms_in(question), cues_in(question))


def sentence_score(sentence: str, units: set[str], exact: set[str], wants_number: bool,
                   measures: set[str] | None = None, entities: set[str] | None = None,
                   terms: set[str] | None = None, cues: set[str] | None = None) -> float:
    """How likely ``sentence`` helps answer a question with these terms: shared words, exact
    terms, a number for a quantity question, and — through the bilingual lexicon — the asked
    measure and subjects whatever words or language the sentence uses for them."""
    score = len(units & support_units(sentence)) / max(1, len(units))
    if exact:
        score += 0.5 * len(exact & set(tokenize(sentence)))
    if wants_number and extract_numbers(sentence):
        score += 0.3
    if measures:
        score += MEASURE_WEIGHT * len(measures & measures_in(sentence))
    if entities:
        score += ENTITY_WEIGHT * len(entities & entities_in(sentence))
    if terms:
        score += TERM_WEIGHT * len(terms & terms_in(sentence))
    if cues:
        score += CUE_WEIGHT * len(cues & cues_in(sentence))
    return score


def cut_weighted(text: str, budget: int) -> str:
    """The longest prefix of ``text`` within ``budget`` weighted characters."""
    out, used = [], 0
    for ch in text:
        used += weighted_len(ch)
        if used > budget:
            break
        out.append(ch)
    return "".join(out)


_CLAUSE_END_RE = re.compile(r"[,，;；:：、]\s*")


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clause spans (absolute offsets) of text[start:end], cut after commas and semicolons."""
    spans, pos = [], start
    for m in _CLAUSE_END_RE.finditer(text, start, end):
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < end:
        spans.append((pos, end))
    return spans


def _best_window(text: str, spans: list[tuple[int, int]], scores: list[float],
                 budget: int) -> tuple[int, int]:
    """Indices [i, j) of the contiguous spans within ``budget`` with the highest total score
    (the earliest on ties); a single span over the budget forms a window on its own."""
    best = (-1.0, 0, 1)
    for i in range(len(spans)):
        total, j = 0.0, i
        while j < len(spans) and weighted_len(text[spans[i][0]:spans[j][1]]) <= budget:
            total += scores[j]
            j += 1
        if j == i:
            total, j = scores[i], i + 1
        if total > best[0]:
            best = (total, i, j)
    return best[1], best[2]


def excerpt(text: str, question: str, budget: int, semantic: Semantic | None = None) -> str:
    """The window of ``text`` most relevant to ``question`` in at most ``budget`` weighted
    characters (a CJK character counts 2), with "…" where text was left out. ``budget`` <= 0
    or a text within it: the text unchanged. ``semantic`` adds the meaning: the cosine of
    the question with each sentence (words alone miss "骨相关事件" = "SRE")."""
    if budget <= 0 or weighted_len(text) <= budget:
        return text
    asked = question_keys(question)

    def score(a: int, b: int) -> float:
        return sentence_score(text[a:b], *asked)

    spans = [(s.start, s.end) for s in split_sentences(text) if text[s.start:s.end].strip()]
    if not spans:
        spans = [(0, len(text))]
    scores = [score(a, b) for a, b in spans]
    if semantic is not None and len(spans) > 1:
        sims = list(semantic([text[a:b] for a, b in spans]))
        mean = sum(sims) / len(sims)
        scores = [s + SEMANTIC_WEIGHT * max(0.0, c - mean) for s, c in zip(scores, sims,
                                                                           strict=True)]
    i, j = _best_window(text, spans, scores, budget)
    start, end = spans[i][0], spans[j - 1][1]
    if weighted_len(text[start:end]) > budget:
        # one sentence longer than the budget: its best run of clauses instead
        clauses = _clauses(text, start, end)
        ci, cj = _best_window(text, clauses, [score(a, b) for a, b in clauses], budget)
        start, end = clauses[ci][0], clauses[cj - 1][1]
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    body = text[start:end]
    if weighted_len(body) > budget:  # a single clause still too long: its beginning
        body = cut_weighted(body, budget)
        end = start + len(body)
    prefix = ELLIPSIS if text[:start].strip() else ""
    suffix = ELLIPSIS if text[end:].strip() else ""
    return f"{prefix}{body}{suffix}"


RANK_WEIGHT = 0.15  # a sentence of the first passage over the same sentence of the last
GAP = " … "
GAP_FILL = 40  # weighted characters: a shorter gap between two kept sentences is kept too


def select_sentences(texts: Sequence[str], question: str, budget: int,
                     semantic: Semantic | None = None, max_sentence: int = 0
                     ) -> list[str]:
    """Evidence chosen across all passages at once: every sentence of ``texts`` (the passages
    in rank order) scored against the question by words, the lexicon and — with ``semantic``
    — meaning; the best sentences kept until ``budget`` weighted characters are used. Each
    passage's kept sentences come back in document order, "…" marking what was left out
    ("" for a passage with none kept). A sentence longer than ``max_sentence`` is cut to its
    best run of clauses first. A strong passage can give several sentences and a weak one
    none, where fixed windows per passage spend the budget evenly."""
    asked = question_keys(question)
    cands: list[tuple[float, int, int, int]] = []  # (score, passage, start, end)
    pieces: list[str] = []
    for i, text in enumerate(texts):
        for s in split_sentences(text):
            if not text[s.start:s.end].strip():
                continue
            start, end = s.start, s.end
            if max_sentence and weighted_len(text[start:end]) > max_sentence:
                cut = excerpt(text[start:end], question, max_sentence)
                body = cut.strip(ELLIPSIS)
                offset = text.find(body, start, end)
                if offset >= 0:
                    start, end = offset, offset + len(body)
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            piece = text[start:end]
            score = sentence_score(piece, *asked)
            score += RANK_WEIGHT * (len(texts) - i) / max(1, len(texts))
            cands.append((score, i, start, end))
            pieces.append(piece)
    if semantic is not None and pieces:
        sims = list(semantic(pieces))
        mean = sum(sims) / len(sims)
        cands = [(s + SEMANTIC_WEIGHT * max(0.0, c - mean), i, a, b)
                 for (s, i, a, b), c in zip(cands, sims, strict=True)]
    chosen: dict[int, list[tuple[int, int]]] = {}
    used = 0
    for _score, i, a, b in sorted(cands, key=lambda c: (-c[0], c[1], c[2])):
        size = weighted_len(texts[i][a:b])
        if used + size > budget:
            continue
        used += size
        chosen.setdefault(i, []).append((a, b))
    out = []
    for i, text in enumerate(texts):
        spans = _fill_gaps(text, sorted(chosen.get(i, [])))
        if not spans:
            out.append("")
            continue
        parts: list[str] = []
        last = 0
        for a, b in spans:
            gap = text[last:a]
            if gap.strip():
                parts.append(ELLIPSIS if not parts else GAP)
            elif parts:
                parts.append(gap)  # adjacent sentences: as the document writes them
            parts.append(text[a:b])
            last = b
        if text[last:].strip():
            parts.append(ELLIPSIS)
        out.append("".join(parts))
    return out


def _fill_gaps(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Kept spans with each short gap between two of them (at most ``GAP_FILL`` weighted
    characters: a clause such as "患者中位响应时间为41.1周;") kept too — a sentence cut by a
    one-clause "…" reads as two and costs the model more to join than the clause costs."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and text[out[-1][1]:a].strip() and weighted_len(text[out[-1][1]:a]) <= GAP_FILL:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out
