"""Answering with the embedded models, side by side with the LangChain baseline, in one run.

Both systems get a fresh empty index (temporary data dir), the same loaded EmbeddingGemma and
the same loaded Qwen2.5 GGUF (each loaded once; the bench checks the process cache holds one of
each). Measured in this order on the gold questions:

* ingest of the sample corpus: ClinCite's pipeline vs the baseline (LangChain
  RecursiveCharacterTextSplitter 1000/200 + langchain_chroma, no checking);
* query latency: each system's retrieval of 10 passages per question (also used for recall@5);
* answers: ClinCite through ``Assistant.stream`` (time to first token, total, and where the time
  goes: retrieval, prompt processing, generation, checking; prompt tokens counted with the
  model's tokenizer) and the baseline's chain (streamed too, for its first token);
* correctness, declines and false refusals as the eval harness scores them.

A warm-up question per system is not counted.

    python -m bench.answer_bench [--gold eval/gold/dev.jsonl] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.runner import ClinCiteSystem

from .common import RESULTS, current_rss_mib, machine, pct, peak_rss_mib, write_json

BREAKDOWN = ("retrieve_s", "prompt_s", "decode_s", "check_s")


class StreamingClinCite(ClinCiteSystem):
    """The eval harness's ClinCite system, answering through ``stream`` to time the first
    token, with its retrieval timed and every answer's timings kept."""

    def __init__(self, assistant: Any, tokenizer: Any) -> None:
        super().__init__(assistant)
        self.tokenizer = tokenizer
        self.query_s: list[float] = []
        self.answers: list[dict] = []

    def retrieve(self, question: str, k: int):
        t0 = time.perf_counter()
        out = super().retrieve(question, k)
        self.query_s.append(time.perf_counter() - t0)
        return out

    def answer(self, question: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        answer = None
        for event in self.assistant.stream(question):
            if event.kind == "answer":
                answer = event.answer
        total = time.perf_counter() - t0
        assert answer is not None
        t = dict(answer.timings)
        rec = {"question": question, "total_s": total, "abstained": answer.abstained,
               "reason": answer.abstain_reason, "llm_called": "generate_s" in t, **t}
        # the first checked text; a declined answer shows its one sentence at the end
        rec.setdefault("first_token_s", total)
        if "generate_s" in t:
            rec["decode_s"] = t["generate_s"] - t.get("prompt_s", 0.0)
            rec["draft_chars"] = len(answer.draft)
            rec["prompt_tokens"] = prompt_tokens(self.assistant, answer, self.tokenizer)
        self.answers.append(rec)
        return self.result(answer, total)


class TimedBaseline:
    """The eval harness's baseline with its retrieval and first token timed."""

    def __init__(self, baseline: Any) -> None:
        self.inner = baseline
        self.name = baseline.name
        self.query_s: list[float] = []
        self.answers: list[dict] = []

    def doc_text(self, doc_id: str) -> str | None:
        return self.inner.doc_text(doc_id)

    def retrieve(self, question: str, k: int):
        t0 = time.perf_counter()
        out = self.inner.retrieve(question, k)
        self.query_s.append(time.perf_counter() - t0)
        return out

    def answer(self, question: str) -> dict[str, Any]:
        out = self.inner.answer(question)
        self.answers.append({"question": question, "total_s": out["latency_s"],
                             "first_token_s": out["first_token_s"]})
        return out


def prompt_tokens(assistant: Any, answer: Any, tokenizer: Any) -> int:
    """Tokens of the answer prompt (system + user) this answer was generated from."""
    from assistant.chain import Turn

    turn = Turn(question=answer.question, history=[], filters=None, k=None,
                language=answer.language, t0=0.0, standalone=answer.standalone_question,
                model_input=answer.model_input)
    system, user = (m.content for m in assistant.chain.messages(turn))
    return len(tokenizer.tokenize((system + user).encode("utf-8"), add_bos=False))


def summary(values: list[float]) -> dict[str, float | None]:
    return {"p50": pct(values, 50), "p95": pct(values, 95),
            "mean": sum(values) / len(values) if values else None, "n": len(values)}


def run(gold: Path, corpus: Path, limit: int | None, with_baseline: bool = True,
        profile: int = 0) -> dict:
    from assistant import models
    from assistant.api import Assistant
    from assistant.config import Settings
    from eval.baseline import BaselineSystem
    from eval.dataset import load_gold
    from eval.runner import make_similarity, metrics_for, run_items

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="clincite-answer-bench-")))
    items = load_gold(gold)[: limit or None]
    t0 = time.perf_counter()
    embedder = models.load_embedder(settings)
    embedder_load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    llm = models.load_chat_model(settings)
    llm_load_s = time.perf_counter() - t0
    rss_models = current_rss_mib()

    assistant = Assistant(settings, embedder=embedder, llm=llm)
    t0 = time.perf_counter()
    report = assistant.ingest([corpus])
    clincite_ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline = BaselineSystem(settings, embedder, llm, corpus)
    baseline_ingest_s = time.perf_counter() - t0
    doc_langs = {d["doc_id"]: d["language"] for d in assistant.documents()}

    from llama_cpp import Llama

    tokenizer = Llama(model_path=str(models.resolve_llm_path(settings.llm.model, settings)),
                      vocab_only=True, verbose=False)
    ours, theirs = StreamingClinCite(assistant, tokenizer), TimedBaseline(baseline)
    ours.answer("What proportion of breast cancer bone metastases are osteolytic?")  # warm-up
    theirs.answer("What proportion of breast cancer bone metastases are osteolytic?")
    ours.answers.clear()
    theirs.answers.clear()

    similarity = make_similarity(embedder)
    print(f"answer bench: ClinCite, {len(items)} questions", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    our_results = run_items(ours, items, doc_langs, retrieval_only=False, settings=settings,
                            similarity=similarity)
    ours_s = time.perf_counter() - t0
    their_results, theirs_s = [], 0.0
    if with_baseline:
        print(f"answer bench: baseline, {len(items)} questions", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        their_results = run_items(theirs, items, doc_langs, retrieval_only=False,
                                  settings=settings, similarity=similarity)
        theirs_s = time.perf_counter() - t0
    if profile:
        _profile(assistant, [i.question for i in items if i.answerable][:profile])
    errors = [r.error for r in our_results + their_results if r.error]
    if errors:
        raise RuntimeError(f"{len(errors)} items failed, first: {errors[0]}")

    called = [a for a in ours.answers if a["llm_called"]]
    tokens = [a["prompt_tokens"] for a in called]
    loaded = [k for k in models._cache if k[0] in ("embedder", "llm")]
    m_ours, m_theirs = metrics_for(our_results), metrics_for(their_results)
    return {
        "machine": machine(),
        "settings": {"k": settings.retrieval.k, "passage_chars": settings.answer.passage_chars,
                     "prompt": settings.answer.prompt, "max_tokens": settings.llm.max_tokens,
                     "llm": settings.llm.model, "embedder": settings.embedder.model},
        "items": len(items),
        "models": {"embedder_load_s": embedder_load_s, "llm_load_s": llm_load_s,
                   "loaded_in_process": len(loaded), "rss_after_load_mib": rss_models,
                   "peak_rss_mib": peak_rss_mib()},
        "clincite": {
            "ingest_s": clincite_ingest_s, "chunks": report.chunks,
            "query_s": summary(ours.query_s),
            "first_token_s": summary([a["first_token_s"] for a in called]),
            # the first checked sentence of the model's own (after any quote shown first)
            "model_text_s": summary([a["model_text_s"] for a in called if "model_text_s" in a]),
            "quote_first": sum("quote_first_s" in a for a in called),
            "total_s": summary([a["total_s"] for a in ours.answers]),
            "total_llm_s": summary([a["total_s"] for a in called]),
            "breakdown_mean_s": {k: summary([a.get(k, 0.0) for a in called])["mean"]
                                 for k in BREAKDOWN},
            "prompt_tokens": summary(tokens),
            "llm_calls": len(called), "run_s": ours_s,
            "metrics": m_ours,
        },
        "baseline": None if not with_baseline else {
            "ingest_s": baseline_ingest_s, "query_s": summary(theirs.query_s),
            "first_token_s": summary([a["first_token_s"] for a in theirs.answers
                                      if a["first_token_s"] is not None]),
            "total_s": summary([a["total_s"] for a in theirs.answers]), "run_s": theirs_s,
            "metrics": m_theirs,
        },
        "per_answer": ours.answers,
    }


def _profile(assistant: Any, questions: list[str]) -> None:
    """pyinstrument over a few answers: where the time of an answer goes, by function."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    for q in questions:
        for _ in assistant.stream(q):
            pass
    profiler.stop()
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    (RESULTS / "answer_profile.txt").write_text(
        f"pyinstrument, {len(questions)} gold questions answered through Assistant.stream\n\n"
        + text, encoding="utf-8")


def render(r: dict) -> str:
    c, b = r["clincite"], r["baseline"]
    mc = c["metrics"]

    def s(x: float | None, unit: str = "s", scale: float = 1.0, nd: int = 2) -> str:
        return "–" if x is None else f"{x * scale:.{nd}f} {unit}".strip()

    bd = c["breakdown_mean_s"]
    share = sum(v or 0 for v in bd.values()) or 1.0
    lines = [
        "## 4. Answering with the embedded models", "",
        f"{r['items']} gold questions, one at a time, after a warm-up; ClinCite streams "
        f"(k = {r['settings']['k']} passages, each cut to its best "
        f"{r['settings']['passage_chars']} weighted characters, prompt "
        f"`{r['settings']['prompt']}`). {c['llm_calls']} questions reached the LLM (the rest "
        "were declined as out of scope before it). Models loaded once each "
        f"({r['models']['loaded_in_process']} in the process cache; a load time near 0 means an "
        "earlier benchmark in the same process had loaded it): EmbeddingGemma "
        f"{r['models']['embedder_load_s']:.1f} s, Qwen2.5 GGUF {r['models']['llm_load_s']:.1f} s.",
        "",
        "| ClinCite | p50 | p95 | target |", "|---|---|---|---|",
        f"| time to first token | **{s(c['first_token_s']['p50'])}** | "
        f"{s(c['first_token_s']['p95'])} | p50 ≤ 3 s |",
        *([f"| first checked sentence of the model's (after a quote shown first; "
           f"{c['quote_first']} of {c['llm_calls']} answers began with one) | "
           f"{s(c['model_text_s']['p50'])} | {s(c['model_text_s']['p95'])} | |"]
          if "model_text_s" in c else []),
        f"| total per answer (all questions) | **{s(c['total_s']['p50'])}** | "
        f"{s(c['total_s']['p95'])} | p50 ≤ 6 s |",
        f"| total per answer (questions that reached the LLM) | {s(c['total_llm_s']['p50'])} | "
        f"{s(c['total_llm_s']['p95'])} | |",
        f"| prompt tokens | {c['prompt_tokens']['p50']:.0f} | {c['prompt_tokens']['p95']:.0f} "
        "| |", "",
        "Where the time goes (mean over answers that reached the LLM): " + ", ".join(
            f"{name} {s(bd[key])} ({100 * (bd[key] or 0) / share:.0f}%)" for key, name in
            (("retrieve_s", "retrieval"), ("prompt_s", "prompt processing"),
             ("decode_s", "generation"), ("check_s", "checking"))) + ".",
        "", f"Answers: correctness {_f(mc['answer']['correctness'])}, must-decline declined "
        f"{_decl(mc)}, false refusals {_fr(mc)}, recall@5 {_r(mc)} (all / zh / en / "
        "cross-lingual).", ""]
    if b is None:
        return "\n".join(lines) + "\n"
    mb = b["metrics"]
    lines += [
        "## 5. Side by side with the LangChain baseline (same run, same loaded models)", "",
        "| | ClinCite | baseline |", "|---|---|---|",
        f"| ingest sample corpus (empty index, model loaded) | {s(c['ingest_s'], nd=1)} "
        f"({c['chunks']} chunks) | {s(b['ingest_s'], nd=1)} |",
        f"| query latency p50 / p95 (10 passages) | {s(c['query_s']['p50'], 'ms', 1000, 0)} / "
        f"{s(c['query_s']['p95'], 'ms', 1000, 0)} | {s(b['query_s']['p50'], 'ms', 1000, 0)} / "
        f"{s(b['query_s']['p95'], 'ms', 1000, 0)} |",
        f"| time to first token p50 | {s(c['first_token_s']['p50'])} | "
        f"{s(b['first_token_s']['p50'])} |",
        f"| answer time p50 / p95 | {s(c['total_s']['p50'])} / {s(c['total_s']['p95'])} | "
        f"{s(b['total_s']['p50'])} / {s(b['total_s']['p95'])} |",
        f"| recall@5 (all / zh / en / cross-lingual) | {_r(mc)} | {_r(mb)} |",
        f"| answer correctness | {_f(mc['answer']['correctness'])} | "
        f"{_f(mb['answer']['correctness'])} |",
        f"| must-decline questions declined | {_decl(mc)} | {_decl(mb)} |",
        f"| false refusals (answerable, declined) | {_fr(mc)} | {_fr(mb)} |",
        f"| whole run (answers + scoring) | {s(c['run_s'], nd=0)} | {s(b['run_s'], nd=0)} |",
    ]
    return "\n".join(lines) + "\n"


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _r(m: dict) -> str:
    groups = [m, m["by_language"].get("zh"), m["by_language"].get("en"), m["cross_lingual"]]
    return " / ".join(_f(g["retrieval"]["recall@5"]) if g else "–" for g in groups)


def _decl(m: dict) -> str:
    a = m["abstention"]
    return f"{a['correct_refusals']}/{a['unanswerable']}"


def _fr(m: dict) -> str:
    a = m["abstention"]
    return f"{a['false_refusals']}/{a['answerable']}"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="clincite bench answer")
    parser.add_argument("--gold", type=Path, default=Path("eval/gold/dev.jsonl"))
    parser.add_argument("--corpus", type=Path, default=Path("sample_corpus"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--name", default="answer", help="results file bench/results/NAME.json")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--profile", type=int, default=3,
                        help="answers profiled with pyinstrument afterwards (0: none)")
    args = parser.parse_args(argv)
    result = run(args.gold, args.corpus, args.limit, not args.no_baseline, args.profile)
    result["markdown"] = render(result)
    write_json(args.name, result)
    print(result["markdown"])
    return result


if __name__ == "__main__":
    main()
