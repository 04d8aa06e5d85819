from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant.types import Document
from ingest.chunking import chunk_document, chunk_spans
from ingest.text import detect_language, split_sentences, weighted_len

ZH = ("骨转移是乳腺癌常见的远处转移部位。地舒单抗可以降低骨相关事件风险！是否需要手术？"
      "要看预期生存期；以及脊柱稳定性。")
EN = ("Anlotinib is a multi-target TKI. The study included 154 patients, e.g. synovial sarcoma. "
      "The ORR was 10.13% and the median PFS was 5.63 months. Is it safe? Yes.")


@pytest.mark.parametrize(
    "text, expected",
    [
        (ZH, ["骨转移是乳腺癌常见的远处转移部位。", "地舒单抗可以降低骨相关事件风险！",
              "是否需要手术？", "要看预期生存期；", "以及脊柱稳定性。"]),
        (EN, ["Anlotinib is a multi-target TKI.",
              "The study included 154 patients, e.g. synovial sarcoma.",
              "The ORR was 10.13% and the median PFS was 5.63 months.", "Is it safe?", "Yes."]),
        ("他说:“好的。”然后离开。", ["他说:“好的。”", "然后离开。"]),
        ("Line one\nLine two.", ["Line one", "Line two."]),
        # an abstract's section label glued to the full stop before it (PubMedQA contexts)
        ("The results are inconclusive.AIM: To investigate pterygia.",
         ["The results are inconclusive.", "AIM: To investigate pterygia."]),
        ("Dosed at 3.5 mg.PATIENTS AND METHODS: We did.",
         ["Dosed at 3.5 mg.", "PATIENTS AND METHODS: We did."]),
        ("Seen on U.S.A. maps and in N.Y.C: twice.", ["Seen on U.S.A. maps and in N.Y.C: twice."]),
    ],
)
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert [text[s.start:s.end] for s in split_sentences(text)] == expected


@pytest.mark.parametrize("text", [ZH * 20, EN * 20, (ZH + "\n\n" + EN) * 10])
@pytest.mark.parametrize("size, overlap", [(120, 0), (200, 60), (700, 150)])
def test_chunks_cover_text_with_exact_offsets(text: str, size: int, overlap: int) -> None:
    doc = Document(doc_id="d", title="T", text=text, language=detect_language(text))
    chunks = chunk_document(doc, size, overlap)
    assert chunks
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert weighted_len(c.text) <= size
    # every sentence end of the text is inside some chunk: nothing is lost
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for s in split_sentences(text):
        assert s.end - 1 in covered
    # chunk ids are stable and unique
    again = chunk_document(doc, size, overlap)
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_chinese_sentence_end_stays_with_its_sentence() -> None:
    spans = chunk_spans(ZH * 5, size=60, overlap=0)
    for start, end, _ in spans:
        piece = (ZH * 5)[start:end]
        assert piece[-1] in "。！？；", piece
        assert piece[0] not in "。！？；"


def test_overlap_repeats_whole_sentences() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    spans = chunk_spans(text, size=120, overlap=40)
    for (s1, e1, _), (s2, _e2, _) in zip(spans, spans[1:], strict=False):
        assert s2 < e1, "consecutive chunks should overlap"
        assert s2 > s1, "chunking must always advance"
        assert text[s2:e1].strip().endswith(".")


def test_heading_is_recorded_and_starts_chunk() -> None:
    text = "Inclusion criteria\n" + "Patients aged 18-70 years. " * 3 + "\nExclusion criteria\n" + \
           "Prior anlotinib. " * 3
    spans = chunk_spans(text, size=120, overlap=0)
    headings = {text[s:e].split("\n")[0]: h for s, e, h in spans}
    assert any(text[s:e].startswith("Exclusion criteria") for s, e, _ in spans)
    assert "Inclusion criteria" in headings


def test_language_detection() -> None:
    assert detect_language(ZH) == "zh"
    assert detect_language(EN) == "en"
    assert detect_language("ALTER-S004研究的ORR是多少?") == "zh"
    assert detect_language("What was the ORR of ALTER-S004?") == "en"


@hsettings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=600),
       st.integers(20, 400), st.integers(0, 100))
def test_offsets_hold_on_arbitrary_text(text: str, size: int, overlap: int) -> None:
    for start, end, _ in chunk_spans(text, size, overlap):
        assert 0 <= start < end <= len(text)
        assert text[start:end].strip()
        assert weighted_len(text[start:end]) <= size


SECTIONS = ("## Inclusion criteria\n" + "Patients aged 18-70 years. " * 5
            + "\n\n## Exclusion criteria\n" + "Prior anlotinib. " * 3
            + "\n入组标准\n年龄18至70岁。体能评分0-1分。")


@pytest.mark.parametrize("text, size, overlap, expected", [
    # (first line of each chunk, the heading it records)
    (SECTIONS, 120, 0, [("## Inclusion criteria", "Inclusion criteria"),
                        (" ".join(["Patients aged 18-70 years."] * 2), "Inclusion criteria"),
                        ("## Exclusion criteria", "Exclusion criteria"),
                        ("入组标准", "入组标准")]),
    # an overlapping chunk that starts inside a section remembers that section's heading
    (SECTIONS, 120, 40, [("## Inclusion criteria", "Inclusion criteria"),
                         (" ".join(["Patients aged 18-70 years."] * 3), "Inclusion criteria"),
                         ("Patients aged 18-70 years.", "Inclusion criteria"),
                         ("## Exclusion criteria", "Exclusion criteria"),
                         ("Prior anlotinib. Prior anlotinib.", "Exclusion criteria"),
                         ("Prior anlotinib. ", "Exclusion criteria")]),
    # a heading starts a new chunk even when the next section would still fit
    ("# Methods\n" + "We enrolled 154 patients. " * 2 + "\n# Results\nThe ORR was 10.13%. "
     "The median PFS was 5.63 months.", 200, 0,
     [("# Methods", "Methods"), ("# Results", "Results")]),
    ("没有标题的正文。第二句。", 200, 0, [("没有标题的正文。第二句。", "")]),
])
def test_chunks_record_their_heading(text: str, size: int, overlap: int, expected) -> None:
    got = [(text[s:e].split("\n")[0], h) for s, e, h in chunk_spans(text, size, overlap)]
    assert got == expected


def test_chunk_document_keeps_heading_but_not_on_a_heading_only_chunk() -> None:
    text = "Results\nThe overall response rate was ten percent, in all arms of the trial."
    doc = Document(doc_id="d", title="T", text=text, language="en")
    assert [(c.text, c.heading) for c in chunk_document(doc, 40, 0)] == [
        ("Results", ""),  # the heading itself: no heading to repeat
        ("The overall response rate was ten ", "Results"),
        ("percent, in all arms of the trial.", "Results"),
    ]
    # and the heading is embedded with the passage
    doc = Document(doc_id="d", title="Trial", text=SECTIONS, language="en")
    second = chunk_document(doc, 120, 0)[1]
    assert second.heading == "Inclusion criteria"
    assert "Inclusion criteria" in second.embedding_text()
    assert "Inclusion criteria" not in second.text


@pytest.mark.parametrize("text, size, pieces", [
    ("x" * 10, 10, ["x" * 10]),  # exactly the size: one piece
    ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),  # no soft break: hard cuts at the size
    ("骨" * 12, 10, ["骨" * 5, "骨" * 5, "骨" * 2]),  # a CJK character weighs 2
    # cut after the last comma or space in the second half of the window
    ("alpha beta, gamma delta, epsilon zeta.", 20, ["alpha beta, gamma ",
                                                     "delta, epsilon zeta."]),
    ("安罗替尼，联合化疗，客观缓解率为百分之十。", 12,
     ["安罗替尼，", "联合化疗，", "客观缓解率为", "百分之十。"]),
    # a break in the first half of the window is too early: cut hard instead
    ("ab, cdefghijkl", 10, ["ab, cdefgh", "ijkl"]),
    ("abcdefghij klm", 8, ["abcdefgh", "ij klm"]),
    ("aaaaaaaaaaaa,b", 10, ["a" * 10, "aa,b"]),
    # the next piece starts after the spaces at the cut
    ("abcdef   ghijklmnop", 8, ["abcdef  ", "ghijklmn", "op"]),
])
def test_long_sentence_is_cut_at_soft_breaks(text: str, size: int, pieces: list[str]) -> None:
    assert [text[s:e] for s, e, _ in chunk_spans(text, size, 0)] == pieces


@pytest.mark.parametrize("size", [0, -5])
def test_chunk_size_must_be_positive(size: int) -> None:
    with pytest.raises(ValueError) as err:
        chunk_spans("Some text.", size, 0)
    assert str(err.value) == "chunk size must be positive"


def test_chunk_size_one_still_advances() -> None:
    # the smallest size: a CJK character (weight 2) is over it, yet each is its own piece
    assert [("骨骨")[s:e] for s, e, _ in chunk_spans("骨骨", 1, 0)] == ["骨", "骨"]


def test_size_and_overlap_are_inclusive_bounds() -> None:
    # each sentence is 11 weighted characters; two with their space are exactly 23
    text = " ".join(f"Sentence {i}." for i in range(6))
    pairs = [text[s:e] for s, e, _ in chunk_spans(text, 23, 11)]
    assert pairs == [f"Sentence {i}. Sentence {i + 1}." for i in range(5)]  # 1 repeated
    assert [text[s:e] for s, e, _ in chunk_spans(text, 23, 10)] == [
        "Sentence 0. Sentence 1.", "Sentence 2. Sentence 3.", "Sentence 4. Sentence 5."]


def test_last_piece_of_exactly_the_size_is_not_cut_again() -> None:
    text = "x" * 10 + "abcdef,ghi"
    assert [text[s:e] for s, e, _ in chunk_spans(text, 10, 0)] == ["x" * 10, "abcdef,ghi"]


def test_chunk_does_not_end_on_the_next_sections_heading() -> None:
    # "Intro." is under a quarter full, so the heading may join it, but the section's body
    # does not fit: the heading goes with its body, not at the end of "Intro."
    text = "Intro.\n# Results\nThe objective response rate was ten percent in all arms."
    assert [(text[s:e], h) for s, e, h in chunk_spans(text, 70, 0)] == [
        ("Intro.", ""),
        ("# Results\nThe objective response rate was ten percent in all arms.", "Results")]


def test_heading_keeps_its_own_leading_letters() -> None:
    # only the Markdown marks are stripped: "X-ray" keeps its X
    text = "## X-ray findings\nLytic lesions were seen in the femur. Two patients had fractures."
    assert [h for _, _, h in chunk_spans(text, 60, 0)] == ["X-ray findings", "X-ray findings"]


def test_chunks_carry_the_documents_kind_and_id() -> None:
    text = "One sentence here. Another one."
    doc = Document(doc_id="d", title="T", text=text, language="en", kind="guideline")
    chunks = chunk_document(doc, 20, 0)
    assert [(c.text, c.kind, c.doc_id) for c in chunks] == [
        ("One sentence here.", "guideline", "d"), ("Another one.", "guideline", "d")]
    # the same passage in another document is another chunk
    other = chunk_document(doc.model_copy(update={"doc_id": "e"}), 20, 0)
    assert {c.chunk_id for c in chunks}.isdisjoint(c.chunk_id for c in other)
    # ids are what an existing index stores: a change of scheme would orphan every index
    assert [c.chunk_id for c in chunks] == ["e8e1887d476b253eaf6a", "2f9ddccb0c3cadbb4c44"]
