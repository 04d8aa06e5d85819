"""Evaluation metrics. Pure functions over plain values, unit-tested with hand-computed tables."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from assistant.citations import Similarity, parse_markers, split_answer, supporting_passages
from assistant.types import RetrievedChunk

_WS = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def chunk_is_relevant(chunk_text: str, chunk_start: int, chunk_end: int, evidence: str,
                      doc_text: str | None) -> bool:
    """A chunk is relevant when it contains the evidence quote (ignoring whitespace), or
    overlaps the quote's place in its source document by at least half of the quote."""
    if not evidence:
        return False
    if _squash(evidence) in _squash(chunk_text):
        return True
    if doc_text is None:
        return False
    where = doc_text.find(evidence)
    while where >= 0:
        overlap = min(chunk_end, where + len(evidence)) - max(chunk_start, where)
        if overlap >= len(evidence) / 2:
            return True
        where = doc_text.find(evidence, where + 1)
    return False


def evidence_ranks(relevance: Sequence[Sequence[bool]]) -> list[int | None]:
    """``relevance[e][r]``: is retrieved chunk r relevant to evidence e. Returns, per evidence,
    the 1-based rank of its first relevant chunk (None if never retrieved)."""
    ranks: list[int | None] = []
    for row in relevance:
        ranks.append(next((r + 1 for r, hit in enumerate(row) if hit), None))
    return ranks


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of evidence items found within the first k results (one item: 0 or 1)."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """1 / rank of the first relevant result for any evidence; 0 when none is found."""
    found = [r for r in ranks if r is not None]
    return 1.0 / min(found) if found else 0.0


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def answer_correct(answer: str, must: Sequence[Sequence[str]],
                   order: Sequence[Sequence[str]] | None = None) -> bool:
    """Every ``must`` group has at least one alternative in the answer (case-insensitive,
    NFKC), and, when ``order`` is given, its groups appear in that order (``order_kept``)."""
    text = _fold(answer)
    if not all(any(_fold(alt) in text for alt in group) for group in must):
        return False
    return order_kept(answer, order) if order else True


def order_kept(answer: str, order: Sequence[Sequence[str]]) -> bool:
    """Each group of ``order`` has an alternative in the answer that starts after the match
    of the group before it ends ("分别为 76% 与 44%" keeps [["76%"], ["44%"]]; "44% 与 76%"
    does not). Taking, for each group, the match that ends first finds an ordering whenever
    one exists."""
    text = _fold(answer)
    pos = 0
    for group in order:
        ends = [i + len(alt) for alt in map(_fold, group) if alt
                for i in [text.find(alt, pos)] if i >= 0]
        if not ends:
            return False
        pos = min(ends)
    return True


def evidence_read(quotes: Sequence[str], model_input: str | None) -> bool | None:
    """Were all the gold evidence quotes in what the model read (whitespace-insensitive,
    NFKC)? None when the model input is unknown or the item has no quote."""
    if model_input is None or not quotes:
        return None
    read = _squash(model_input)
    return all(_squash(q) in read for q in quotes)


class Shown(NamedTuple):
    """One question's outcome as the answer metrics see it. ``correct`` is None when the
    answer cannot be judged (an answerable question with no ``must`` and no decision)."""

    answerable: bool
    abstained: bool
    correct: bool | None


def shown_scores(outcomes: Sequence[Shown]) -> dict[str, int | float | None]:
    """What a reader was shown. An answer shown (not declined) is wrong when it is not
    correct, and always for a must-decline question. ``wrong_shown_rate`` divides by the
    answerable questions; ``precision_answered`` is correct / answers shown."""
    answerable = sum(o.answerable for o in outcomes)
    shown = [o for o in outcomes if not o.abstained and (not o.answerable or o.correct is not None)]
    correct = sum(1 for o in shown if o.answerable and o.correct)
    wrong = len(shown) - correct
    return {"answered": len(shown), "correct_answered": correct, "wrong_shown": wrong,
            "wrong_shown_rate": safe_ratio(wrong, answerable),
            "precision_answered": safe_ratio(correct, len(shown))}


DECISIONS = ("yes", "no", "maybe")


def decision_scores(gold: Sequence[str], predicted: Sequence[str | None],
                    abstained: Sequence[bool]) -> dict[str, int | float | str | None]:
    """PubMedQA yes/no/maybe: accuracy (a declined or undecided answer is wrong), the
    accuracy of always answering the most common gold label, and how many answers were
    shown without committing to a decision."""
    counts = Counter(gold)
    # ties go to the first of yes/no/maybe, so the figure does not depend on item order
    label = max(DECISIONS, key=lambda d: counts[d]) if gold else None
    return {"n": len(gold),
            "decision_accuracy": safe_ratio(sum(p == g for g, p in zip(gold, predicted,
                                                                      strict=True)), len(gold)),
            "majority_label": label,
            "majority_class": safe_ratio(counts[label], len(gold)) if label else None,
            "undecided": sum(1 for p, a in zip(predicted, abstained, strict=True)
                             if p is None and not a),
            "abstained": sum(abstained)}


# English words, or Chinese decisions — longest first, so 不确定 is "maybe" not 不; a bare 是 only
# as an answer of its own ("是。", "是，…"), never the copula of "结论是无效"
YES_NO_RE = re.compile(r"\b(yes|no|maybe)\b|(不确定|不清楚|尚不明确|不是|是的|可能|也许|"
                       r"无效|有效|否|没有|不|是(?=[，,。！!；;\s]|$))", re.IGNORECASE)
_ZH_DECISION = {"是的": "yes", "是": "yes", "有效": "yes", "否": "no", "不是": "no", "不": "no",
                "无效": "no", "没有": "no", "可能": "maybe", "也许": "maybe", "不确定": "maybe",
                "不清楚": "maybe", "尚不明确": "maybe"}


def yes_no_maybe(answer: str) -> str | None:
    """The first yes / no / maybe the answer commits to."""
    match = YES_NO_RE.search(answer)
    if not match:
        return None
    if match.group(1):
        return match.group(1).lower()
    return _ZH_DECISION[match.group(2)]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100]); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean; None when there is nothing to average (shown as "–")."""
    return sum(values) / len(values) if values else None


def safe_ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def citation_counts(answer: str, cited: Mapping[int, RetrievedChunk], language: str, *,
                    min_overlap: float = 0.5, min_semantic: float = 0.55,
                    min_semantic_numbers: float = 0.40,
                    similarity: Similarity | None = None) -> dict[str, int]:
    """ALCE-style citation recall and precision counts for one answer.

    ``cited`` maps a marker number to the passage it points at. A sentence counts for recall
    when its cited passages together support it (a sentence with no marker does not); a
    citation counts for precision when its passage is part of that support or supports the
    sentence alone. Sentences with no content of their own ("Yes.") are not counted.
    """
    counts = {"sentences": 0, "supported": 0, "citations": 0, "precise": 0}
    for sentence in split_answer(answer):
        bare, markers = parse_markers(sentence)
        if len(bare) < 4:
            continue
        counts["sentences"] += 1
        valid = [cited[m] for m in markers if m in cited]
        counts["citations"] += len(markers)
        if not valid:
            continue
        joint = supporting_passages(bare, valid, language, min_overlap=min_overlap,
                                    min_semantic=min_semantic,
                                    min_semantic_numbers=min_semantic_numbers,
                                    similarity=similarity)
        if joint:
            counts["supported"] += 1
        for index, passage in enumerate(valid):
            alone = supporting_passages(bare, [passage], language, min_overlap=min_overlap,
                                        min_semantic=min_semantic,
                                    min_semantic_numbers=min_semantic_numbers,
                                    similarity=similarity)
            if index in joint or alone:
                counts["precise"] += 1
    return counts


# -- the metric table -------------------------------------------------------------------------

@dataclass(frozen=True)
class Metric:
    """One reported metric. ``name`` is its key in metrics.json (under ``section``, for every
    group: all, per language, cross-lingual) and the name ``--fail-under`` / ``--fail-over``
    take; ``label`` and ``definition`` are what the report prints."""

    name: str
    section: str
    label: str
    definition: str
    better: Literal["higher", "lower"] = "higher"
    share: bool = True  # a value in [0, 1] (charted); False for counts and seconds


METRICS: tuple[Metric, ...] = (
    Metric("recall@1", "retrieval", "Retrieval recall@1",
           "share of an answerable question's evidence quotes held by the first retrieved "
           "passage, averaged over answerable questions"),
    Metric("recall@5", "retrieval", "Retrieval recall@5", "as recall@1, first 5 passages"),
    Metric("recall@10", "retrieval", "Retrieval recall@10", "as recall@1, first 10 passages"),
    Metric("mrr", "retrieval", "Retrieval MRR",
           "1 / rank of the first passage holding an evidence quote (0 if none), averaged"),
    Metric("correctness", "answer", "Answer correctness",
           "answerable questions whose answer holds every required fact, in the required "
           "order where the gold gives one, / answerable questions (declined = not correct)"),
    Metric("precision_answered", "answer", "Precision of answers shown",
           "correct answers / answers shown (not declined); an answer shown to a "
           "must-decline question is wrong"),
    Metric("wrong_shown", "answer", "Wrong answers shown (count)",
           "answers shown (not declined) that are not correct, must-decline questions "
           "included", better="lower", share=False),
    Metric("wrong_shown_rate", "answer", "Wrong answers shown / answerable",
           "wrong_shown / answerable questions", better="lower"),
    Metric("evidence_read", "answer", "Evidence read by the model",
           "answerable questions whose evidence quotes were all in the passages the model "
           "was given (whitespace-insensitive, NFKC) / answerable questions; – when the "
           "system does not report its model input"),
    Metric("decision_accuracy", "decision", "Decision accuracy (yes/no/maybe)",
           "answers whose first yes/no/maybe is the gold decision / questions with one "
           "(declined or undecided = wrong)"),
    Metric("majority_class", "decision", "Majority-class accuracy",
           "share of the most common gold decision: what always giving it would score"),
    Metric("undecided", "decision", "Undecided answers (count)",
           "answers shown without a yes/no/maybe", better="lower", share=False),
    Metric("precision", "citation", "Citation precision",
           "citations whose passage supports their sentence (alone or with the sentence's "
           "other citations) / citations"),
    Metric("recall", "citation", "Citation recall",
           "answer sentences supported by their cited passages / answer sentences"),
    Metric("refusal_rate_unanswerable", "abstention", "Declined, must-decline",
           "must-decline questions declined / must-decline questions"),
    Metric("false_refusal_rate", "abstention", "Declined, answerable (false refusals)",
           "answerable questions declined / answerable questions", better="lower"),
    Metric("p50_s", "latency", "Latency p50 (s)", "median answer time, seconds",
           better="lower", share=False),
    Metric("p95_s", "latency", "Latency p95 (s)", "95th percentile answer time, seconds",
           better="lower", share=False),
)
METRIC_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
