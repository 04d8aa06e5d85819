"""``clincite eval``: run gold questions (or PubMedQA) through ClinCite (and the baseline),
score retrieval, answers, citations and abstention, and write metrics.json, results.jsonl,
report.md and report.html. A failing item is recorded and the run goes on; the exit status is
non-zero if any item errored or a ``--fail-under`` threshold is not met.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.errors import ClinCiteError
from assistant.progress import progress_bar
from assistant.types import IngestReport, RetrievedChunk

from .dataset import EvalError, GoldItem, load_gold, load_pubmedqa
from .metrics import (
    METRIC_BY_NAME,
    METRICS,
    answer_correct,
    chunk_is_relevant,
    citation_counts,
    evidence_ranks,
    evidence_read,
    section_counts,
    yes_no_maybe,
)

RETRIEVE_K = 10
PUBMEDQA_SUFFIX = " Answer yes, no or maybe first, then explain briefly."


class ItemResult(BaseModel):
    id: str
    system: str
    question: str
    lang: str
    cross_lingual: bool = False
    answerable: bool = True
    answer: str = ""
    abstained: bool = False
    correct: bool | None = None
    why: str = ""  # why the answer is not right: declined, a fact missing, out of order, ...
    evidence_read: bool | None = None  # gold evidence all in the model's input (None: unknown)
    decision: str | None = None
    decision_gold: str | None = None
    citations: list[dict[str, Any]] = Field(default_factory=list)
    retrieved_ids: list[str] = Field(default_factory=list)
    retrieved_docs: list[str] = Field(default_factory=list)
    evidence_ranks: list[int | None] = Field(default_factory=list)
    citation_counts: dict[str, int] = Field(default_factory=dict)
    latency_s: float | None = None
    error: str = ""


# -- systems ----------------------------------------------------------------------------------

class ClinCiteSystem:
    name = "clincite"

    def __init__(self, assistant: Any) -> None:
        self.assistant = assistant

    def doc_text(self, doc_id: str) -> str | None:
        return self.assistant.store.document_text(doc_id)

    def retrieve(self, question: str, k: int) -> list[RetrievedChunk]:
        return self.assistant.retrieve(question, k=k)

    def answer(self, question: str) -> dict[str, Any]:
        a = self.assistant.ask(question)
        return self.result(a, a.timings.get("total_s", 0.0))

    @staticmethod
    def result(a: Any, latency_s: float) -> dict[str, Any]:
        """An Answer as the harness scores it."""
        by_id = {r.chunk_id: r for r in a.retrieved}
        cited = {c.n: by_id[c.chunk_id] for c in a.citations if c.chunk_id in by_id}
        return {"text": a.text, "abstained": a.abstained, "retrieved": a.retrieved,
                "cited": cited, "latency_s": latency_s,
                "citations": [c.model_dump() for c in a.citations],
                "model_input": a.model_input,
                "first_token_s": a.timings.get("first_token_s"),
                "decision": a.decision}


def make_similarity(embedder: Any) -> Callable:
    """The citation judge's cross-lingual similarity, the same for every system: answer
    sentences (query prompt) against passage texts, only where their languages differ."""
    def similarity(sentences: Sequence[str], chunks: Sequence[RetrievedChunk]):
        from ingest.text import detect_language

        scores = np.full((len(sentences), len(chunks)), -1.0)
        lang = detect_language(" ".join(sentences))
        other = [j for j, c in enumerate(chunks) if c.language != lang]
        if not other or not sentences:
            return scores.tolist()
        q = embedder.embed(list(sentences), kind="query")
        d = embedder.embed([chunks[j].text for j in other], kind="document_untitled")
        scores[:, other] = q @ d.T
        return scores.tolist()
    return similarity


class Journal:
    """Each item's result, appended to ``<out>/journal.jsonl`` as soon as it is known, so a
    long run that stops (killed, machine gone, session over) keeps what it had and goes on
    with ``--resume``. The first line records what the run is over; a resumed run over other
    questions or settings is refused, not mixed. The file goes when the run's reports are
    written."""

    NAME = "journal.jsonl"

    def __init__(self, out: Path, header: Mapping[str, Any]) -> None:
        self.path = out / self.NAME
        self.header = dict(header)

    def start(self, resume: bool) -> dict[tuple[str, str], ItemResult]:
        """Begin the journal; with ``resume``, the results it already holds by (system, id)."""
        done: dict[tuple[str, str], ItemResult] = {}
        if resume and self.path.is_file():
            lines = self.path.read_text("utf-8").splitlines()
            try:
                header = json.loads(lines[0]) if lines else {}
            except json.JSONDecodeError:
                header = {}
            if header != self.header:
                raise EvalError(f"--resume: {self.path} is of another run "
                                f"({_differs(header, self.header)}); run with the same options "
                                "or leave out --resume to start again")
            for line in lines[1:]:
                try:
                    r = ItemResult.model_validate_json(line)
                except ValueError:
                    continue  # the line being written when the run stopped
                done[(r.system, r.id)] = r
            return done
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.header) + "\n", encoding="utf-8")
        return done

    def add(self, r: ItemResult) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(r.model_dump_json() + "\n")

    def close(self) -> None:
        self.path.unlink(missing_ok=True)


def baseline_fingerprint(settings: Settings) -> str:
    """A hash of the settings the baseline's answers depend on (its embedder and LLM): a
    baseline-only run stays resumable when ClinCite's own settings change."""
    return "baseline-" + settings.fingerprint({"embedder", "llm"})


def _differs(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    keys = sorted(k for k in {*a, *b} if a.get(k) != b.get(k))
    return ", ".join(f"{k}: {a.get(k)!r} there, {b.get(k)!r} now" for k in keys) or "unreadable"


def run_items(system: Any, items: Sequence[GoldItem], doc_langs: Mapping[str, str], *,
              retrieval_only: bool, settings: Settings, similarity: Callable | None,
              pubmedqa: bool = False, progress: Callable[[int, int], None] | None = None,
              done: Mapping[tuple[str, str], ItemResult] | None = None,
              journal: Journal | None = None) -> list[ItemResult]:
    """Each item through ``system``; an item ``done`` holds (by system name and id) is taken
    from there, and each new result goes to ``journal``."""
    results: list[ItemResult] = []
    for i, item in enumerate(items, 1):
        earlier = (done or {}).get((system.name, item.id))
        if earlier is not None:
            results.append(earlier)
            if progress:
                progress(i, len(items))
            continue
        source_langs = {doc_langs.get(s) for s in item.sources} - {None}
        r = ItemResult(id=item.id, system=system.name, question=item.question, lang=item.lang,
                       answerable=item.answerable, decision_gold=item.decision,
                       cross_lingual=bool(source_langs) and item.lang not in source_langs)
        try:
            if item.answerable:
                retrieved = system.retrieve(item.question, RETRIEVE_K)
                r.retrieved_ids = [c.chunk_id for c in retrieved]
                r.retrieved_docs = [c.doc_id for c in retrieved]
                r.evidence_ranks = _ranks(item, retrieved, system)
            if not retrieval_only:
                question = item.question + (PUBMEDQA_SUFFIX if pubmedqa else "")
                out = system.answer(question)
                r.answer, r.abstained = out["text"], out["abstained"]
                r.decision = out.get("decision")  # ClinCite's own; else read from the text
                r.latency_s = out["latency_s"]
                r.citations = out["citations"]
                if item.answerable:
                    r.evidence_read = evidence_read(item.evidence_list, out.get("model_input"))
                _judge(r, item)
                if not r.abstained:
                    cfg = settings.answer
                    r.citation_counts = citation_counts(
                        r.answer, out["cited"], item.lang, min_overlap=cfg.min_overlap,
                        min_semantic=cfg.min_semantic,
                        similarity=similarity)
        except Exception as exc:  # noqa: BLE001 - one failing item must not stop the run
            r.error = f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, ClinCiteError):
                r.error += " | " + traceback.format_exc(limit=3).replace("\n", " ")[-400:]
        results.append(r)
        if journal is not None:
            journal.add(r)
        if progress:
            progress(i, len(items))
    return results


def _judge(r: ItemResult, item: GoldItem) -> None:
    """Set ``correct`` (None when there is nothing to judge by) and ``why`` from the answer."""
    if not item.answerable:
        r.why = "" if r.abstained else "answered a must-decline question"
        return
    if item.must:
        r.correct = not r.abstained and answer_correct(r.answer, item.must, item.order)
        r.why = ("declined" if r.abstained else "" if r.correct else
                 "required values out of order" if answer_correct(r.answer, item.must) else
                 "missing a required fact")
    if item.decision:
        r.decision = None if r.abstained else r.decision or yes_no_maybe(r.answer)
        r.correct = r.decision == item.decision
        r.why = ("declined" if r.abstained else "" if r.correct else
                 "no yes/no/maybe" if r.decision is None else f"said {r.decision}")


def _ranks(item: GoldItem, retrieved: Sequence[RetrievedChunk], system: Any) -> list[int | None]:
    if not item.evidence_list:  # document-level relevance (PubMedQA)
        hits = [[c.doc_id in item.sources for c in retrieved]]
        return evidence_ranks(hits)
    texts: dict[str, str | None] = {}
    rows = []
    for ev in item.evidence_list:
        row = []
        for c in retrieved:
            if c.doc_id not in texts:
                texts[c.doc_id] = system.doc_text(c.doc_id)
            row.append(chunk_is_relevant(c.text, c.start, c.end, ev, texts[c.doc_id]))
        rows.append(row)
    return evidence_ranks(rows)


# -- aggregation ------------------------------------------------------------------------------

def aggregate(results: Sequence[ItemResult]) -> dict[str, Any]:
    """Metrics for one group of results (see README for the keys): each metric of ``METRICS``
    (eval/metrics.py) under its section, beside the section's counts."""
    scored = [r for r in results if not r.error]
    sections = section_counts(scored, decisions=any(r.decision_gold for r in results))
    for metric in METRICS:
        if metric.section in sections:  # decision: PubMedQA only
            sections[metric.section][metric.name] = metric.value(scored)
    return {"n": len(results), "errors": sum(1 for r in results if r.error), **sections}


def metrics_for(results: Sequence[ItemResult]) -> dict[str, Any]:
    out = aggregate(results)
    out["by_language"] = {lang: aggregate([r for r in results if r.lang == lang])
                          for lang in ("zh", "en") if any(r.lang == lang for r in results)}
    out["cross_lingual"] = aggregate([r for r in results if r.cross_lingual])
    out["same_lingual"] = aggregate([r for r in results if r.answerable and not r.cross_lingual])
    return out


# -- thresholds and compare -------------------------------------------------------------------

def _lookup(metrics: dict[str, Any], name: str) -> tuple[float | None, bool]:
    """(value, known): a name from the metric table, or ``section.key`` for any other
    figure in metrics.json (``abstention.false_refusals``)."""
    if name in METRIC_BY_NAME:
        return (metrics.get(METRIC_BY_NAME[name].section) or {}).get(name), True
    if "." in name:
        section, key = name.split(".", 1)
        group = metrics.get(section)
        if isinstance(group, dict) and key in group:
            return group[key], True
    return None, False


def parse_threshold(spec: str, flag: str = "--fail-under") -> tuple[str, float]:
    """``metric=value`` -> (metric, value), for a metric from the table or a ``section.key``."""
    name, _, value = spec.partition("=")
    try:
        limit = float(value)
    except ValueError:
        raise EvalError(f"bad {flag} '{spec}': use metric=value, e.g. recall@5=0.9") from None
    if name not in METRIC_BY_NAME and "." not in name:
        raise EvalError(f"{flag}: unknown metric '{name}'; use one of "
                        f"{', '.join(METRIC_BY_NAME)} or section.key from metrics.json")
    return name, limit


def check_thresholds(metrics: dict[str, Any], specs: Sequence[str], *,
                     over: bool = False) -> list[str]:
    """The specs (``metric=value``) ClinCite misses: below the value (``--fail-under``), or
    above it with ``over`` (``--fail-over``, for metrics where lower is better such as
    wrong_shown_rate). A metric that was not measured counts as missed."""
    flag = "--fail-over" if over else "--fail-under"
    failures = []
    for spec in specs:
        name, limit = parse_threshold(spec, flag)
        got, known = _lookup(metrics, name)
        if not known:
            raise EvalError(f"{flag}: no '{name}' in metrics.json")
        if got is None or (got > limit if over else got < limit):
            failures.append(f"{name} = {_fmt(got)} {'>' if over else '<'} {limit:.3f}")
    return failures


def pair(run: Path, base: Path) -> str:
    """Set a baseline run's answers (``--baseline-only``, or any run with the baseline) beside
    a ClinCite run over the same items made before it finished; RUN's reports are rewritten."""
    from .report import write_reports

    try:
        metrics = json.loads((run / "metrics.json").read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise EvalError(f"pair: {run} is not a finished eval run ({exc})") from exc
    ours = read_results(run, "clincite", "pair")
    if not ours:
        raise EvalError(f"pair: {run} holds no ClinCite answers; give a run made without "
                        "--baseline-only first, the baseline's run second")
    b_results = add_baseline(metrics, metrics.setdefault("timing", {}), base,
                             [r.id for r in ours], "pair")
    write_reports(run, metrics, [*ours, *b_results])
    return f"eval pair: baseline of {base} set beside {run}; report {run / 'report.md'}"


def compare(run_a: Path, run_b: Path, out: Path | None = None) -> str:
    from .report import compare_table

    a = json.loads((run_a / "metrics.json").read_text())
    b = json.loads((run_b / "metrics.json").read_text())
    text = compare_table(a, b, str(run_a), str(run_b))
    (out or run_b).mkdir(parents=True, exist_ok=True)
    (out or run_b).joinpath("compare.md").write_text(text, encoding="utf-8")
    return text


# -- entry point ------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clincite eval", description=__doc__.splitlines()[0])
    p.add_argument("--gold", type=Path, help="gold questions (JSON Lines)")
    p.add_argument("--pubmedqa", type=Path, help="PubMedQA PQA-L JSON file")
    p.add_argument("--corpus", type=Path, default=Path("sample_corpus"),
                   help="documents the gold set is about (default sample_corpus)")
    p.add_argument("--out", type=Path, required=True, help="folder for the run's files")
    p.add_argument("--limit", type=int, help="only the first N items")
    p.add_argument("--retrieval-only", action="store_true", help="skip the LLM")
    p.add_argument("--baseline", action="store_true", help="also run the LangChain baseline")
    p.add_argument("--baseline-only", action="store_true",
                   help="run only the LangChain baseline (pair it with a ClinCite run later "
                        "by --baseline-from)")
    p.add_argument("--baseline-from", type=Path, metavar="RUN",
                   help="take the baseline's answers from an earlier run over the same items "
                        "(its folder) instead of running the baseline again")
    p.add_argument("--fail-under", action="append", default=[],
                   help="metric=value; exit 1 when ClinCite scores below (repeatable)")
    p.add_argument("--fail-over", action="append", default=[],
                   help="metric=value; exit 1 when ClinCite scores above, for metrics where "
                        "lower is better, e.g. wrong_shown_rate=0.05 (repeatable)")
    p.add_argument("--llm", help="override the LLM (e.g. openai:<model>)")
    p.add_argument("--resume", action="store_true",
                   help="go on with a run into the same --out that stopped: items already in "
                        "its journal.jsonl are not asked again")
    return p


@dataclass(frozen=True)
class EvalOptions:
    """What one eval run does: ``clincite eval``'s options, typed, so the benchmarks and tests
    call ``run`` without going through the command line."""

    out: Path
    gold: Path | None = None
    pubmedqa: Path | None = None
    corpus: Path = Path("sample_corpus")
    limit: int | None = None
    retrieval_only: bool = False
    baseline: bool = False
    baseline_only: bool = False
    baseline_from: Path | None = None
    fail_under: tuple[str, ...] = ()
    fail_over: tuple[str, ...] = ()
    llm: str | None = None
    resume: bool = False

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> EvalOptions:
        ns = build_parser().parse_args(list(argv))
        return cls(out=ns.out, gold=ns.gold, pubmedqa=ns.pubmedqa, corpus=ns.corpus,
                   limit=ns.limit, retrieval_only=ns.retrieval_only, baseline=ns.baseline,
                   baseline_only=ns.baseline_only, baseline_from=ns.baseline_from,
                   fail_under=tuple(ns.fail_under), fail_over=tuple(ns.fail_over), llm=ns.llm,
                   resume=ns.resume)


def main(argv: Sequence[str], settings: Settings) -> int:
    """``clincite eval ARGS...`` (``argv`` is what follows ``eval``)."""
    argv = list(argv)
    if argv and argv[0] == "pair":
        if len(argv) != 3:
            raise EvalError("usage: clincite eval pair RUN BASELINE_RUN")
        print(pair(Path(argv[1]), Path(argv[2])))
        return 0
    if argv and argv[0] == "compare":
        if len(argv) != 3:
            raise EvalError("usage: clincite eval compare RUN_A RUN_B")
        print(compare(Path(argv[1]), Path(argv[2])))
        return 0
    opts = EvalOptions.from_argv(argv)
    if not opts.gold and not opts.pubmedqa:
        raise EvalError("give --gold FILE or --pubmedqa FILE")
    if opts.baseline_from and (opts.baseline or opts.baseline_only):
        raise EvalError("--baseline-from takes the baseline's answers from RUN: leave out "
                        "--baseline and --baseline-only")
    if opts.baseline_from and not (opts.baseline_from / "results.jsonl").is_file():
        raise EvalError(f"--baseline-from: no results.jsonl in {opts.baseline_from}; give the "
                        "folder of a run made with --baseline or --baseline-only")
    for specs, flag in ((opts.fail_under, "--fail-under"), (opts.fail_over, "--fail-over")):
        for spec in specs:  # a misspelt threshold fails now, not after the run
            parse_threshold(spec, flag)
    if opts.llm:
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(
            update={"model": opts.llm})})
    return run(opts, settings)


def llm_label(settings: Settings, retrieval_only: bool) -> str:
    """The LLM a run's answers come from: ``llamacpp:default`` with the model it stands for on
    this machine (measured, assistant/llm_choice.py), so runs on two CPUs are not mixed up."""
    from assistant.models import default_llm, is_default_llm

    spec = settings.llm.model
    if retrieval_only or not is_default_llm(spec):
        return spec

    return f"{spec} = llamacpp:{default_llm(settings)[0]}"


def run(opts: EvalOptions, settings: Settings) -> int:
    from assistant.api import Assistant
    from assistant.models import LazyEmbedder

    from .report import write_reports

    started = time.perf_counter()
    pubmedqa = opts.pubmedqa is not None
    eval_dir = settings.data_dir / "eval" / ("pubmedqa" if pubmedqa else opts.corpus.name)
    eval_settings = settings.model_copy(update={"data_dir": eval_dir})
    llm_name = llm_label(eval_settings, opts.retrieval_only)
    embedder = LazyEmbedder(eval_settings)
    assistant = Assistant(eval_settings, embedder=embedder)
    t0 = time.perf_counter()
    if opts.pubmedqa is not None:
        docs, items = load_pubmedqa(opts.pubmedqa, opts.limit)
        from ingest.pipeline import ingest_documents

        if opts.baseline_only:  # the baseline keeps its own index; ClinCite's is not needed
            report = IngestReport()
        else:
            with assistant.store.write_lock():
                report = ingest_documents(docs, eval_settings, embedder, assistant.store)
        doc_langs = {d.doc_id: d.language for d in docs}
    else:
        if opts.gold is None:
            raise EvalError("give --gold FILE or --pubmedqa FILE")
        items = load_gold(opts.gold)[: opts.limit or None]
        report = assistant.ingest([opts.corpus])
        if report.failed:
            raise EvalError(f"could not ingest {report.failed[0].path}: {report.failed[0].error}")
        doc_langs = {d["doc_id"]: d["language"] for d in assistant.documents()}
    ingest_s = time.perf_counter() - t0
    similarity = make_similarity(embedder)
    timing: dict[str, float] = {"ingest_s": ingest_s}
    journal = Journal(opts.out, {
        "split": split_name(opts), "items": [i.id for i in items],
        "retrieval_only": opts.retrieval_only, "baseline": opts.baseline,
        "baseline_only": opts.baseline_only,
        "settings_hash": baseline_fingerprint(eval_settings) if opts.baseline_only
        else eval_settings.fingerprint(),
        "llm": llm_name})
    done = journal.start(opts.resume)
    if done:
        timing["resumed_items"] = len(done)  # their latencies are in results; times below not

    t0 = time.perf_counter()
    results = [] if opts.baseline_only else run_items(
        ClinCiteSystem(assistant), items, doc_langs, retrieval_only=opts.retrieval_only,
        settings=eval_settings, similarity=similarity, pubmedqa=pubmedqa,
        progress=progress_bar("ClinCite", "question"), done=done, journal=journal)
    timing["clincite_s"] = time.perf_counter() - t0
    metrics = metrics_for(results)
    if opts.baseline_from:
        results += add_baseline(metrics, timing, opts.baseline_from, [i.id for i in items])
    if opts.baseline or opts.baseline_only:
        from .baseline import BaselineSystem

        t0 = time.perf_counter()
        llm = None if opts.retrieval_only else assistant.chat_model()
        if pubmedqa:
            folder, id_map = _pubmedqa_dir(docs, eval_dir)
            baseline = BaselineSystem(eval_settings, embedder, llm, folder, id_map=id_map)
        else:
            baseline = BaselineSystem(eval_settings, embedder, llm, opts.corpus)
        timing["baseline_ingest_s"] = baseline.ingest_seconds
        b_results = run_items(baseline, items, doc_langs, retrieval_only=opts.retrieval_only,
                              settings=eval_settings, similarity=similarity, pubmedqa=pubmedqa,
                              progress=progress_bar("baseline", "question"), done=done,
                              journal=journal)
        timing["baseline_s"] = time.perf_counter() - t0
        results += b_results
        metrics["baseline"] = metrics_for(b_results)
    timing["total_s"] = time.perf_counter() - started
    metrics["timing"] = timing
    metrics["run"] = {"gold": str(opts.gold or opts.pubmedqa), "split": split_name(opts),
                      "items": len(items),
                      "retrieval_only": opts.retrieval_only,
                      "settings_hash": eval_settings.fingerprint(),
                      "embedder": embedder.name, "llm": llm_name,
                      "fusion": eval_settings.retrieval.fusion, "k": eval_settings.retrieval.k,
                      "ingest": report.summary()}
    write_reports(opts.out, metrics, results)
    journal.close()
    errors = sum(1 for r in results if r.error)
    failures = ([f"below threshold: {f}" for f in check_thresholds(metrics, opts.fail_under)] +
                [f"above threshold: {f}" for f in check_thresholds(metrics, opts.fail_over,
                                                                   over=True)])
    shown = metrics["baseline"] if opts.baseline_only else metrics
    headline = (f"decision accuracy {_fmt(shown['decision']['decision_accuracy'])}"
                if "decision" in shown else
                f"correctness {_fmt(shown['answer']['correctness'])}, wrong shown "
                f"{shown['answer']['wrong_shown']}")
    if opts.baseline_only:
        headline = "baseline only: " + headline
    print(f"eval ({metrics['run']['split']}): {len(items)} items, {errors} errors; recall@5 "
          f"{_fmt(shown['retrieval']['recall@5'])}, {headline}; report "
          f"{opts.out / 'report.md'}")
    for failure in failures:
        print(f"eval: {failure}", file=sys.stderr)
    return 1 if errors or failures else 0


def read_results(run_dir: Path, system: str, flag: str) -> list[ItemResult]:
    """One system's rows of a run's results.jsonl, in order (``flag`` names the option that
    asked, for the one-line error)."""
    path = run_dir / "results.jsonl"
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError:
        raise EvalError(f"{flag}: no results.jsonl in {run_dir}; give the folder of a finished "
                        "eval run") from None
    rows = []
    for n, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{flag}: {path} line {n} is not JSON ({exc.msg})") from exc
        if row.get("system") == system:
            rows.append(ItemResult.model_validate(row))
    return rows


def load_baseline(run_dir: Path, ids: Sequence[str], flag: str = "--baseline-from"
                  ) -> tuple[list[ItemResult], dict[str, float]]:
    """The baseline's results (and timings) of an earlier run over the same items, in order:
    its answers do not change with ClinCite's code, so a long run need not be repeated."""
    rows = read_results(run_dir, "baseline", flag)
    if [r.id for r in rows] != list(ids):
        raise EvalError(f"{flag}: {run_dir} holds the baseline's answers to "
                        f"{len(rows)} other items; give a run over the same questions "
                        "(same file and --limit) made with --baseline or --baseline-only")
    try:
        timing = json.loads((run_dir / "metrics.json").read_text("utf-8")).get("timing", {})
    except (OSError, json.JSONDecodeError):
        timing = {}
    return rows, {k: v for k, v in timing.items() if k.startswith("baseline")}


def add_baseline(metrics: dict[str, Any], timing: dict[str, float], base: Path,
                 ids: Sequence[str], flag: str = "--baseline-from") -> list[ItemResult]:
    """An earlier run's baseline answers (``load_baseline``) put into ``metrics`` and
    ``timing`` beside ClinCite's; returns them for the results file."""
    b_results, b_timing = load_baseline(base, ids, flag)
    timing.update(b_timing)
    metrics["baseline"] = metrics_for(b_results)
    metrics["baseline_from"] = str(base)
    return b_results


def split_name(opts: EvalOptions) -> str:
    """Which question set a run is over, as the report names it: the gold file's name
    (``dev.jsonl``, ``test.jsonl``; a link is followed) or ``PubMedQA <file>``."""
    if opts.pubmedqa is not None:
        return f"PubMedQA {opts.pubmedqa.name}"
    return opts.gold.resolve().name if opts.gold is not None else "?"


def _pubmedqa_dir(docs: Sequence[Any], eval_dir: Path) -> tuple[Path, dict[str, str]]:
    """The baseline reads raw files: write each PubMedQA document as one .txt file."""
    return write_documents(docs, eval_dir / "baseline-files")


def write_documents(docs: Sequence[Any], folder: Path) -> tuple[Path, dict[str, str]]:
    """Each document as ``<doc id>.txt`` in ``folder``, with a MANIFEST.tsv giving its title,
    language and kind (what ``clincite ingest`` reads). Returns the folder and file -> doc id."""
    folder.mkdir(parents=True, exist_ok=True)
    id_map = {}
    lines = ["file\tlanguage\tkind\ttitle"]
    for d in docs:
        path = folder / f"{d.doc_id.replace(':', '_')}.txt"
        id_map[path.name] = d.doc_id
        lines.append(f"{path.name}\t{d.language}\t{d.kind}\t{d.title}")
        if not path.exists():
            path.write_text(d.text, encoding="utf-8")
    (folder / "MANIFEST.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, id_map


def _fmt(value: float | None) -> str:
    if isinstance(value, int):  # a count
        return str(value)
    return "–" if value is None else f"{value:.3f}"
