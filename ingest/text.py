"""Pure text helpers shared by ingestion, retrieval and checking: language, sentences, sizes."""

from __future__ import annotations

import re
from dataclasses import dataclass

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_RE = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """'zh' or 'en'. A CJK character carries about as much as a short Latin word, so a text is
    Chinese when its CJK characters are at least a quarter of CJK + Latin letters."""
    cjk = len(CJK_RE.findall(text))
    latin = len(LATIN_RE.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk >= 0.25 * (cjk + latin) else "en"


def weighted_len(text: str) -> int:
    """Length where a CJK character counts 2: similar information per unit in zh and en."""
    return len(text) + len(CJK_RE.findall(text))


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    heading: bool = False


# Chinese sentence ends (and their ASCII forms), keeping trailing closing quotes/brackets.
_ZH_END = "。！？；!?;"
_CLOSERS = "”’」』）)】\"'"
_ABBREV = {
    "e.g", "i.e", "vs", "dr", "mr", "mrs", "ms", "prof", "fig", "no", "et al", "al", "approx",
    "etc", "inc", "st", "jr", "sr", "ca", "cf", "resp", "mg", "ml", "min", "max",
}
# an upper-case section label right after a full stop, no space ("….AIM: …", "….METHODS: …")
_GLUED_LABEL_RE = re.compile(r"[A-Z]{2,}(?:\s[A-Z]{2,})*\s?[:：]")
_LIST_HEAD_RE = re.compile(r"^\s*(\d{1,2}[、.．]|[（(]\d{1,2}[)）]|[①-⑳])\s*\S")


def _sentence_ends(line: str) -> list[int]:
    """Offsets (exclusive) within one line where a sentence ends."""
    ends: list[int] = []
    n = len(line)
    i = 0
    while i < n:
        ch = line[i]
        end = -1
        if ch in _ZH_END or ch in "。":
            end = i + 1
        elif ch == "." and i > 0 and line[i - 1].islower() and _GLUED_LABEL_RE.match(line, i + 1):
            end = i + 1  # "… are inconclusive.AIM: To investigate …": a label glued on
        elif ch == "." and i + 1 < n and line[i + 1] in " \t":
            # English full stop: followed by space then an upper-case letter, digit or CJK.
            j = i + 1
            while j < n and line[j] in " \t":
                j += 1
            nxt = line[j] if j < n else ""
            # look back a short window only: a whole-line search is quadratic on long lines
            word = re.search(r"([A-Za-z]+(?:\.[A-Za-z]+)*)$", line[max(0, i - 24):i])
            is_abbrev = word is not None and (
                word.group(1).lower() in _ABBREV or len(word.group(1)) == 1
            )
            if nxt and (nxt.isupper() or nxt.isdigit() or CJK_RE.match(nxt) or nxt in "\"“(") \
                    and not is_abbrev:
                end = i + 1
        if end > 0:
            while end < n and line[end] in _CLOSERS:
                end += 1
            ends.append(end)
            i = end
            continue
        i += 1
    return ends


def is_heading(line: str) -> bool:
    """A short line that does not end like a sentence: a section heading or a list label."""
    s = line.strip()
    if not s or weighted_len(s) > 60:
        return False
    if s.startswith("#"):
        return True
    if s[-1] in "。！？；.!?;,，、":
        return False
    return True


def split_sentences(text: str) -> list[Span]:
    """Sentence spans over ``text`` (no leading/trailing whitespace inside a span).

    Lines always end a sentence; within a line Chinese ends (。！？；) and English full stops
    do. Spans are in order, non-overlapping, and ``text[s.start:s.end]`` is never blank.
    """
    spans: list[Span] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        heading = is_heading(body)
        cuts = [0, *(_sentence_ends(body) if not heading else []), len(body)]
        for a, b in zip(cuts, cuts[1:], strict=False):
            seg = body[a:b]
            stripped = seg.strip()
            if not stripped:
                continue
            lead = len(seg) - len(seg.lstrip())
            start = pos + a + lead
            spans.append(Span(start, start + len(stripped), heading))
        pos += len(line)
    # A heading is a short line followed by body text; a run of short lines (a list of names,
    # affiliations or labels) is body text itself.
    out: list[Span] = []
    for i, span in enumerate(spans):
        nxt = spans[i + 1] if i + 1 < len(spans) else None
        prev = spans[i - 1] if i > 0 else None
        heading = span.heading and nxt is not None and not nxt.heading and not (
            prev is not None and prev.heading and _same_block(text, prev, span))
        out.append(Span(span.start, span.end, heading))
    return out


def _same_block(text: str, a: Span, b: Span) -> bool:
    """Two spans on adjacent lines (no blank line between them)."""
    return text.count("\n", a.end, b.start) <= 1
