"""Language-aware chunking. Pure: text in, spans out; ``doc.text[start:end] == chunk.text``."""

from __future__ import annotations

from assistant.types import Chunk, Document

from .text import Span, split_sentences, weighted_len

_SOFT_BREAKS = "，,、：:；; "


def _split_long(text: str, span: Span, size: int) -> list[Span]:
    """Cut a sentence longer than ``size`` at commas (or hard) into pieces of at most ``size``."""
    pieces: list[Span] = []
    start = span.start
    while start < span.end:
        if weighted_len(text[start:span.end]) <= size:
            pieces.append(Span(start, span.end))
            break
        # largest end whose weighted length fits
        end = start
        while end < span.end and weighted_len(text[start : end + 1]) <= size:
            end += 1
        cut = end
        for j in range(end, start + (end - start) // 2, -1):
            if text[j - 1] in _SOFT_BREAKS:
                cut = j
                break
        cut = max(cut, start + 1)
        pieces.append(Span(start, cut))
        start = cut
        while start < span.end and text[start].isspace():
            start += 1
    return pieces


def chunk_spans(text: str, size: int, overlap: int) -> list[tuple[int, int, str]]:
    """Pack sentences into chunks of at most ``size`` weighted characters.

    Returns ``(start, end, heading)`` triples. Consecutive chunks share up to ``overlap``
    weighted characters of whole sentences; a heading starts a new chunk when the current one
    is at least a quarter full, and a chunk remembers the last heading before it.
    """
    if size <= 0:
        raise ValueError("chunk size must be positive")
    units: list[Span] = []
    for sentence in split_sentences(text):
        if weighted_len(text[sentence.start : sentence.end]) > size:
            units.extend(_split_long(text, sentence, size))
        else:
            units.append(sentence)
    if not units:
        return []

    out: list[tuple[int, int, str]] = []
    heading = ""
    headings_before: list[str] = []
    for unit in units:
        headings_before.append(heading)
        if unit.heading:
            heading = text[unit.start : unit.end].lstrip("# ").strip()

    i = 0
    n = len(units)
    while i < n:
        j = i
        while j + 1 < n:
            candidate = weighted_len(text[units[i].start : units[j + 1].end])
            if candidate > size:
                break
            # start a new chunk at a heading once this one is a quarter full
            if units[j + 1].heading and candidate > size / 4 and j >= i:
                break
            j += 1
        # a chunk should not end on a heading that belongs to the next passage
        while j > i and units[j].heading:
            j -= 1
        chunk_heading = headings_before[i] if not units[i].heading else text[
            units[i].start : units[i].end
        ].lstrip("# ").strip()
        out.append((units[i].start, units[j].end, chunk_heading))
        if j + 1 >= n:
            break
        # next chunk starts early enough to overlap by at most `overlap`, always advancing
        k = j + 1
        while k - 1 > i and weighted_len(text[units[k - 1].start : units[j].end]) <= overlap:
            k -= 1
        i = k
    return out


def chunk_document(doc: Document, size: int, overlap: int) -> list[Chunk]:
    """Chunks of a document, with stable ids derived from doc id and offsets."""
    chunks: list[Chunk] = []
    for start, end, heading in chunk_spans(doc.text, size, overlap):
        piece = doc.text[start:end]
        chunks.append(
            Chunk(
                chunk_id=Chunk.make_id(doc.doc_id, start, end, piece),
                doc_id=doc.doc_id,
                start=start,
                end=end,
                text=piece,
                title=doc.title,
                heading=heading if heading != piece.strip() else "",
                language=doc.language,
                kind=doc.kind,
            )
        )
    return chunks
