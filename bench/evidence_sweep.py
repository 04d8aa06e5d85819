"""How often the evidence sentence is in what the model reads, by passages given (k) and each
passage's window budget, with and without the semantic sentence score. No LLM is called: the
prompt's passages are built exactly as the chain builds them. Tune on the dev split only.

    clincite bench evidence [--gold eval/gold/dev.jsonl] [--k 3 4 5] [--chars 240 300 360]
                            [--total 800 1100] [--semantic yes no]

Two ways to fill the prompt: a window per passage (``chars`` each), or the best sentences
across all k passages (``total`` weighted characters in all; ``CLINCITE_ANSWER__EVIDENCE_CHARS``).
The prompt's size (weighted characters: a CJK character counts 2) is what prompt processing
time follows on a CPU.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .common import RESULTS, machine, machine_line


def main() -> None:
    from assistant.api import Assistant
    from assistant.config import Settings
    from eval.dataset import load_gold
    from eval.metrics import evidence_read

    parser = argparse.ArgumentParser(prog="clincite bench evidence")
    parser.add_argument("--gold", default="eval/gold/dev.jsonl")
    parser.add_argument("--k", type=int, nargs="+", default=[3, 4, 5])
    parser.add_argument("--chars", type=int, nargs="+", default=[240, 300, 360])
    parser.add_argument("--total", type=int, nargs="*", default=[])
    parser.add_argument("--semantic", nargs="+", default=["no", "yes"], choices=["no", "yes"])
    parser.add_argument("--corpus", default="sample_corpus")
    args = parser.parse_args()

    items = [i for i in load_gold(Path(args.gold)) if i.answerable]
    base = Settings()
    bot = Assistant(base)
    bot.ingest([args.corpus])
    rows = []
    from ingest.text import weighted_len

    configs = [(c, 0) for c in args.chars] + [(360, t) for t in args.total]
    for semantic in [v == "yes" for v in args.semantic]:
        for k in args.k:
            retrieved = {i.id: bot.retrieve(i.question, k=k) for i in items}
            for chars, total in configs:
                settings = base.model_copy(update={"answer": base.answer.model_copy(
                    update={"passage_chars": chars, "semantic_excerpts": semantic,
                            "evidence_chars": total})})
                chain = Assistant(settings, embedder=bot.embedder, store=bot.store).chain
                t0 = time.perf_counter()
                hits, missed, sizes = 0, [], []
                for item in items:
                    text = chain.passages_text(item.question, retrieved[item.id])
                    sizes.append(weighted_len(text))
                    if evidence_read(item.evidence_list, text):
                        hits += 1
                    else:
                        missed.append(item.id)
                rows.append({"k": k, "chars": chars, "total": total, "semantic": semantic,
                             "evidence_read": hits / len(items), "n": len(items),
                             "prompt_chars": sorted(sizes)[len(sizes) // 2],
                             "ms_per_question": 1000 * (time.perf_counter() - t0) / len(items),
                             "missed": missed})
                print(json.dumps({k_: v for k_, v in rows[-1].items() if k_ != "missed"}),
                      flush=True)
    out = {"machine": machine(), "gold": args.gold, "rows": rows}
    (RESULTS / "evidence_sweep.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    lines = [f"# Evidence in what the model reads ({args.gold})", "",
             machine_line(machine()), "",
             "| k | evidence | semantic | evidence read | passages' size p50 (weighted chars) "
             "| ms / question |", "|---|---|---|---|---|---|"]
    for r in rows:
        how = (f"best sentences, {r['total']} in all" if r["total"]
               else f"window of {r['chars']} per passage")
        lines.append(f"| {r['k']} | {how} | {'yes' if r['semantic'] else 'no'} | "
                     f"{r['evidence_read']:.3f} | {r['prompt_chars']} | "
                     f"{r['ms_per_question']:.0f} |")
    (RESULTS / "evidence_sweep.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
