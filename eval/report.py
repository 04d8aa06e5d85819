"""Reports people can read: metrics.json, results.jsonl, report.md, report.html (with charts)."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .metrics import METRIC_BY_NAME, METRICS

# (label, section, key): one row per metric of the table that --fail-under reads
ROWS = [(m.label, m.section, m.name) for m in METRICS]
GROUPS = [("all", None), ("zh", ("by_language", "zh")), ("en", ("by_language", "en")),
          ("cross-lingual", ("cross_lingual",))]


def _group(metrics: dict[str, Any], path: tuple[str, ...] | None) -> dict[str, Any] | None:
    node: Any = metrics
    for key in path or ():
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def _systems(metrics: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [("ClinCite", metrics)] + ([("Baseline", metrics["baseline"])]
                                      if "baseline" in metrics else [])


def _shown_rows(*runs: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The rows that apply: a section no run has (decisions, on a gold set) is left out."""
    return [row for row in ROWS if any(row[1] in run for run in runs)]


def summary_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    systems = _systems(metrics)
    header = ["metric"] + [f"{name} {g}" for name, _ in systems for g, _ in GROUPS]
    rows = []
    for label, section, key in _shown_rows(metrics):
        row = [label]
        for _, m in systems:
            for _, path in GROUPS:
                group = _group(m, path)
                row.append(_fmt(group.get(section, {}).get(key) if group else None))
        rows.append(row)
    counts = ["items (n)"] + [_fmt((_group(m, p) or {}).get("n")) for _, m in systems
                              for _, p in GROUPS]
    rows.append(counts)
    return header, rows


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _chart(metrics: dict[str, Any]) -> str:
    """A bar chart of the headline metrics per system and language, as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = _systems(metrics)
    shares = {m.name for m in METRICS if m.share}
    shown = [r for r in _shown_rows(metrics) if r[2] in shares]
    fig, axes = plt.subplots(1, len(GROUPS), figsize=(4.2 * len(GROUPS), 4.2), sharey=True)
    for ax, (gname, path) in zip(axes, GROUPS, strict=True):
        width = 0.8 / len(systems)
        for i, (sname, m) in enumerate(systems):
            group = _group(m, path) or {}
            values = [group.get(sec, {}).get(key) or 0.0 for _, sec, key in shown]
            ax.barh([y + i * width for y in range(len(shown))], values, height=width,
                    label=sname)
        ax.set_title(gname)
        ax.set_xlim(0, 1)
        ax.set_yticks([y + width * (len(systems) - 1) / 2 for y in range(len(shown))])
        ax.set_yticklabels([label for label, _, _ in shown], fontsize=8)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def write_reports(out: Path, metrics: dict[str, Any], results: Sequence[Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False),
                                      encoding="utf-8")
    with open(out / "results.jsonl", "w", encoding="utf-8") as fh:
        for r in results:
            fh.write(r.model_dump_json() + "\n")
    header, rows = summary_rows(metrics)
    wrong = [r for r in results if r.error or r.why]
    run = metrics.get("run", {})
    md = [f"# ClinCite evaluation: {run.get('split') or run.get('gold', '')}", "",
          f"Questions `{run.get('gold')}`; items: {run.get('items')}; embedder "
          f"`{run.get('embedder')}`; LLM `{run.get('llm')}`; "
          f"fusion `{run.get('fusion')}`, k={run.get('k')}; settings `{run.get('settings_hash')}`"
          f"; retrieval only: {run.get('retrieval_only')}.", "",
          "Timing: " + ", ".join(f"{k} {v:.1f}" for k, v in metrics.get("timing", {}).items()),
          "", *decision_lines(metrics), markdown_table(header, rows), "",
          "Recall counts a passage as relevant when it contains the gold evidence quote (or "
          "covers at least half of it). Citation precision/recall are judged by the same "
          "support check the assistant uses.", "",
          "## Metrics", "", definitions_table(_shown_rows(metrics)), "",
          f"## Items to look at ({len(wrong)})", ""]
    for r in wrong:
        md.append(f"- **{r.system} {r.id}** ({r.lang}) {r.question} — {r.error or r.why}: "
                  f"{(r.answer or '').replace(chr(10), ' ')[:200]}")
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")

    table = ("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>" +
             "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                     for row in rows) + "</table>")
    items = "".join(
        f"<tr><td>{html.escape(r.system)}</td><td>{html.escape(r.id)}</td>"
        f"<td>{html.escape(r.question)}</td><td>{html.escape(r.answer[:300])}</td>"
        f"<td>{'✔' if r.correct else ('✘' if r.correct is False else '')}</td>"
        f"<td>{'yes' if r.abstained else ''}</td>"
        f"<td>{html.escape((r.error or r.why)[:200])}</td></tr>"
        for r in results)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>ClinCite eval</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1300px}}table{{border-collapse:collapse;
font-size:13px}}td,th{{border:1px solid #ccc;padding:4px 6px;text-align:left}}
th{{background:#f3f3f3}}</style></head><body>
<h1>{html.escape(md[0].removeprefix('# '))}</h1><p>{html.escape(md[2])}</p>
<h2>Summary</h2>{table}
<h2>Charts</h2><img alt="metrics by language" src="data:image/png;base64,{_chart(metrics)}">
<h2>Every item</h2><table><tr><th>system</th><th>id</th><th>question</th><th>answer</th>
<th>correct</th><th>abstained</th><th>why / error</th></tr>{items}</table></body></html>"""
    (out / "report.html").write_text(page, encoding="utf-8")


def decision_lines(metrics: dict[str, Any]) -> list[str]:
    """PubMedQA: each system's decision accuracy beside the majority-class figure."""
    if "decision" not in metrics:
        return []
    d = metrics["decision"]
    parts = [f"{name} {_fmt(m.get('decision', {}).get('decision_accuracy'))} "
             f"({m.get('decision', {}).get('undecided')} undecided, "
             f"{m.get('decision', {}).get('abstained')} declined)"
             for name, m in _systems(metrics)]
    return [f"Decision accuracy over {d.get('n')} questions: " + "; ".join(parts) +
            f". Always answering the most common label ({d.get('majority_label')}) scores "
            f"{_fmt(d.get('majority_class'))}.", ""]


def definitions_table(rows: Sequence[tuple[str, str, str]]) -> str:
    """What each row means, under the name --fail-under / --fail-over take."""
    return markdown_table(["metric", "name (--fail-under / --fail-over)", "better", "definition"],
                          [[label, f"`{key}`", METRIC_BY_NAME[key].better,
                            METRIC_BY_NAME[key].definition] for label, _, key in rows])


def compare_table(a: dict[str, Any], b: dict[str, Any], name_a: str, name_b: str) -> str:
    lines = [f"| metric | {name_a} | {name_b} | change |", "|---|---|---|---|"]
    for gname, path in GROUPS:
        ga, gb = _group(a, path) or {}, _group(b, path) or {}
        for label, section, key in _shown_rows(a, b):
            va = ga.get(section, {}).get(key)
            vb = gb.get(section, {}).get(key)
            change = f"{vb - va:+.3f}" if isinstance(va, (int, float)) and \
                isinstance(vb, (int, float)) else "–"
            lines.append(f"| {gname}: {label} | {_fmt(va)} | {_fmt(vb)} | {change} |")
    return "\n".join(lines)
