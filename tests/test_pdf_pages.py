"""Page numbers for PDFs: multi-page PDFs in Chinese and English are built during the test run
(fpdf2 with a CJK TrueType font from Debian), ingested, and cited; the citation's page must be
the page its quote is printed on, while offsets still point into the document text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant import Assistant, Settings
from assistant.cli import format_answer
from assistant.models import HashingEmbedder
from assistant.testing import ScriptedChatModel
from assistant.types import RetrievedChunk, page_at
from assistant.ui import sources_html
from ingest.clean import PLACEHOLDER_RE, clean_text
from ingest.loaders import load_document
from ingest.store import IndexStore

from .helpers import cjk_font, make_paged_pdf

FONT = cjk_font()
needs_font = pytest.mark.skipif(FONT is None, reason="no CJK TrueType font installed (Debian: "
                                                     "apt-get install fonts-wqy-zenhei)")

PAGES = [
    ["骨转移瘤寡转移问答",
     "地舒单抗是一种RANKL抑制剂,可以降低骨相关事件的发生风险。"],
    ["Zoledronic acid is a bisphosphonate given every 4 weeks.",
     "In the fictional KAPPA-7 trial, denosumab delayed the first skeletal-related event by "
     "8.2 months."],
    ["唑来膦酸属于双膦酸盐类药物,减量方案每12周静脉给药一次。",
     "KAPPA-7 enrolled 1,904 patients with bone metastases from breast cancer."],
]


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    if FONT is None:
        pytest.skip("no CJK TrueType font installed (Debian: apt-get install fonts-wqy-zenhei)")
    pytest.importorskip("fpdf", reason="fpdf2 builds the test PDFs (pip install fpdf2)")
    folder = tmp_path / "pdfs"
    folder.mkdir()
    return make_paged_pdf(folder / "kappa7.pdf", PAGES, FONT)


@pytest.fixture
def bot(settings: Settings, pdf: Path) -> Assistant:
    assistant = Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    report = assistant.ingest([pdf])
    assert report.count("added") == 1, report.results
    return assistant


@pytest.mark.parametrize(("starts", "offset", "page"), [
    ([], 10, None),
    ([(0, 1)], 0, 1),
    ([(0, 1), (57, 2), (134, 3)], 56, 1),
    ([(0, 1), (57, 2), (134, 3)], 57, 2),
    ([(0, 1), (57, 2), (134, 3)], 10_000, 3),
    ([(0, 2), (40, 3)], 5, 2),  # page 1 had no text
])
def test_page_at(starts: list[tuple[int, int]], offset: int, page: int | None) -> None:
    assert page_at(starts, offset) == page


def test_loader_records_where_each_page_begins(pdf: Path) -> None:
    doc = load_document(pdf, doc_id="kappa7.pdf")
    assert [p for _, p in doc.page_starts] == [1, 2, 3]
    for (start, page), lines in zip(doc.page_starts, PAGES, strict=True):
        assert doc.text[start:].startswith(lines[0]), (page, doc.text[start:start + 40])
    assert doc.text.index("8.2 months") > doc.page_starts[1][0]
    assert page_at(doc.page_starts, doc.text.index("1,904")) == 3
    assert page_at(doc.page_starts, doc.text.index("地舒单抗")) == 1


def test_chinese_and_english_pages_are_cited_with_their_page(bot: Assistant) -> None:
    llm: ScriptedChatModel = bot._llm
    llm.enqueue("In KAPPA-7, denosumab delayed the first skeletal-related event by 8.2 months "
                "[1].", "KAPPA-7 enrolled 1,904 patients [1].",
                "唑来膦酸减量方案每12周静脉给药一次[1]。")
    text = bot.store.document_text("kappa7.pdf")
    for question, page, words in [
        ("How many months did denosumab delay the first skeletal-related event in KAPPA-7?", 2,
         "8.2 months"),
        ("How many patients did KAPPA-7 enroll?", 3, "1,904 patients"),
        ("唑来膦酸减量方案多久给药一次?", 3, "每12周静脉给药一次"),
    ]:
        answer = bot.ask(question)
        assert not answer.abstained, (question, answer.abstain_reason)
        [cite] = answer.citations
        assert cite.page == page and words in cite.quote
        assert text[cite.quote_start:cite.quote_end] == cite.quote  # offsets: document text
        assert f"kappa7.pdf · p. {page}</div>" in sources_html(answer)
        assert f"(kappa7.pdf, p. {page}, chars {cite.quote_start}-" in format_answer(answer)


def test_every_chunk_starts_on_the_page_pypdf_reads_it_from(settings: Settings,
                                                            tmp_path: Path) -> None:
    if FONT is None:
        pytest.skip("no CJK TrueType font installed")
    pytest.importorskip("fpdf")
    from pypdf import PdfReader

    pages = [[f"Page {p} sentence {i}: zoledronic acid and denosumab were compared in cohort "
              f"{p}-{i} with {p * 10 + i}% responses." for i in range(6)] +
             [f"第{p}页:地舒单抗组第{i}例患者未发生骨相关事件。" for i in range(3)]
             for p in range(1, 7)]
    path = make_paged_pdf(tmp_path / "long.pdf", pages, FONT)
    bot = Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    bot.ingest([path])
    page_text = {n: " ".join(p.extract_text().split())
                 for n, p in enumerate(PdfReader(str(path)).pages, 1)}
    ids = [r[0] for r in bot.store.records.db.execute("SELECT chunk_id FROM chunks ORDER BY start")]
    chunks = bot.store.get_chunks(ids)
    assert len(chunks) > 4 and {c.page for c in chunks} >= {1, 3, 6}
    assert any(c.page_breaks for c in chunks)
    for chunk in chunks:
        # the text of each page inside the chunk is on that page of the PDF
        starts = [(chunk.start, chunk.page), *chunk.page_breaks]
        ends = [offset for offset, _ in chunk.page_breaks] + [chunk.end]
        for (start, page), end in zip(starts, ends, strict=True):
            assert chunk.start <= start < end <= chunk.end
            piece = " ".join(chunk.text[start - chunk.start:end - chunk.start].split())
            assert piece and piece in page_text[page], (page, piece[:60])


def test_non_pdf_chunks_have_no_page(settings: Settings, corpus: Path) -> None:
    bot = Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    bot.ingest([corpus])
    chunk = bot.retrieve("osteosarcoma SBRT")[0]
    assert chunk.page is None and chunk.page_breaks == [] and chunk.page_at(chunk.start) is None


def test_index_from_before_pages_opens_and_gets_pages_on_reingest(bot: Assistant,
                                                                  pdf: Path) -> None:
    db_path = bot.store.dir / "records.sqlite3"
    bot.store.close()
    with sqlite3.connect(db_path) as raw:  # as an index made by the previous version
        raw.execute("ALTER TABLE documents DROP COLUMN page_starts")
    old = Assistant(bot.settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    assert old.retrieve("KAPPA-7 enrolled patients")[0].page is None  # opened, no pages yet
    report = old.ingest([pdf])
    assert report.count("skipped") == 1  # text unchanged: nothing re-embedded ...
    assert old.retrieve("KAPPA-7 enrolled patients")[0].page == 1  # ... but pages recorded
    assert [p for _, p in old.store.page_starts("kappa7.pdf")] == [1, 2, 3]


def test_pages_reach_the_http_api(bot: Assistant, pdf: Path) -> None:
    import openai

    from assistant.http_api import create_app, serve_in_thread

    bot._llm.enqueue("KAPPA-7 enrolled 1,904 patients [1].")
    with serve_in_thread(create_app(bot)) as base:
        client = openai.OpenAI(base_url=base + "/v1", api_key="x", max_retries=0)
        completion = client.chat.completions.create(model="clincite", messages=[
            {"role": "user", "content": "How many patients did KAPPA-7 enroll?"}])
    content = completion.choices[0].message.content
    assert "(kappa7.pdf, p. 3): \"KAPPA-7 enrolled 1,904 patients" in content
    assert completion.model_extra["clincite"]["citations"][0]["page"] == 3


def test_retrieved_chunk_page_at() -> None:
    chunk = RetrievedChunk(chunk_id="c", doc_id="d", title="t", text="x" * 100, start=200,
                           end=300, language="en", page=4, page_breaks=[(250, 5)])
    assert [chunk.page_at(o) for o in (200, 249, 250, 299)] == [4, 4, 5, 5]


LINES = st.sampled_from([
    "", "  ", "Denosumab reduced skeletal events by 18%.", "地舒单抗是一种RANKL抑制剂。",
    "首页", "Menu", "https://example.org/x", "{{ item.question }}", "Dose {{ dose }} mg daily",
    "我已阅读并同意隐私政策", "评论", "漳州市医院 | 乳腺外科", "Results   ", "\t",
])


@hsettings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=40), st.sampled_from(["\n", "\r\n", "\r"]))
def test_clean_text_says_which_input_line_each_output_line_is(lines: list[str],
                                                              newline: str) -> None:
    text = newline.join(lines)
    cleaned = clean_text(text)
    out = cleaned.text.split("\n") if cleaned.text else []
    assert len(out) == len(cleaned.lines)
    assert cleaned.lines == sorted(set(cleaned.lines))  # in order, each input line once
    for line, n in zip(out, cleaned.lines, strict=True):
        source = lines[n]
        assert line == PLACEHOLDER_RE.sub("", source).rstrip() or (not line and
                                                                   not source.strip())


def test_old_store_schema_gets_the_column_once(settings: Settings) -> None:
    store = IndexStore(settings, "fake-hashing-256")
    store.records.db.execute("ALTER TABLE documents DROP COLUMN page_starts")
    store.close()
    again = IndexStore(settings, "fake-hashing-256")
    IndexStore(settings, "fake-hashing-256")  # a second opener finds it there
    columns = [r[1] for r in again.records.db.execute("PRAGMA table_info(documents)")]
    assert columns.count("page_starts") == 1
