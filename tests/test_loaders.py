from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IngestError
from ingest.loaders import discover, load_document, read_manifest

from .conftest import SAMPLE
from .helpers import make_pdf

ZH_TEXT = "地舒单抗是一种RANKL抑制剂,可以降低骨相关事件的发生风险。\n唑来膦酸属于双膦酸盐类药物。\n"


def test_manifest_gives_title_language_kind() -> None:
    manifest = read_manifest(SAMPLE)
    path = next(SAMPLE.glob("001_*.txt"))
    doc = load_document(path, doc_id=path.name, manifest=manifest[path.name])
    assert doc.language == "en"
    assert doc.kind == "clinical trial record"
    assert doc.title.startswith("Anlotinib combined with toripalimab")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_chinese_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "zh.txt"
    path.write_bytes(ZH_TEXT.encode(encoding))
    doc = load_document(path, doc_id="zh.txt")
    assert "地舒单抗是一种RANKL抑制剂" in doc.text
    assert doc.language == "zh"
    assert doc.title.startswith("地舒单抗")  # inferred from the first line


def test_html_drops_scripts_and_navigation(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Site</title><script>alert('x'); var secret=1;</script>"
        "<style>p{color:red}</style></head><body><nav>Home | Menu</nav>"
        "<h1>Denosumab in bone metastases</h1><p>Denosumab reduced skeletal-related events by "
        "18%.</p><footer>Copyright</footer></body></html>", encoding="utf-8")
    doc = load_document(path, doc_id="page.html")
    assert doc.title == "Denosumab in bone metastases"
    assert "Denosumab reduced skeletal-related events by 18%." in doc.text
    for junk in ("alert", "secret", "color:red", "Menu", "Copyright"):
        assert junk not in doc.text
    assert doc.kind == "web page"


def test_markdown(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Osteosarcoma notes\n\nAbout 15%-20% present with lung metastasis.\n")
    doc = load_document(path, doc_id="notes.md")
    assert doc.title == "Osteosarcoma notes"
    assert "15%-20%" in doc.text


def test_pdf(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "trial.pdf", ["Nirogacestat ORR was 41% versus 8% for placebo."])
    doc = load_document(path, doc_id="trial.pdf")
    assert "Nirogacestat ORR was 41% versus 8% for placebo." in doc.text
    assert doc.language == "en"


@pytest.mark.parametrize("name, data, message", [
    ("empty.txt", b"", "empty"),
    ("binary.txt", b"\x00\x01\x02\x03" * 100, "binary"),
    ("slides.pptx", b"PK\x03\x04 whatever", "unsupported file type"),
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
    ("chrome.txt", "同意\n拒绝\n确定\n".encode(), "no text left"),
])
def test_bad_inputs_give_one_clear_line(tmp_path: Path, name: str, data: bytes,
                                        message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as info:
        load_document(path, doc_id=name)
    text = str(info.value)
    assert message in text
    assert name in text
    assert "\n" not in text


def test_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(bytes(range(0x80, 0x100)) * 50)
    with pytest.raises(IngestError, match="decode|binary"):
        load_document(path, doc_id="bad.txt")


def test_oversize_and_missing(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("a sentence. " * 2000)
    with pytest.raises(IngestError, match="over the"):
        load_document(big, doc_id="big.txt", max_bytes=1000)
    with pytest.raises(IngestError, match="no such file"):
        load_document(tmp_path / "nope.txt", doc_id="nope.txt")


def test_discover_gives_stable_relative_ids(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "MANIFEST.tsv").write_text("file\ttitle\n")
    found = discover([tmp_path])
    assert [doc_id for _, doc_id, _ in found] == ["sub/a.txt"]
