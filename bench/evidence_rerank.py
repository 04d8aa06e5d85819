"""Would reranking the retrieved passages by their best sentence's meaning put the evidence in
what the model reads more often? The top N passages of the usual search are reordered by
cos(question, best sentence) minus ``mu`` per rank place (mu = ∞: the search's own order),
the first k are given to the model exactly as the chain builds its prompt, and the evidence
quotes are looked for in it. No LLM is called. Dev split only.

    clincite bench rerank [--gold eval/gold/dev.jsonl] [--n 8] [--k 3 4] [--mu 0.1 0.05 0.02 0]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import RESULTS, machine, machine_line


def main() -> None:
    from assistant.api import Assistant
    from assistant.config import Settings
    from eval.dataset import load_gold
    from eval.metrics import evidence_read
    from ingest.text import split_sentences

    parser = argparse.ArgumentParser(prog="clincite bench rerank")
    parser.add_argument("--gold", default="eval/gold/dev.jsonl")
    parser.add_argument("--n", type=int, default=8, help="passages reordered")
    parser.add_argument("--k", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--mu", type=float, nargs="+", default=[0.1, 0.05, 0.03, 0.0])
    parser.add_argument("--corpus", default="sample_corpus")
    args = parser.parse_args()

    items = [i for i in load_gold(Path(args.gold)) if i.answerable]
    bot = Assistant(Settings())
    bot.ingest([args.corpus])
    chain = bot.chain
    pools = {}
    for item in items:
        got = bot.retrieve(item.question, k=args.n)
        query = bot.embedder.embed([item.question], kind="query")[0]
        best = []
        for p in got:
            sentences = [p.text[s.start:s.end] for s in split_sentences(p.text)
                         if p.text[s.start:s.end].strip()]
            # the sentence vectors kept at ingest, as the chain's evidence choice reads them
            best.append(float(max(chain.sentence_vectors.vectors(sentences) @ query))
                        if sentences else 0.0)
        pools[item.id] = (got, best)
    rows = []
    for mu in [None, *args.mu]:
        for k in args.k:
            missed = []
            for item in items:
                got, best = pools[item.id]
                order = (list(range(len(got))) if mu is None else
                         sorted(range(len(got)), key=lambda j: -(best[j] - mu * j)))
                text = chain.passages_text(item.question, [got[j] for j in order[:k]])
                if not evidence_read(item.evidence_list, text):
                    missed.append(item.id)
            rows.append({"mu": mu, "k": k, "evidence_read": 1 - len(missed) / len(items),
                         "n": len(items), "missed": missed})
            print(json.dumps({key: v for key, v in rows[-1].items() if key != "missed"}),
                  flush=True)
    lines = [f"# Reranking passages by their best sentence ({args.gold})", "",
             machine_line(machine()), "",
             f"The top {args.n} passages reordered by cos(question, best sentence) − mu × rank; "
             "mu = ∞ is the search's own order (the default).", "",
             "| mu | k | evidence read |", "|---|---|---|"]
    for r in rows:
        mu_text = "∞ (search order)" if r["mu"] is None else f"{r['mu']:g}"
        lines.append(f"| {mu_text} | {r['k']} | {r['evidence_read']:.3f} |")
    (RESULTS / "evidence_rerank.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / "evidence_rerank.json").write_text(
        json.dumps({"machine": machine(), "gold": args.gold, "rows": rows}, indent=1),
        encoding="utf-8")


if __name__ == "__main__":
    main()
