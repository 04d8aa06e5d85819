"""Eval harness: metrics on hand-computed examples, the PubMedQA loader, and small end-to-end
evals with the scripted LLM and the hashing embedder. The gold sets' integrity: test_gold.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.types import RetrievedChunk
from eval.dataset import EvalError, GoldItem, load_pubmedqa
from eval.metrics import (
    METRICS,
    Shown,
    answer_correct,
    chunk_is_relevant,
    citation_counts,
    decision_scores,
    evidence_ranks,
    evidence_read,
    order_kept,
    percentile,
    recall_at,
    reciprocal_rank,
    shown_scores,
    yes_no_maybe,
)
from eval.report import ROWS
from eval.runner import ItemResult, aggregate, check_thresholds, metrics_for, run_items

from .conftest import ROOT

GOLD = ROOT / "eval" / "gold" / "dev.jsonl"
TEST_GOLD = ROOT / "eval" / "gold" / "test.jsonl"


# -- metrics, hand-computed -------------------------------------------------------------------

@pytest.mark.parametrize("ranks, k, expected", [
    ([1], 1, 1.0), ([3], 1, 0.0), ([3], 5, 1.0), ([None], 10, 0.0),
    ([2, None], 5, 0.5), ([2, 7], 5, 0.5), ([2, 7], 10, 1.0), ([], 5, 0.0),
])
def test_recall_at(ranks, k, expected) -> None:
    assert recall_at(ranks, k) == expected


@pytest.mark.parametrize("ranks, expected", [([1], 1.0), ([4], 0.25), ([None], 0.0),
                                             ([5, 2], 0.5), ([None, 3], 1 / 3)])
def test_reciprocal_rank(ranks, expected) -> None:
    assert reciprocal_rank(ranks) == pytest.approx(expected)


def test_evidence_ranks_table() -> None:
    relevance = [[False, False, True, True], [False, False, False, False]]
    assert evidence_ranks(relevance) == [3, None]


@pytest.mark.parametrize("answer, must, expected", [
    ("ORR为28.57%。", [["28.57"]], True),
    ("The ORR was 28.57 percent", [["28.57%"]], False),
    ("Nirogacestat 76% vs placebo 44%", [["76%"], ["44%"]], True),
    ("Nirogacestat 76%", [["76%"], ["44%"]], False),
    ("GEMCITABINE was not allowed", [["gemcitabine"]], True),
    ("锶-89", [["strontium", "锶"]], True),
    ("ＯＲＲ为２８．５７％", [["28.57%"]], True),
])
def test_answer_correct(answer, must, expected) -> None:
    assert answer_correct(answer, must) is expected


NIRO = [["76%"], ["44%"]]


@pytest.mark.parametrize("answer, must, order, expected", [
    ("2年PFS率分别为76%与44%", NIRO, NIRO, True),
    ("2年PFS率分别为44%与76%", NIRO, NIRO, False),   # both facts, swapped
    ("2年PFS率分别为44%与76%", NIRO, None, True),    # no order asked
    ("2年PFS率为76%", NIRO, NIRO, False),            # a fact missing
    ("76% vs 44%", [["76%"]], NIRO, True),            # order groups need not repeat must
    ("76%", [["76%"]], NIRO, False),                  # ... but must be there
])
def test_answer_correct_with_order(answer, must, order, expected) -> None:
    assert answer_correct(answer, must, order) is expected


@pytest.mark.parametrize("answer, order, expected", [
    ("尼罗醋司他组为76%,安慰剂组为44%", NIRO, True),
    ("安慰剂组为44%,尼罗醋司他组为76%", NIRO, False),
    ("44% (placebo) vs 76%, i.e. 76% and 44%", NIRO, True),   # a later pair in order counts
    ("12", [["12"], ["2"]], False),                          # matches may not overlap
    ("中位PFS和总OS分别为4.2和12个月", [["4.2"], ["12个月", "12 months"]], True),
    ("12 months and 4.2 months", [["4.2"], ["12个月", "12 months"]], False),
    # the alternative that ends first is taken: "70" leaves room for "65", "70岁和65" not
    ("分别为70岁和65岁", [["70岁和65", "70"], ["65"]], True),
    ("ＯＲＲ２８．５７％，ＤＣＲ１００％", [["28.57%"], ["100%"]], True),  # NFKC
    ("DCR 100%, ORR 28.57%", [["28.57%"], ["100%"]], False),
    ("ECOG for ≥16, LANSKY under 16", [["ecog"], ["Lansky"]], True),   # case-insensitive
])
def test_order_kept(answer, order, expected) -> None:
    assert order_kept(answer, order) is expected


@pytest.mark.parametrize("quotes, model_input, expected", [
    (["其ORR为28.57%,疾病控制率100%"], "[1] ...其ORR为28.57%,\n疾病控制率 100% ...", True),
    (["ORR为２８．５７％"], "ORR为28.57%", True),                    # NFKC
    (["ORR为28.57%", "中位PFS达21.7个月"], "ORR为28.57%", False),   # every quote needed
    (["ORR为28.57%"], "", False),                                   # read nothing
    ([], "anything", None),                                         # nothing to look for
    (["ORR为28.57%"], None, None),                                  # input not reported
    # a chunk boundary inside the quote: read where the two passages run on (dev d2-06) ...
    (["中位PFS约3.8个月;不良反应较轻"],
     '同时中位PFS约3.8个月;\n</passage>\n<passage n="2" title="2023年">\n不良反应较轻', True),
    # ... not where something between them was left out
    (["中位PFS约3.8个月;不良反应较轻"],
     '同时中位PFS约3.8个月;…\n</passage>\n<passage n="2" title="2023年">\n…不良反应较轻', False),
])
def test_evidence_read(quotes, model_input, expected) -> None:
    assert evidence_read(quotes, model_input) is expected


_Y, _N = True, False


@pytest.mark.parametrize("outcomes, expected", [
    # right, wrong, declined (answerable); answered and declined (must-decline):
    # shown 3 (1 right), wrong 2, 3 answerable
    ([Shown(_Y, _N, _Y), Shown(_Y, _N, _N), Shown(_Y, _Y, _N), Shown(_N, _N, None),
      Shown(_N, _Y, None)],
     {"answered": 3, "correct_answered": 1, "wrong_shown": 2, "wrong_shown_rate": 2 / 3,
      "precision_answered": 1 / 3}),
    # everything declined: nothing wrong shown, precision undefined
    ([Shown(_Y, _Y, _N), Shown(_N, _Y, None)],
     {"answered": 0, "correct_answered": 0, "wrong_shown": 0, "wrong_shown_rate": 0.0,
      "precision_answered": None}),
    # only a must-decline question, answered: one wrong shown, no answerable to divide by
    ([Shown(_N, _N, None)],
     {"answered": 1, "correct_answered": 0, "wrong_shown": 1, "wrong_shown_rate": None,
      "precision_answered": 0.0}),
    # an answerable answer with nothing to judge it by is neither right nor wrong
    ([Shown(_Y, _N, None), Shown(_Y, _N, _Y)],
     {"answered": 1, "correct_answered": 1, "wrong_shown": 0, "wrong_shown_rate": 0.0,
      "precision_answered": 1.0}),
    ([], {"answered": 0, "correct_answered": 0, "wrong_shown": 0, "wrong_shown_rate": None,
          "precision_answered": None}),
])
def test_shown_scores(outcomes, expected) -> None:
    assert shown_scores(outcomes) == pytest.approx(expected)


@pytest.mark.parametrize("gold, predicted, abstained, expected", [
    (["yes", "yes", "no", "maybe"], ["yes", None, "no", "no"], [_N, _Y, _N, _N],
     {"n": 4, "decision_accuracy": 0.5, "majority_label": "yes", "majority_class": 0.5,
      "undecided": 0, "abstained": 1}),
    (["no", "no", "yes"], [None, "no", None], [_N, _N, _N],
     {"n": 3, "decision_accuracy": 1 / 3, "majority_label": "no", "majority_class": 2 / 3,
      "undecided": 2, "abstained": 0}),
    (["maybe", "no"], ["maybe", "maybe"], [_N, _N],   # a tie goes to the first of yes/no/maybe
     {"n": 2, "decision_accuracy": 0.5, "majority_label": "no", "majority_class": 0.5,
      "undecided": 0, "abstained": 0}),
    ([], [], [], {"n": 0, "decision_accuracy": None, "majority_label": None,
                  "majority_class": None, "undecided": 0, "abstained": 0}),
])
def test_decision_scores(gold, predicted, abstained, expected) -> None:
    assert decision_scores(gold, predicted, abstained) == pytest.approx(expected)


def _result(id_: str, lang: str, *, answerable: bool = True, abstained: bool = False,
            correct: bool | None = None, read: bool | None = None, error: str = "",
            latency_s: float | None = 1.0, citations: dict[str, int] | None = None
            ) -> ItemResult:
    return ItemResult(id=id_, system="clincite", question="q", lang=lang, answerable=answerable,
                      abstained=abstained, correct=correct, evidence_read=read, error=error,
                      latency_s=latency_s, citation_counts=citations or {})


def test_answer_metrics_per_language_hand_computed() -> None:
    results = [
        _result("z1", "zh", correct=True, read=True,                     # right
                citations={"sentences": 2, "supported": 1, "citations": 3, "precise": 2}),
        _result("z2", "zh", correct=False, read=False,                   # wrong, shown
                citations={"sentences": 1, "supported": 1, "citations": 1, "precise": 1}),
        _result("z3", "zh", correct=True, read=True, error="crashed"),   # not scored
        _result("e1", "en", abstained=True, correct=False),              # false refusal
        _result("e2", "en", answerable=False),                           # must-decline answered
        _result("e3", "en", answerable=False, abstained=True),           # must-decline declined
        _result("e4", "en", answerable=False, abstained=True),           # must-decline declined
    ]
    m = metrics_for(results)
    assert m["answer"] == pytest.approx({
        "n": 3, "correctness": 1 / 3, "answered": 3, "correct_answered": 1, "wrong_shown": 2,
        "wrong_shown_rate": 2 / 3, "precision_answered": 1 / 3, "evidence_read": 0.5,
        "evidence_read_n": 2})
    zh, en = m["by_language"]["zh"]["answer"], m["by_language"]["en"]["answer"]
    assert (zh["wrong_shown"], zh["wrong_shown_rate"], zh["precision_answered"],
            zh["evidence_read"]) == (1, 0.5, 0.5, 0.5)
    assert (en["wrong_shown"], en["wrong_shown_rate"], en["precision_answered"],
            en["evidence_read"]) == (1, 1.0, 0.0, None)   # e1's model input was not reported
    assert m["abstention"] == pytest.approx({
        "correct_refusals": 2, "unanswerable": 3, "false_refusals": 1, "answerable": 3,
        "refusal_rate_unanswerable": 2 / 3, "false_refusal_rate": 1 / 3})
    # citation counts add up over the answers (a declined one has none)
    assert m["citation"] == pytest.approx({"sentences": 3, "supported": 2, "citations": 4,
                                           "precise": 3, "precision": 3 / 4, "recall": 2 / 3})
    assert "decision" not in m  # only PubMedQA runs have decisions


def test_decision_metrics_from_results() -> None:
    rows = [("yes", "yes", False), ("yes", None, False), ("no", None, True), ("no", "no", False),
            ("no", "yes", False)]
    results = [ItemResult(id=str(i), system="baseline", question="q", lang="en",
                          decision_gold=g, decision=d, abstained=a, correct=d == g,
                          latency_s=1.0) for i, (g, d, a) in enumerate(rows)]
    d = aggregate(results)["decision"]
    assert d == pytest.approx({"n": 5, "decision_accuracy": 0.4, "majority_label": "no",
                               "majority_class": 0.6, "undecided": 1, "abstained": 1})


class _ScriptedSystem:
    """Answers each question with a fixed reply (None: declines) and reports, or not, the
    passages it gave its model."""

    name = "scripted"

    def __init__(self, replies: dict[str, tuple[str | None, str | None]]) -> None:
        self.replies = replies

    def doc_text(self, doc_id: str) -> None:
        return None

    def retrieve(self, question: str, k: int) -> list[RetrievedChunk]:
        return []

    def answer(self, question: str) -> dict:
        text, model_input = self.replies[question]
        out = {"text": text or "The indexed documents do not answer this question.",
               "abstained": text is None, "cited": {}, "citations": [], "latency_s": 0.1}
        if model_input is not None:
            out["model_input"] = model_input
        return out


def test_items_are_judged_with_order_and_what_the_model_read(settings) -> None:
    quote = "2年PFS率尼罗醋司他组为76%,安慰剂组为44%"
    item = {"lang": "zh", "must": NIRO, "order": NIRO, "evidence": quote, "sources": ["d"]}
    items = [GoldItem(id="kept", question="q1", **item),
             GoldItem(id="swapped", question="q2", **item),
             GoldItem(id="missing", question="q3", **item),
             GoldItem(id="declined", question="q4", **item),
             GoldItem(id="decline-me", question="q5", lang="en", answerable=False),
             GoldItem(id="declined-ok", question="q6", lang="en", answerable=False)]
    system = _ScriptedSystem({
        "q1": ("分别为76%与44%", "[1] 2年PFS率尼罗醋司他组为76%,\n安慰剂组为44%。"),
        "q2": ("分别为44%与76%", "[1] 无关的段落"),
        "q3": ("76%", None),
        "q4": (None, ""),
        "q5": ("Paris.", "[1] ..."),
        "q6": (None, None)})
    results = {r.id: r for r in run_items(system, items, {}, retrieval_only=False,
                                          settings=settings, similarity=None)}
    verdicts = {k: (r.correct, r.why, r.evidence_read) for k, r in results.items()}
    assert verdicts == {"kept": (True, "", True),
                        "swapped": (False, "required values out of order", False),
                        "missing": (False, "missing a required fact", None),
                        "declined": (False, "declined", False),
                        "decline-me": (None, "answered a must-decline question", None),
                        "declined-ok": (None, "", None)}
    answer = aggregate(list(results.values()))["answer"]
    assert (answer["wrong_shown"], answer["precision_answered"], answer["evidence_read"]) == \
        (3, 0.25, 1 / 3)


def test_aggregate_files_every_metric_of_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """A metric is computed in one place, its ``Metric.value``: aggregate files each value of
    the table under its section, a new entry included, and computes none of its own."""
    import eval.runner as runner
    from eval.metrics import Metric

    results = [ItemResult(id=str(i), system="clincite", question="q", lang="en",
                          decision_gold=g, decision=d, correct=d == g, latency_s=float(i + 1),
                          evidence_ranks=[i + 1], citation_counts={"sentences": 2,
                                                                   "supported": i % 2,
                                                                   "citations": 1, "precise": 1})
               for i, (g, d) in enumerate([("yes", "yes"), ("no", "yes"), ("no", None)])]
    metrics = aggregate(results)
    filed = {m.name: metrics[m.section][m.name] for m in METRICS}
    assert filed == pytest.approx({
        "recall@1": 1 / 3, "recall@5": 1.0, "recall@10": 1.0, "mrr": (1 + 1 / 2 + 1 / 3) / 3,
        "correctness": 1 / 3, "precision_answered": 1 / 3, "wrong_shown": 2,
        "wrong_shown_rate": 2 / 3, "evidence_read": None, "decision_accuracy": 1 / 3,
        "majority_class": 2 / 3, "undecided": 1, "precision": 1.0, "recall": 1 / 6,
        "refusal_rate_unanswerable": None, "false_refusal_rate": 0.0, "p50_s": 2.0,
        "p95_s": 2.9})
    extra = Metric("two", "answer", "Two", "always 2", lambda outcomes: 2, share=False)
    monkeypatch.setattr(runner, "METRICS", (*METRICS, extra))
    assert aggregate(results)["answer"]["two"] == 2
    monkeypatch.setattr(runner, "METRICS", ())
    assert aggregate(results)["retrieval"] == {"n": 3}  # the counts only: no value of its own


def test_one_metric_table_for_report_and_thresholds() -> None:
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    assert [key for _, _, key in ROWS] == names
    # every name the table gives is one --fail-under / --fail-over accepts
    metrics = aggregate([_result("a", "en", correct=True)])
    for m in METRICS:
        check_thresholds(metrics, [f"{m.name}=0"], over=m.better == "lower")


@pytest.mark.parametrize("text, start, end, expected", [
    ("... 其ORR为28.57%,疾病控制率100%, ...", 0, 10, True),        # contains the quote
    ("其ORR为28.57%,\n疾病控制率100%", 0, 10, True),                  # whitespace ignored
        ("其ORR为28.57%,", 100, 112, True),  # covers 12 of the 21 quote characters (100..121)
        ("为28.57%,疾病", 104, 114, False),  # covers 10 of 21: less than half
])
def test_chunk_relevance(text, start, end, expected) -> None:
    doc = "x" * 100 + "其ORR为28.57%,疾病控制率100%" + "y" * 50
    assert chunk_is_relevant(text, start, end, "其ORR为28.57%,疾病控制率100%", doc) is expected


def test_percentile_and_decisions() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5
    assert percentile([], 50) == 0.0
    assert yes_no_maybe("Yes, it does.") == "yes"
    assert yes_no_maybe("No. The study showed...") == "no"
    assert yes_no_maybe("Maybe; evidence is mixed") == "maybe"
    assert yes_no_maybe("The documents do not say") is None


def _chunk(n: int, text: str, language: str = "en") -> RetrievedChunk:
    return RetrievedChunk(chunk_id=f"c{n}", doc_id=f"d{n}", title="", text=text, start=0,
                          end=len(text), language=language)


def test_citation_counts_hand_computed() -> None:
    p1 = _chunk(1, "The ORR was 10.13% and the median PFS was 5.63 months.")
    p2 = _chunk(2, "Osteosarcoma is a primary bone malignant tumor.")
    answer = ("The ORR was 10.13% [1][2]. The median PFS was 9.9 months [1]. "
              "Osteosarcoma is a primary bone malignant tumor.")
    counts = citation_counts(answer, {1: p1, 2: p2}, "en")
    # 3 sentences: #1 supported (by [1]); #2 wrong number; #3 has no citation
    # 3 citations: [1] on #1 precise, [2] on #1 not, [1] on #2 not
    assert counts == {"sentences": 3, "supported": 1, "citations": 3, "precise": 1}


def test_citation_counts_go_on_past_short_and_unmarked_sentences() -> None:
    p1 = _chunk(1, "The ORR was 10.13% and the median PFS was 5.63 months.")
    p2 = _chunk(2, "Osteosarcoma is a primary bone malignant tumor.")
    answer = ("Osteosarcoma is a primary bone malignant tumor [2]. OK. No marker here at all. "
              "The ORR was 10.13% [1][2].")
    # "OK." is not counted; the unmarked sentence counts, unsupported; two supported sentences
    # with 3 citations, of which [2] on the ORR sentence is not precise
    assert citation_counts(answer, {1: p1, 2: p2}, "en") == {
        "sentences": 3, "supported": 2, "citations": 3, "precise": 2}


def test_citation_counts_do_not_count_a_bare_yes() -> None:
    """Found by mutation testing: "Yes." (4 characters with its full stop) was counted as an
    unsupported sentence, although it has no content of its own; "Rare." has."""
    p1 = _chunk(1, "The ORR was 10.13% and the median PFS was 5.63 months.")
    counts = citation_counts("Yes. The ORR was 10.13% [1].", {1: p1}, "en")
    assert counts["sentences"] == 1
    assert citation_counts("Rare. The ORR was 10.13% [1].", {1: p1}, "en")["sentences"] == 2


def test_thresholds() -> None:
    metrics = {"retrieval": {"recall@5": 0.8, "mrr": 0.7},
               "answer": {"correctness": None, "wrong_shown_rate": 0.1},
               "abstention": {"false_refusals": 3}}
    assert check_thresholds(metrics, ["recall@5=0.75"]) == []
    assert check_thresholds(metrics, ["recall@5=0.9"]) == ["recall@5 = 0.800 < 0.900"]
    assert check_thresholds(metrics, ["correctness=0.5"])  # not measured counts as failing
    assert check_thresholds(metrics, ["decision_accuracy=0.5"])  # nor does a gold run's
    assert check_thresholds(metrics, ["wrong_shown_rate=0.2"], over=True) == []
    assert check_thresholds(metrics, ["wrong_shown_rate=0.05"], over=True) == [
        "wrong_shown_rate = 0.100 > 0.050"]
    assert check_thresholds(metrics, ["abstention.false_refusals=2"], over=True) == [
        "abstention.false_refusals = 3 > 2.000"]
    with pytest.raises(EvalError, match="unknown metric"):
        check_thresholds(metrics, ["bogus=1"])
    with pytest.raises(EvalError, match="--fail-over: no 'answer.bogus'"):
        check_thresholds(metrics, ["answer.bogus=1"], over=True)
    with pytest.raises(EvalError, match="use metric=value"):
        check_thresholds(metrics, ["recall@5"])


# -- PubMedQA ---------------------------------------------------------------------------------

PQA = {
    "111": {"QUESTION": "Does drug A reduce pain after surgery?",
            "CONTEXTS": ["Patients received drug A.", "Pain scores fell by 30%."],
            "LABELS": ["METHODS", "RESULTS"], "final_decision": "yes", "LONG_ANSWER": "Yes."},
    "222": {"QUESTION": "Is marker B prognostic in sarcoma?",
            "CONTEXTS": ["Marker B was measured in 80 sarcomas."], "LABELS": ["METHODS"],
            "final_decision": "maybe", "LONG_ANSWER": "Unclear."},
}


def test_pubmedqa_loader_reads_any_file_of_the_format(tmp_path: Path) -> None:
    path = tmp_path / "heldout.json"
    path.write_text(json.dumps(PQA))
    docs, items = load_pubmedqa(path)
    assert [d.doc_id for d in docs] == ["pubmed:111", "pubmed:222"]
    assert "Results: Pain scores fell by 30%." in docs[0].text
    assert items[0].sources == ["pubmed:111"] and items[0].decision == "yes"
    assert len(load_pubmedqa(path, limit=1)[1]) == 1


def test_shared_pubmedqa_dev_loads() -> None:
    path = ROOT.parent / "shared" / "pubmedqa" / "pqal_dev.json"
    if not path.exists():
        pytest.skip("shared/pubmedqa not present")
    docs, items = load_pubmedqa(path)
    assert len(docs) == len(items) == 500
    assert {i.decision for i in items} == {"yes", "no", "maybe"}


def test_pubmedqa_eval_reports_decisions_side_by_side(tmp_path: Path, capsys) -> None:
    path = tmp_path / "pqa.json"
    more = {"333": {"QUESTION": "Does drug C prolong survival in osteosarcoma?",
                    "CONTEXTS": ["Drug C did not prolong survival in 120 patients."],
                    "LABELS": ["RESULTS"], "final_decision": "no"},
            "444": {"QUESTION": "Is imaging D accurate for bone metastases?",
                    "CONTEXTS": ["Imaging D detected 95% of bone metastases."],
                    "LABELS": ["RESULTS"], "final_decision": "yes"}}
    path.write_text(json.dumps({**PQA, **more}))
    out = tmp_path / "run"
    assert main(["eval", "--pubmedqa", str(path), "--out", str(out), "--baseline"]) == 0, \
        capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    results = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    for system, m in (("clincite", metrics), ("baseline", metrics["baseline"])):
        mine = [r for r in results if r["system"] == system]
        d = m["decision"]
        assert d["n"] == len(mine) == 4
        assert (d["majority_label"], d["majority_class"]) == ("yes", 0.5)  # yes yes no maybe
        assert d["decision_accuracy"] == sum(r["decision"] == r["decision_gold"]
                                             for r in mine) / 4
        assert d["undecided"] == sum(r["decision"] is None and not r["abstained"] for r in mine)
    report = (out / "report.md").read_text()
    assert report.startswith("# ClinCite evaluation: PubMedQA pqa.json")
    assert "Decision accuracy over 4 questions: ClinCite " in report
    assert "; Baseline " in report and "most common label (yes) scores 0.500" in report
    assert "| Majority-class accuracy |" in report and "| Undecided answers (count) |" in report


def test_a_baseline_run_is_paired_with_a_later_clincite_run(tmp_path: Path, capsys) -> None:
    # the baseline's code does not change with ClinCite's: its long PubMedQA run is made once
    # (--baseline-only) and set beside each new ClinCite run (--baseline-from)
    path = tmp_path / "pqa.json"
    path.write_text(json.dumps(PQA))
    base = tmp_path / "base"
    assert main(["eval", "--pubmedqa", str(path), "--out", str(base), "--baseline-only"]) == 0
    assert "baseline only: decision accuracy" in capsys.readouterr().out
    base_rows = [json.loads(x) for x in (base / "results.jsonl").read_text().splitlines()]
    assert [r["system"] for r in base_rows] == ["baseline", "baseline"]
    base_metrics = json.loads((base / "metrics.json").read_text())
    assert base_metrics["n"] == 0 and base_metrics["baseline"]["n"] == 2
    assert "baseline_s" in base_metrics["timing"]

    out = tmp_path / "run"
    assert main(["eval", "--pubmedqa", str(path), "--out", str(out),
                 "--baseline-from", str(base)]) == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [r["system"] for r in rows] == ["clincite", "clincite", "baseline", "baseline"]
    assert rows[2:] == base_rows  # the baseline's answers, word for word
    assert metrics["n"] == 2
    assert metrics["baseline"]["decision"] == base_metrics["baseline"]["decision"]
    assert metrics["timing"]["baseline_s"] == base_metrics["timing"]["baseline_s"]
    assert metrics["baseline_from"] == str(base)
    assert "; Baseline " in (out / "report.md").read_text()

    # a ClinCite run made before the baseline's finished is paired with it afterwards
    alone = tmp_path / "alone"
    assert main(["eval", "--pubmedqa", str(path), "--out", str(alone)]) == 0
    assert "baseline" not in json.loads((alone / "metrics.json").read_text())
    assert main(["eval", "pair", str(alone), str(base)]) == 0
    paired = json.loads((alone / "metrics.json").read_text())
    assert paired["baseline"]["decision"] == base_metrics["baseline"]["decision"]
    assert paired["decision"] == metrics["decision"]  # ClinCite's own figures unchanged
    rows = [json.loads(x) for x in (alone / "results.jsonl").read_text().splitlines()]
    assert [r["system"] for r in rows] == ["clincite", "clincite", "baseline", "baseline"]
    assert "; Baseline " in (alone / "report.md").read_text()
    code = main(["eval", "pair", str(base), str(base)])
    assert code != 0 and "holds no ClinCite answers" in capsys.readouterr().err
    # a missing baseline run is one line too (it was a FileNotFoundError traceback)
    code = main(["eval", "pair", str(alone), str(tmp_path / "nothing")])
    err = capsys.readouterr().err
    assert code != 0 and "pair: no results.jsonl in" in err and "Traceback" not in err

    # a run over other items cannot be paired: one line says what to do
    code = main(["eval", "--pubmedqa", str(path), "--limit", "1", "--out",
                 str(tmp_path / "one"), "--baseline-from", str(base)])
    err = capsys.readouterr().err
    assert code != 0 and "holds the baseline's answers to 2 other items" in err
    assert "Traceback" not in err
    code = main(["eval", "--pubmedqa", str(path), "--out", str(tmp_path / "x"),
                 "--baseline-from", str(tmp_path / "nothing")])
    assert code != 0 and "no results.jsonl in" in capsys.readouterr().err


# -- end to end, scripted LLM -----------------------------------------------------------------

def test_small_eval_end_to_end(tmp_path: Path, corpus: Path, capsys) -> None:
    gold = tmp_path / "tiny.jsonl"
    lines = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    chosen = [g for g in lines if g["id"] in {"en-12", "zh-01", "en-28", "en-11"}]
    gold.write_text("\n".join(json.dumps(g, ensure_ascii=False) for g in chosen) + "\n",
                    encoding="utf-8")
    out = tmp_path / "run"
    code = main(["eval", "--gold", str(gold), "--corpus", str(corpus), "--out", str(out),
                 "--baseline"])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("n", "retrieval", "answer", "citation", "abstention", "latency",
                "by_language", "cross_lingual"):
        assert key in metrics
    assert set(metrics["retrieval"]) >= {"recall@1", "recall@5", "mrr"}
    assert set(metrics["abstention"]) >= {"correct_refusals", "unanswerable", "false_refusals",
                                          "answerable"}
    assert set(metrics["answer"]) >= {"correctness", "wrong_shown", "wrong_shown_rate",
                                      "precision_answered", "evidence_read"}
    for group in (metrics, *metrics["by_language"].values(), metrics["baseline"]):
        assert group["answer"]["wrong_shown"] >= 0
    # the baseline reports the passages it gave its model, for each answerable question
    assert metrics["baseline"]["answer"]["evidence_read_n"] == 3
    assert metrics["n"] == 4 and metrics["abstention"]["unanswerable"] == 1
    assert set(metrics["by_language"]) == {"zh", "en"}
    assert "baseline" in metrics and metrics["baseline"]["n"] == 4
    results = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert len(results) == 8 and all(not r["error"] for r in results)
    ours = {r["id"]: r for r in results if r["system"] == "clincite"}
    # the extractive stand-in quotes the ALTER-S004 sentence: checked, cited and correct
    assert ours["zh-01"]["correct"] is True and ours["zh-01"]["citations"]
    assert "28.57%" in ours["zh-01"]["citations"][0]["quote"]
    assert ours["en-28"]["abstained"] is True  # "What is the capital of France?"
    assert metrics["run"]["split"] == "tiny.jsonl"
    report = (out / "report.md").read_text()
    assert report.startswith("# ClinCite evaluation: tiny.jsonl")
    assert "| Retrieval recall@5 |" in report and "Baseline all" in report
    assert "| Wrong answers shown (count) |" in report and "`wrong_shown_rate`" in report
    assert "Decision accuracy" not in report  # no decisions on a gold set
    assert "<img" in (out / "report.html").read_text()

    # thresholds and compare
    assert main(["eval", "--gold", str(gold), "--corpus", str(corpus), "--out",
                 str(tmp_path / "run2"), "--retrieval-only", "--fail-under",
                 "recall@5=1.01"]) == 1
    assert "below threshold" in capsys.readouterr().err
    assert main(["eval", "compare", str(out), str(tmp_path / "run2")]) == 0
    assert "all: Retrieval recall@5" in capsys.readouterr().out
    assert main(["eval", "--gold", str(gold), "--corpus", str(corpus), "--out",
                 str(tmp_path / "run3"), "--fail-over", "wrong_shown=-1"]) == 1
    assert "above threshold: wrong_shown = " in capsys.readouterr().err


@pytest.mark.parametrize("gold, split", [(TEST_GOLD, "test.jsonl"), (GOLD, "dev.jsonl"),
                                         (GOLD.parent / "sample_gold.jsonl", "dev.jsonl")])
def test_eval_runs_either_split_and_names_it(tmp_path: Path, corpus: Path, gold: Path,
                                             split: str) -> None:
    out = tmp_path / "run"
    assert main(["eval", "--gold", str(gold), "--corpus", str(corpus), "--out", str(out),
                 "--retrieval-only", "--limit", "3"]) == 0
    assert json.loads((out / "metrics.json").read_text())["run"]["split"] == split
    assert (out / "report.md").read_text().startswith(f"# ClinCite evaluation: {split}")


def test_misspelt_threshold_fails_before_the_run(tmp_path: Path, capsys) -> None:
    code = main(["eval", "--gold", str(GOLD), "--out", str(tmp_path / "run"),
                 "--fail-over", "wrong_shwon=0.1"])
    assert code != 0 and "unknown metric 'wrong_shwon'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_eval_records_failing_items_and_exits_nonzero(tmp_path: Path, corpus: Path,
                                                      monkeypatch, capsys) -> None:
    from eval import runner

    gold = tmp_path / "g.jsonl"
    gold.write_text(GOLD.read_text(encoding="utf-8").splitlines()[0] + "\n" +
                    GOLD.read_text(encoding="utf-8").splitlines()[1] + "\n", encoding="utf-8")
    original = runner.ClinCiteSystem.answer
    calls = {"n": 0}

    def flaky(self, question):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("model crashed")
        return original(self, question)

    monkeypatch.setattr(runner.ClinCiteSystem, "answer", flaky)
    out = tmp_path / "run"
    assert main(["eval", "--gold", str(gold), "--corpus", str(corpus), "--out", str(out)]) == 1
    results = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert "model crashed" in results[0]["error"] and not results[1]["error"]
    assert json.loads((out / "metrics.json").read_text())["errors"] == 1


@pytest.mark.parametrize("answer, order, kept", [
    ("分别为76%与44%", [["76%"], ["44%"]], True),
    ("分别为44%与76%", [["76%"], ["44%"]], False),
    # the first match of a group is the one that counts: a later repeat cannot spoil it
    ("76% and 44%; later 76% again", [["76%"], ["44%"]], True),
    # the next group must start after the previous match ends, not inside it
    ("ORR 10.13%", [["10.13%"], ["13%"]], False),
    ("ORR 10.13% vs 13%", [["10.13%"], ["13%"]], True),
    # alternatives: the one that ends first sets where the next group may start
    ("DCR 100% ORR 28.57%", [["ORR", "DCR"], ["28.57%"]], True),
    ("", [["x"]], False),
])
def test_order_kept_first_match_and_alternatives(answer: str, order, kept: bool) -> None:
    from eval.metrics import order_kept

    assert order_kept(answer, order) is kept


DOC = "ORR 10%. " + "x" * 20 + " ORR 10%. end"  # the quote "ORR 10%." at 0 and at 30


@pytest.mark.parametrize("chunk_text, start, end, evidence, doc, relevant", [
    ("", 0, 0, "", DOC, False),  # no evidence: nothing is relevant
    ("the ORR  10%. was", 100, 117, "ORR 10%.", None, True),  # contains it, spaces aside
    ("xxxx", 9, 13, "ORR 10%.", None, False),  # no document: containment only
    # overlap with the quote's place in the document: half the quote (8 chars) is enough
    (DOC[4:9], 4, 9, "ORR 10%.", DOC, True),  # 4 of 8 characters of the first place
    (DOC[5:12], 5, 12, "ORR 10%.", DOC, False),  # 3 of 8
    (DOC[0:4], 0, 4, "ORR 10%.", DOC, True),  # a place at offset 0 counts
    (DOC[33:40], 33, 40, "ORR 10%.", DOC, True),  # the second place counts too
    (DOC[30:34], 30, 34, "ORR 10%.", DOC, True),  # 4 of 8 of the second place
])
def test_chunk_is_relevant(chunk_text: str, start: int, end: int, evidence: str,
                           doc: str | None, relevant: bool) -> None:
    from eval.metrics import chunk_is_relevant

    assert chunk_is_relevant(chunk_text, start, end, evidence, doc) is relevant


def test_chunk_is_relevant_at_a_middle_place_of_the_quote() -> None:
    from eval.metrics import chunk_is_relevant

    doc = "ORR 10%. aaaa ORR 10%. bbbb ORR 10%."  # the quote at 0, 14 and 28
    assert chunk_is_relevant(doc[16:22], 16, 22, "ORR 10%.", doc)  # 6 of 8 of the middle one



@pytest.mark.parametrize("answer, decision", [
    ("Yes, it does.", "yes"), ("No.", "no"), ("Maybe so", "maybe"),
    ("是的，有效。", "yes"), ("否，无效。", "no"), ("不是。", "no"), ("可能有效。", "maybe"),
    ("The answer is unclear", None),
])
def test_yes_no_maybe(answer: str, decision: str | None) -> None:
    from eval.metrics import yes_no_maybe

    assert yes_no_maybe(answer) == decision


# found by mutation testing: any 是 (the copula) read as 'yes' and 不确定 ('not sure') as 'no'
@pytest.mark.parametrize("answer, decision", [("结论是无效。", "no"), ("不确定。", "maybe")])
def test_yes_no_maybe_chinese_copula_and_uncertainty(answer: str, decision: str) -> None:
    from eval.metrics import yes_no_maybe

    assert yes_no_maybe(answer) == decision


def test_a_stopped_run_goes_on_with_resume(tmp_path: Path, monkeypatch, capsys) -> None:
    # a 500-item PubMedQA run takes hours here; one stopped near its end kept nothing. Now each
    # item is journalled as it is answered and --resume asks only the items not yet answered.
    from eval import runner

    path = tmp_path / "pqa.json"
    path.write_text(json.dumps(PQA))
    out = tmp_path / "run"
    original = runner.ClinCiteSystem.answer
    asked: list[str] = []

    def stops_at_second(self, question):
        if asked:
            raise KeyboardInterrupt  # the session ends, or someone presses Ctrl-C
        asked.append(question)
        return original(self, question)

    monkeypatch.setattr(runner.ClinCiteSystem, "answer", stops_at_second)
    assert main(["eval", "--pubmedqa", str(path), "--out", str(out)]) == 130
    assert not (out / "results.jsonl").exists()
    journal = (out / "journal.jsonl").read_text().splitlines()
    assert len(journal) == 2 and json.loads(journal[1])["id"] == "111"

    again: list[str] = []

    def counts(self, question):
        again.append(question)
        return original(self, question)

    monkeypatch.setattr(runner.ClinCiteSystem, "answer", counts)
    # resuming with other options is refused in one line, the journal kept
    code = main(["eval", "--pubmedqa", str(path), "--out", str(out), "--limit", "1",
                 "--resume"])
    err = capsys.readouterr().err
    assert code != 0 and "is of another run (items:" in err and "Traceback" not in err
    assert not again and len((out / "journal.jsonl").read_text().splitlines()) == 2
    assert main(["eval", "--pubmedqa", str(path), "--out", str(out), "--resume"]) == 0
    assert [q.split("?")[0] for q in again] == ["Is marker B prognostic in sarcoma"]
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["111", "222"]
    assert rows[0]["answer"] == json.loads(journal[1])["answer"]  # kept, not asked again
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["decision"]["n"] == 2 and metrics["timing"]["resumed_items"] == 1
    assert not (out / "journal.jsonl").exists()  # the finished run's files are the record
    # without --resume a run starts again from the first item
    again.clear()
    assert main(["eval", "--pubmedqa", str(path), "--out", str(out)]) == 0
    assert len(again) == 2


def test_a_baseline_journal_survives_a_change_of_clincite_settings(tmp_path: Path) -> None:
    # the baseline's 500 PubMedQA answers take hours and depend only on its embedder and LLM:
    # a ClinCite setting added or changed meanwhile (answer.quote_passages_more, round 6) made
    # its journal "of another run"
    from assistant.config import Settings
    from eval.runner import baseline_fingerprint

    base = Settings()
    answer = base.model_copy(update={"answer": base.answer.model_copy(
        update={"quote_passages_more": 3})})
    llm = base.model_copy(update={"llm": base.llm.model_copy(update={"model": "openai:x"})})
    assert base.fingerprint() != answer.fingerprint()
    assert baseline_fingerprint(base) == baseline_fingerprint(answer)
    assert baseline_fingerprint(base) != baseline_fingerprint(llm)
