"""Load files into Documents: decode, extract text, clean, and attach metadata.

Supported: the suffixes in ``LOADERS`` (.txt/.text/.md/.markdown, .html/.htm/.xhtml, .pdf); a
new file type is one reader function and one line there (the app's upload box reads the same
list). Each problem raises ``IngestError(path, what to do)``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import IngestError
from assistant.types import Document, PageStarts

from .clean import CleanResult, clean_text
from .text import detect_language

MANIFEST_NAMES = ("MANIFEST.tsv", "manifest.tsv")
SKIP_NAMES = {*MANIFEST_NAMES, "README.md", "readme.md", "LICENSE"}


@dataclass(frozen=True)
class ManifestEntry:
    title: str = ""
    language: str = ""
    kind: str = ""


def read_manifest(folder: Path) -> dict[str, ManifestEntry]:
    """``MANIFEST.tsv`` beside the files: columns file, language, kind, title (any order)."""
    for name in MANIFEST_NAMES:
        path = folder / name
        if path.is_file():
            with open(path, encoding="utf-8-sig", newline="") as fh:
                rows = csv.DictReader(fh, delimiter="\t")
                return {
                    (row.get("file") or "").strip(): ManifestEntry(
                        title=(row.get("title") or "").strip(),
                        language=(row.get("language") or "").strip(),
                        kind=(row.get("kind") or "").strip(),
                    )
                    for row in rows
                    if row.get("file")
                }
    return {}


def decode_bytes(raw: bytes, path: str) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK/GB2312), else a detected
    encoding that decodes cleanly; otherwise a clear error."""
    if b"\x00" in raw[:8192]:
        raise IngestError(path, "looks like a binary file, not text; convert it to .txt, .md, "
                                ".html or .pdf first")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030" and _mostly_odd(text):
            break
        return text
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is not None and best.encoding and best.chaos < 0.2:
        return str(best)
    raise IngestError(path, "cannot decode the text (not UTF-8 or GB18030); save it as UTF-8 "
                            "and ingest again")


def _mostly_odd(text: str) -> bool:
    """GB18030 decodes almost any bytes; reject results full of rare/private-use characters."""
    if not text:
        return False
    odd = sum(1 for ch in text if unicodedata.category(ch) in ("Co", "Cn", "Cc") and ch not in
              "\n\r\t")
    return odd / len(text) > 0.05


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of a page (scripts, styles, navigation removed) and its title."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = ""
    if soup.title and soup.title.string:
        title = soup.title.string.strip()
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form",
                     "iframe", "svg", "template", "button"]):
        tag.decompose()
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        title = h1.get_text(" ", strip=True)
    for br in soup.find_all("br"):
        br.replace_with("\n")
    blocks = soup.find_all(["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "pre",
                            "blockquote", "dt", "dd", "caption"])
    for block in blocks:
        block.insert_after("\n")
        if block.name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            block.insert_before("\n")
    text = soup.get_text()
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return text.strip(), title


def pdf_pages(path: Path) -> list[tuple[int, str]]:
    """``(page number, text)`` of each PDF page that has text; page numbers count from 1."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - pypdf raises several types here
                raise IngestError(str(path), "the PDF is password-protected; save an "
                                             "unprotected copy and ingest that") from exc
        pages = [(n, (page.extract_text() or "").strip())
                 for n, page in enumerate(reader.pages, 1)]
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise IngestError(str(path), f"the PDF could not be parsed ({type(exc).__name__}); "
                                     "re-export it or save it as text") from exc
    pages = [(n, text) for n, text in pages if text]
    if not pages:
        raise IngestError(str(path), "the PDF has no extractable text (a scan?); run OCR on it "
                                     "first")
    return pages


def join_pages(pages: list[tuple[int, str]]) -> tuple[str, list[int]]:
    """The pages' text joined by blank lines, and the page number of each of its lines."""
    texts: list[str] = []
    line_pages: list[int] = []
    for n, text in pages:
        # the same newline normalisation clean_text applies, so line numbers agree
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if texts:
            line_pages.append(n)  # the blank line between two pages
        texts.append(text)
        line_pages.extend([n] * (text.count("\n") + 1))
    return "\n\n".join(texts), line_pages


def page_starts_of(cleaned: CleanResult, line_pages: list[int]) -> PageStarts:
    """Where each page's text begins in the cleaned text: ``(offset, page)`` pairs."""
    starts: PageStarts = []
    offset = 0
    for line, n in zip(cleaned.text.split("\n"), cleaned.lines, strict=False):
        page = line_pages[n]
        if line.strip() and (not starts or starts[-1][1] != page):
            starts.append((offset, page))
        offset += len(line) + 1
    return starts


@dataclass(frozen=True)
class Extracted:
    """What a reader gets out of a file, before cleaning."""

    text: str
    title: str = ""  # from the file itself (HTML <title>); the manifest's wins
    line_pages: list[int] | None = None  # PDF: the page of each line of ``text``


@dataclass(frozen=True)
class FileType:
    read: Callable[[Path], Extracted]
    kind: str  # the document kind when the manifest gives none


def _read_text(path: Path) -> Extracted:
    return Extracted(decode_bytes(path.read_bytes(), str(path)))


def _read_html(path: Path) -> Extracted:
    text, title = html_to_text(decode_bytes(path.read_bytes(), str(path)))
    return Extracted(text, title)


def _read_pdf(path: Path) -> Extracted:
    text, line_pages = join_pages(pdf_pages(path))
    return Extracted(text, line_pages=line_pages)


TEXT = FileType(_read_text, "document")
HTML = FileType(_read_html, "web page")
PDF = FileType(_read_pdf, "pdf document")

# -- the loader registry: suffix -> file type. A new file type is one line here. ---------------
LOADERS: dict[str, FileType] = {
    ".txt": TEXT, ".text": TEXT, ".md": TEXT, ".markdown": TEXT,
    ".html": HTML, ".htm": HTML, ".xhtml": HTML,
    ".pdf": PDF,
}
SUPPORTED = frozenset(LOADERS)  # every suffix ingest (and the app's upload box) accepts


def make_doc_id(relative: str) -> str:
    """Stable, readable id from the path relative to the folder it was ingested from."""
    parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    rel = "/".join(parts)
    return re.sub(r"[^\w.\-/\u4e00-\u9fff]+", "_", rel)[:200] or "document"


def _infer_title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        s = line.strip().lstrip("#").strip()
        if 2 <= len(s) <= 120:
            return s
    return fallback


def load_document(
    path: Path,
    *,
    doc_id: str,
    source_root: str = "",
    manifest: ManifestEntry | None = None,
    max_bytes: int = 50 * 1024 * 1024,
) -> Document:
    """Read one file into a cleaned Document, or raise IngestError saying what to do."""
    name = str(path)
    if not path.exists():
        raise IngestError(name, "no such file or folder; check the path")
    if not path.is_file():
        raise IngestError(name, "not a regular file")
    suffix = path.suffix.lower()
    file_type = LOADERS.get(suffix)
    if file_type is None:
        raise IngestError(name, f"unsupported file type '{suffix or '(none)'}'; supported: "
                                f"{', '.join(sorted(SUPPORTED))}")
    size = path.stat().st_size
    if size == 0:
        raise IngestError(name, "the file is empty; nothing to ingest")
    if size > max_bytes:
        raise IngestError(name, f"the file is {size / 1e6:.1f} MB, over the "
                                f"{max_bytes / 1e6:.0f} MB limit; split it or raise "
                                "CLINCITE_MAX_FILE_MB")
    extracted = file_type.read(path)
    line_pages = extracted.line_pages or []
    cleaned = clean_text(extracted.text)
    text = cleaned.text
    if not text.strip():
        raise IngestError(name, "no text left after removing page chrome; check the file's "
                                "content")
    meta = manifest or ManifestEntry()
    language = meta.language if meta.language in ("zh", "en") else detect_language(text)
    title = meta.title or extracted.title or _infer_title(text, path.stem)
    return Document(
        doc_id=doc_id,
        title=title,
        text=text,
        language=language,  # type: ignore[arg-type]
        kind=meta.kind or file_type.kind,
        source=str(path),
        source_root=source_root,
        removed_chars=sum(len(r) for r in cleaned.removed),
        page_starts=page_starts_of(cleaned, line_pages) if line_pages else [],
    )


def discover(paths: list[Path]) -> list[tuple[Path, str, str]]:
    """Expand files and folders into ``(file, doc_id, source_root)``; folders recurse, hidden
    files and manifests are skipped. A missing path is returned as-is so it can be reported."""
    found: list[tuple[Path, str, str]] = []
    for p in paths:
        if p.is_dir():
            root = p.resolve()
            for f in sorted(root.rglob("*")):
                rel = f.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                    continue
                if f.name in SKIP_NAMES:
                    continue
                found.append((f, make_doc_id(str(rel)), str(root)))
        else:
            found.append((p, make_doc_id(p.name), str(p.resolve().parent)))
    return found
