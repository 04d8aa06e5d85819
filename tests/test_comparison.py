"""Which way a comparison goes is checked (round 12, written with dev d7-09 to d7-12): a
numberless answer sentence was supported by shared words alone, so "地舒单抗组整体不良反应发生率
更高" passed as well as the source's "…更低". Each row was seen red with the rule removed."""

from __future__ import annotations

import pytest

from assistant.citations import check_answer
from assistant.claims import directions_in
from assistant.types import RetrievedChunk

SAFETY = RetrievedChunk(
    chunk_id="c1", doc_id="d1", title="乳腺癌骨转移的全程管理", language="zh", start=0, end=120,
    text="一项头对头比较地舒单抗与唑来膦酸的Ⅲ期临床研究入组超过2000例患者。在生活质量和安全性方面,"
         "地舒单抗组安全性更好,整体不良反应发生率更低。")
Q = "地舒单抗组与唑来膦酸组相比,整体不良反应发生率如何?"


@pytest.mark.parametrize("text, ways", [
    ("整体不良反应发生率更低", {"down"}),
    ("The rate was lower with denosumab and safety was better.", {"down", "better"}),
    ("两组发病率相似", {"same"}),
    ("ORR为25%", set()),
])
def test_directions_in(text: str, ways: set) -> None:
    assert directions_in(text) == ways


@pytest.mark.parametrize("answer, shown", [
    ("地舒单抗组整体不良反应发生率更低[1]。", True),
    ("地舒单抗组整体不良反应发生率更高[1]。", False),  # the other way
    ("两组整体不良反应发生率相似[1]。", False),
])
def test_a_comparison_is_supported_only_by_a_sentence_going_the_same_way(answer: str,
                                                                       shown: bool) -> None:
    result = check_answer(answer, [SAFETY], "zh", question=Q)
    assert (result.citations != []) is shown, result.checks
