"""Evaluation metrics. Pure functions over plain values, unit-tested with hand-computed tables."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

from assistant.citations import Similarity, parse_markers, split_answer, supporting_passages
from assistant.decide import ZH_DECISION_WORDS, ZH_DECISIONS
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


# where one passage the model reads ends and the next begins ("…</passage>\n<passage n="2"
# title="…">\n…"): a quote that runs on from one into the next is read as one text
_PASSAGE_JOIN_RE = re.compile(r"</passage>\s*<passage\b[^>]*>")


def evidence_read(quotes: Sequence[str], model_input: str | None) -> bool | None:
    """Were all the gold evidence quotes in what the model read (whitespace-insensitive,
    NFKC)? A quote that two consecutive passages split between them (a chunk boundary in the
    middle of it, nothing left out on either side) counts as read. None when the model input
    is unknown or the item has no quote."""
    if model_input is None or not quotes:
        return None
    read = _squash(model_input)
    joined = _squash(_PASSAGE_JOIN_RE.sub("", model_input))
    return all(q in read or q in joined for q in map(_squash, quotes))


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


# English words, or Chinese decisions (assistant.decide's table) — longest first, so 不确定 is
# "maybe" not 不; a bare 是 only as an answer of its own ("是。", "是，…"), never the copula of
# "结论是无效"
_ZH_WORDS = [r"是(?=[，,。！!；;\s]|$)" if w == "是" else w for w in ZH_DECISION_WORDS]
YES_NO_RE = re.compile(r"\b(yes|no|maybe)\b|(" + "|".join(_ZH_WORDS) + ")", re.IGNORECASE)


def yes_no_maybe(answer: str) -> str | None:
    """The first yes / no / maybe the answer commits to."""
    match = YES_NO_RE.search(answer)
    if not match:
        return None
    if match.group(1):
        return match.group(1).lower()
    return ZH_DECISIONS[match.group(2)]


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
        if len(bare.strip().rstrip(".。!！?？")) < 4:
            continue  # "Yes.", "否。": no content of its own
        counts["sentences"] += 1
        valid = [cited[m] for m in markers if m in cited]
        counts["citations"] += len(markers)
        if not valid:
            continue
        joint = supporting_passages(bare, valid, language, min_overlap=min_overlap,
                                    min_semantic=min_semantic,
                                    similarity=similarity)
        if joint:
            counts["supported"] += 1
        for index, passage in enumerate(valid):
            alone = supporting_passages(bare, [passage], language, min_overlap=min_overlap,
                                        min_semantic=min_semantic,
                                    similarity=similarity)
            if index in joint or alone:
                counts["precise"] += 1
    return counts


# -- the metric table -------------------------------------------------------------------------

class Outcome(Protocol):
    """What the metrics read of one question's result (``eval.runner.ItemResult``)."""

    @property
    def answerable(self) -> bool: ...
    @property
    def abstained(self) -> bool: ...
    @property
    def correct(self) -> bool | None: ...
    @property
    def evidence_ranks(self) -> Sequence[int | None]: ...
    @property
    def evidence_read(self) -> bool | None: ...
    @property
    def citation_counts(self) -> Mapping[str, int]: ...
    @property
    def latency_s(self) -> float | None: ...
    @property
    def decision(self) -> str | None: ...
    @property
    def decision_gold(self) -> str | None: ...


Value = int | float | None
Outcomes = Sequence[Outcome]


# the groups of questions the metrics are taken over (errored items are left out before)

def _ranked(results: Outcomes) -> list[Outcome]:
    """Answerable questions whose retrieval was scored against evidence."""
    return [r for r in results if r.answerable and r.evidence_ranks]


def _judged(results: Outcomes) -> list[Outcome]:
    """Answers with a verdict (answerable, with required facts or a decision)."""
    return [r for r in results if r.correct is not None]


def _ran(results: Outcomes, answerable: bool) -> list[Outcome]:
    """Questions the answer step ran for, answerable or must-decline."""
    return [r for r in results if r.answerable == answerable and r.latency_s is not None]


def _shown(results: Outcomes) -> dict[str, Value]:
    ran = _ran(results, True) + _ran(results, False)
    return shown_scores([Shown(r.answerable, r.abstained, r.correct) for r in ran])


def _read(results: Outcomes) -> list[bool]:
    return [r.evidence_read for r in _ran(results, True) if r.evidence_read is not None]


def _citations(results: Outcomes) -> dict[str, int]:
    counts = {"sentences": 0, "supported": 0, "citations": 0, "precise": 0}
    for r in results:
        for key in counts:
            counts[key] += r.citation_counts.get(key, 0)
    return counts


def _decisions(results: Outcomes) -> dict[str, int | float | str | None]:
    decided = [r for r in _ran(results, True) + _ran(results, False) if r.decision_gold]
    return decision_scores([r.decision_gold or "" for r in decided],
                           [r.decision for r in decided], [r.abstained for r in decided])


def _latency(q: float) -> Callable[[Outcomes], Value]:
    def value(results: Outcomes) -> Value:
        seconds = [r.latency_s for r in results if r.latency_s is not None]
        return percentile(seconds, q) if seconds else None
    return value


def _recall(k: int) -> Callable[[Outcomes], Value]:
    return lambda results: mean([recall_at(r.evidence_ranks, k) for r in _ranked(results)])


def _refusals(answerable: bool) -> Callable[[Outcomes], Value]:
    def value(results: Outcomes) -> Value:
        ran = _ran(results, answerable)
        return safe_ratio(sum(r.abstained for r in ran), len(ran))
    return value


def _decision(key: str) -> Callable[[Outcomes], Value]:
    def value(results: Outcomes) -> Value:
        figure = _decisions(results)[key]
        return None if isinstance(figure, str) else figure  # a label is not a metric
    return value


def section_counts(results: Outcomes, decisions: bool) -> dict[str, dict[str, Any]]:
    """The counts metrics.json gives beside the metrics of each section (how many questions
    each was taken over, and the like), by section; ``decision`` only with ``decisions``
    (PubMedQA). Not metrics: no threshold or report row reads them by bare name."""
    read = _read(results)
    shown = _shown(results)
    sections: dict[str, dict[str, Any]] = {
        "retrieval": {"n": len(_ranked(results))},
        "answer": {"n": len(_judged(results)), "answered": shown["answered"],
                   "correct_answered": shown["correct_answered"], "evidence_read_n": len(read)},
        "citation": _citations(results),
        "abstention": {"correct_refusals": sum(r.abstained for r in _ran(results, False)),
                       "unanswerable": len(_ran(results, False)),
                       "false_refusals": sum(r.abstained for r in _ran(results, True)),
                       "answerable": len(_ran(results, True))},
        "latency": {},
    }
    if decisions:
        d = _decisions(results)
        sections["decision"] = {"n": d["n"], "majority_label": d["majority_label"],
                                "abstained": d["abstained"]}
    return sections


@dataclass(frozen=True)
class Metric:
    """One reported metric. ``name`` is its key in metrics.json (under ``section``, for every
    group: all, per language, cross-lingual) and the name ``--fail-under`` / ``--fail-over``
    take; ``label`` and ``definition`` are what the report prints; ``value`` computes it from
    one group's results (errored items left out), and is the only place it is computed."""

    name: str
    section: str
    label: str
    definition: str
    value: Callable[[Outcomes], Value]
    better: Literal["higher", "lower"] = "higher"
    share: bool = True  # a value in [0, 1] (charted); False for counts and seconds


METRICS: tuple[Metric, ...] = (
    Metric("recall@1", "retrieval", "Retrieval recall@1",
           "share of an answerable question's evidence quotes held by the first retrieved "
           "passage, averaged over answerable questions", _recall(1)),
    Metric("recall@5", "retrieval", "Retrieval recall@5", "as recall@1, first 5 passages",
           _recall(5)),
    Metric("recall@10", "retrieval", "Retrieval recall@10", "as recall@1, first 10 passages",
           _recall(10)),
    Metric("mrr", "retrieval", "Retrieval MRR",
           "1 / rank of the first passage holding an evidence quote (0 if none), averaged",
           lambda rs: mean([reciprocal_rank(r.evidence_ranks) for r in _ranked(rs)])),
    Metric("correctness", "answer", "Answer correctness",
           "answerable questions whose answer holds every required fact, in the required "
           "order where the gold gives one, / answerable questions (declined = not correct)",
           lambda rs: mean([1.0 if r.correct else 0.0 for r in _judged(rs)])),
    Metric("precision_answered", "answer", "Precision of answers shown",
           "correct answers / answers shown (not declined); an answer shown to a "
           "must-decline question is wrong", lambda rs: _shown(rs)["precision_answered"]),
    Metric("wrong_shown", "answer", "Wrong answers shown (count)",
           "answers shown (not declined) that are not correct, must-decline questions "
           "included", lambda rs: _shown(rs)["wrong_shown"], better="lower", share=False),
    Metric("wrong_shown_rate", "answer", "Wrong answers shown / answerable",
           "wrong_shown / answerable questions", lambda rs: _shown(rs)["wrong_shown_rate"],
           better="lower"),
    Metric("evidence_read", "answer", "Evidence read by the model",
           "answerable questions whose evidence quotes were all in the passages the model "
           "was given (whitespace-insensitive, NFKC) / answerable questions; – when the "
           "system does not report its model input",
           lambda rs: mean([1.0 if x else 0.0 for x in _read(rs)])),
    Metric("decision_accuracy", "decision", "Decision accuracy (yes/no/maybe)",
           "answers whose first yes/no/maybe is the gold decision / questions with one "
           "(declined or undecided = wrong)", _decision("decision_accuracy")),
    Metric("majority_class", "decision", "Majority-class accuracy",
           "share of the most common gold decision: what always giving it would score",
           _decision("majority_class")),
    Metric("undecided", "decision", "Undecided answers (count)",
           "answers shown without a yes/no/maybe", _decision("undecided"), better="lower",
           share=False),
    Metric("precision", "citation", "Citation precision",
           "citations whose passage supports their sentence (alone or with the sentence's "
           "other citations) / citations",
           lambda rs: safe_ratio(_citations(rs)["precise"], _citations(rs)["citations"])),
    Metric("recall", "citation", "Citation recall",
           "answer sentences supported by their cited passages / answer sentences",
           lambda rs: safe_ratio(_citations(rs)["supported"], _citations(rs)["sentences"])),
    Metric("refusal_rate_unanswerable", "abstention", "Declined, must-decline",
           "must-decline questions declined / must-decline questions", _refusals(False)),
    Metric("false_refusal_rate", "abstention", "Declined, answerable (false refusals)",
           "answerable questions declined / answerable questions", _refusals(True),
           better="lower"),
    Metric("p50_s", "latency", "Latency p50 (s)", "median answer time, seconds",
           _latency(50), better="lower", share=False),
    Metric("p95_s", "latency", "Latency p95 (s)", "95th percentile answer time, seconds",
           _latency(95), better="lower", share=False),
)
METRIC_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
