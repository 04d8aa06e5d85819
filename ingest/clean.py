"""Remove web chrome from saved pages. Pure: text in, (clean text, removed lines) out.

What goes: login/consent boilerplate at the top of a page, lone navigation and button words,
template placeholders such as ``{{ item.question }}``, and comment sections (readers' names
and hospitals are personal data that must never be indexed). Real content is left verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Buttons, tabs and field labels that appear alone on a line.
NAV_WORDS = {
    # zh
    "同意", "拒绝", "不同意", "不同意并跳过", "确定", "取消", "重新提交", "完善信息", "收集问题",
    "知情同意书", "查看更多", "审核未通过", "请您耐心等待", "工作人员正在审核中,", "您好,欢迎您",
    "您好，欢迎您", "首页", "返回", "分享", "收藏", "点赞", "登录", "注册", "退出", "更多",
    "上一篇", "下一篇", "相关阅读", "推荐阅读", "非原创", "原创", "q&a", "扫码关注", "打开app",
    # en (clinical-trial registry page tabs and labels with no value)
    "status and phase", "conditions", "treatments", "enrollment", "sex", "ages", "volunteers",
    "primary purpose", "allocation", "interventional model", "masking", "loading...",
    "central trial contact", "data sourced from clinicaltrials.gov", "clinical trials",
    "research sites", "resources", "legal", "share", "print", "menu", "home", "sign in",
    "log in", "login", "sign up", "register", "accept", "accept all", "decline", "skip to content",
    "cookie settings", "back to top", "read more", "show more",
}

# Lines that mark login / consent / identity-check boilerplate.
CONSENT_RE = re.compile(
    r"(身份认证|隐私政策|服务协议|协议书|知情同意|欢迎您|审核|您已通过|点击了?[“\"]?同意|"
    r"授权.{0,10}平台|cookie|privacy policy|terms of (service|use)|consent to|sign in to)",
    re.IGNORECASE,
)
PLACEHOLDER_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\$\{[^}]*\}")
URL_LINE_RE = re.compile(r"^\s*(https?://\S+|www\.\S+)\s*$")
# "200 评论", "评论", "Comments (12)", "网友评论": start of a readers' comment section
COMMENTS_RE = re.compile(
    r"^\s*(\d+\s*)?(条)?(评论|网友评论|最新评论|全部评论|精彩评论|留言|comments?|"
    r"leave a (comment|reply)|\d+\s+comments?)(\s*[(（]\d+[)）])?\s*$",
    re.IGNORECASE,
)
# "漳州市医院 | 乳腺外科": a reader's affiliation line (personal data)
AFFILIATION_RE = re.compile(r"^.{2,40}(医院|卫生院|卫生服务中心|诊所|中心|大学|hospital|clinic)"
                            r".{0,6}\s\|\s.{1,20}$", re.IGNORECASE)
# Vocabulary of consent and account text: lines before the last consent line may use it.
CONSENT_BROAD_RE = re.compile(r"(认证|协议|隐私|同意|授权|合规|注册|用户|个人信息|专业人士|"
                              r"account|privacy|consent|cookies?|terms)", re.IGNORECASE)
SHORT_JUNK_RE = re.compile(r"^\W{0,2}\w?\W{0,2}$")  # "(", "5", "s)"

TOP_WINDOW = 60  # consent boilerplate is only looked for this many lines into a page


@dataclass
class CleanResult:
    text: str
    removed: list[str] = field(default_factory=list)
    # for each line of ``text``, the number of the input line it is (after newline
    # normalisation): lets a caller map what it knew about input lines (a PDF's pages) onto
    # the cleaned text
    lines: list[int] = field(default_factory=list)


def _is_nav(line: str) -> bool:
    return line.strip().lower() in NAV_WORDS


def _top_chrome_end(lines: list[str]) -> int:
    """Index after the login/consent block at the top of a page, or 0 if there is none.

    The block ends at the last consent-like line within the first lines; everything before it
    must itself be chrome (consent text, buttons, URLs, placeholders, site names, junk) or it
    is kept.
    """
    window = lines[:TOP_WINDOW]
    last = -1
    for i, line in enumerate(window):
        if CONSENT_RE.search(line):
            last = i
    if last < 0:
        return 0
    for line in window[:last]:
        s = line.strip()
        if not s:
            continue
        chrome = (
            CONSENT_BROAD_RE.search(s) or _is_nav(s) or URL_LINE_RE.match(s)
            or PLACEHOLDER_RE.search(s) or SHORT_JUNK_RE.match(s) or len(s) <= 12
            or s.endswith((":", "："))
        )
        if not chrome:
            return 0
    end = last + 1
    while end < len(lines) and (not lines[end].strip() or SHORT_JUNK_RE.match(lines[end].strip())):
        end += 1
    return end


def clean_text(text: str) -> CleanResult:
    """Strip web chrome and personal data from page text; keep content lines verbatim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = text.split("\n")
    removed: list[str] = []

    top = _top_chrome_end(lines)
    removed.extend(s for s in lines[:top] if s.strip())
    origin = list(range(top, len(lines)))  # input line number of each remaining line
    lines = lines[top:]

    # A comment section runs to the end of the page; only trust a marker in the last half.
    for i, line in enumerate(lines):
        if i >= len(lines) // 2 and COMMENTS_RE.match(line):
            removed.extend(s for s in lines[i:] if s.strip())
            lines, origin = lines[:i], origin[:i]
            break

    kept: list[tuple[int, str]] = []
    for n, line in zip(origin, lines, strict=True):
        stripped = line.strip()
        if not stripped:
            kept.append((n, ""))
            continue
        if _is_nav(stripped) or URL_LINE_RE.match(stripped) or AFFILIATION_RE.match(stripped):
            removed.append(stripped)
            continue
        if PLACEHOLDER_RE.search(line):
            without = PLACEHOLDER_RE.sub("", line)
            removed.append(stripped)
            if not without.strip():
                continue
            line = without
        kept.append((n, line.rstrip()))

    # collapse runs of blank lines left behind
    out: list[str] = []
    out_lines: list[int] = []
    for n, line in kept:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
        out_lines.append(n)
    while out and out[-1] == "":
        out.pop()
        out_lines.pop()
    return CleanResult("\n".join(out), removed, out_lines)
