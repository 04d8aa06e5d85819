"""Tokenisation for the keyword index and for lexical support checks.

Chinese goes through jieba (search mode) with a domain word list so drug and disease names such
as 地舒单抗 and 唑来膦酸 stay whole; Latin text is lower-cased words; numbers keep their
decimals and percent signs; identifiers such as ALTER-S004 stay one token.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from .text import CJK_RE

_TOKEN_RE = re.compile(
    r"[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*(?:\.\d+)?%?|[\u3400-\u9fff\uf900-\ufaff]+"
)
EN_STOP = frozenset(
    "a an the of and or in on at to for with by from is are was were be been being this that "
    "these those it its as into than then there their them they he she his her we our you your "
    "i me my what which who whom whose when where why how do does did doing have has had not no "
    "can could would should will shall may might must about after before over under between "
    "also any all each other such only same so very more most some up down out if while".split()
)
ZH_STOP = frozenset(
    "的 了 和 与 及 或 是 在 中 对 为 以 于 而 等 有 也 都 就 被 其 将 从 并 这 那 之 个 该 "
    "吗 呢 吧 啊 什么 哪些 多少 如何 怎么 怎样 是否 可以 能否 请问 一下".split()
)
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _lock:
        words = resources.files("ingest").joinpath("data/domain_words.txt")
        with resources.as_file(words) as path:
            jieba.load_userdict(str(path))
        jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Keyword tokens of ``text`` (lower-cased, stop words dropped)."""
    tokens: list[str] = []
    for match in _TOKEN_RE.finditer(text):
        piece = match.group(0)
        if CJK_RE.match(piece):
            for word in _jieba().cut_for_search(piece):
                word = word.strip()
                if word and word not in ZH_STOP:
                    tokens.append(word)
        else:
            low = piece.lower()
            if low not in EN_STOP:
                tokens.append(_stem(low))
    return tokens


def _stem(word: str) -> str:
    """Tiny plural folding, enough for 'patients'/'patient' and 'metastases'/'metastasis'."""
    if len(word) > 4 and word.isalpha():
        if word.endswith("ses") and word.endswith("ases"):
            return word[:-2] + "is"
        if word.endswith("ies"):
            return word[:-3] + "y"
        if word.endswith("s") and not word.endswith("ss"):
            return word[:-1]
    return word


def support_units(text: str) -> set[str]:
    """Units for lexical overlap: Latin content words and CJK character bigrams.

    Bigrams make Chinese paraphrase comparisons independent of how jieba segments a sentence.
    """
    units: set[str] = set()
    for match in _TOKEN_RE.finditer(text):
        piece = match.group(0)
        if CJK_RE.match(piece):
            chars = [c for c in piece if c not in ZH_STOP]
            if len(piece) == 1:
                units.update(chars)
            units.update(piece[i : i + 2] for i in range(len(piece) - 1))
        elif not _NUMERIC_RE.match(piece):  # numbers are checked separately, exactly
            low = piece.lower()
            if low not in EN_STOP:
                units.add(_stem(low))
    return units


_NUMERIC_RE = re.compile(r"^[\d.,]+%?$")


ANCHOR_RE = re.compile(r"\d|^[a-z]{2,}[-\d]")


def anchor_terms(question: str, tokens: Sequence[str]) -> list[str]:
    """Tokens that mean the same in any language: identifiers and numbers (alter-s004, 28.57%,
    pd-1), and Latin acronyms written in capitals in the question (ORR, PFS, RANKL, SBRT)."""
    # not \b: between "的" and "ORR" there is no word boundary (CJK characters are \w)
    acronyms = {a.lower() for a in re.findall(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9\-]{2,}(?![A-Za-z0-9])",
                                               question)}
    out = []
    for t in tokens:
        if ANCHOR_RE.search(t) or t in acronyms:
            out.append(t)
    return sorted(set(out))
