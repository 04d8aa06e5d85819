"""Eval harness: metrics on hand-computed examples, the PubMedQA loader, and small end-to-end
evals with the scripted LLM and the hashing embedder. The gold sets' integrity: test_gold.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.types import RetrievedChunk
from eval.dataset import EvalError, load_pubmedqa
from eval.metrics import (answer_correct, chunk_is_relevant, citation_counts, evidence_ranks,
                          order_kept, percentile, recall_at, reciprocal_rank, yes_no_maybe)
from eval.runner import check_thresholds

from .conftest import ROOT

GOLD = ROOT / "eval" / "gold" / "dev.jsonl"


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


def test_thresholds() -> None:
    metrics = {"retrieval": {"recall@5": 0.8, "mrr": 0.7}, "answer": {"correctness": None}}
    assert check_thresholds(metrics, ["recall@5=0.75"]) == []
    assert check_thresholds(metrics, ["recall@5=0.9"]) == ["recall@5 = 0.800 < 0.900"]
    assert check_thresholds(metrics, ["correctness=0.5"])  # not measured counts as failing
    with pytest.raises(EvalError, match="unknown metric"):
        check_thresholds(metrics, ["bogus=1"])


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
    report = (out / "report.md").read_text()
    assert "| Retrieval recall@5 |" in report and "Baseline all" in report
    assert "<img" in (out / "report.html").read_text()

    # thresholds and compare
    assert main(["eval", "--gold", str(gold), "--corpus", str(corpus), "--out",
                 str(tmp_path / "run2"), "--retrieval-only", "--fail-under",
                 "recall@5=1.01"]) == 1
    assert "below threshold" in capsys.readouterr().err
    assert main(["eval", "compare", str(out), str(tmp_path / "run2")]) == 0
    assert "all: Retrieval recall@5" in capsys.readouterr().out


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
