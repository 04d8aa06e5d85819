"""Small builders for test inputs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any


def without_quote_first(settings: Any) -> Any:
    """``settings`` with ``answer.quote_first`` off: for tests of the model's draft (its
    checking, translation, streaming over the API and app), whose first text would otherwise
    be the binding source sentence quoted (tests/test_quote_first.py)."""
    return settings.model_copy(update={"answer": settings.answer.model_copy(
        update={"quote_first": False})})


def make_pdf(path: Path, lines: list[str]) -> Path:
    """Write a minimal one-page PDF with ASCII text lines (Helvetica)."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    path.write_bytes(out.getvalue())
    return path


def make_wheel(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


CJK_FONTS = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian fonts-wqy-zenhei (.ci/run)
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
]


def cjk_font() -> Path | None:
    """A TrueType font with Chinese glyphs, if one is installed."""
    for candidate in CJK_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def make_paged_pdf(path: Path, pages: list[list[str]], font: Path) -> Path:
    """A PDF with one page per list of lines (Chinese and English), the font embedded, so the
    text can be extracted again page by page."""
    import logging

    from fpdf import FPDF

    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # bitmap-table chatter
    pdf = FPDF()
    pdf.add_font("cjk", fname=str(font), collection_font_number=0)
    pdf.set_font("cjk", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def scripted_bot(settings, folder: Path, name: str, text: str):
    """An Assistant over one document ``name`` holding ``text``, with the hashing embedder and a
    scripted chat model standing in for the LLM (replies queued with ``enqueue``): (assistant,
    model)."""
    from assistant import Assistant
    from assistant.models import HashingEmbedder
    from assistant.testing import ScriptedChatModel

    docs = folder / "docs"
    docs.mkdir()
    (docs / name).write_text(text, encoding="utf-8")
    llm = ScriptedChatModel()
    assistant = Assistant(settings, embedder=HashingEmbedder(), llm=llm)
    assert not assistant.ingest([docs]).failed
    return assistant, llm
