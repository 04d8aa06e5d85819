"""Cleaning removes web chrome and readers' personal data, and loses no real content."""

from __future__ import annotations

import pytest

from ingest.clean import clean_text

from .conftest import SAMPLE


def raw(name: str) -> str:
    return next(SAMPLE.glob(f"{name}_*.txt")).read_text(encoding="utf-8")


@pytest.mark.parametrize("doc, gone", [
    ("003", ["壹生身份认证协议书", "隐私政策", "{{ item.question }}", "不同意并跳过",
             "您已通过HCP身份认证和信息审核", "https://apps.medtrib.cn", "200 评论", "查看更多"]),
    ("004", ["您好,欢迎您", "刘永亮", "平遥中都乡卫生院", "颜昕", "漳州市医院"]),
    ("000", ["您好,欢迎您", "邓勇", "连云港市妇幼保健院", "吴枫阳", "湖北省肿瘤医院 | 消化内科"]),
    ("001", ["Loading...", "Status and phase", "Data sourced from clinicaltrials.gov", "Legal"]),
])
def test_chrome_and_personal_data_removed(doc: str, gone: list[str]) -> None:
    cleaned = clean_text(raw(doc)).text
    for item in gone:
        assert item not in cleaned, item


# (first line of the article, read by hand; the comment section starts at the last "评论")
@pytest.mark.parametrize("doc, first_line", [("000", 3), ("001", 5), ("002", 5), ("003", 43),
                                             ("004", 3)])
def test_no_real_content_lost(doc: str, first_line: int) -> None:
    """Every line of the article that is a real sentence survives verbatim."""
    text = raw(doc)
    cleaned = clean_text(text).text
    lines = text.splitlines()
    marker = max((i for i, s in enumerate(lines) if s.strip().endswith("评论")), default=len(lines))
    content = [s.strip() for s in lines[first_line - 1:marker]
               if len(s.strip()) >= 25 and ("。" in s or ". " in s or s.strip().endswith("."))]
    assert len(content) >= 5
    for line in content:
        assert line in cleaned, line


def test_specific_facts_kept() -> None:
    assert "ORR为28.57%" in clean_text(raw("000")).text
    assert "43 participants in 1 patient group" in clean_text(raw("002")).text
    assert "乳腺癌骨转移八成以上以溶骨性骨质破坏为主" in clean_text(raw("004")).text


def test_placeholder_inside_content_line() -> None:
    result = clean_text("第一行正文内容比较长。\n结果 {{ item.value }} 显示有效。\n")
    assert result.text == "第一行正文内容比较长。\n结果  显示有效。"
    assert result.removed


def test_comment_marker_early_in_page_is_not_truncated() -> None:
    # "评论" near the top is not a comment section: nothing after it may be dropped
    text = "评论\n" + "\n".join(f"这是第{i}段真实的医学内容。" for i in range(10))
    assert clean_text(text).text.count("真实的医学内容") == 10
