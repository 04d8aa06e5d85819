"""Gold question sets (JSON Lines) and the PubMedQA (PQA-L) loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from assistant.errors import ClinCiteError
from assistant.types import Document


class GoldItem(BaseModel):
    """One gold question. ``must``: groups of alternatives; the answer is correct when every
    group has one of its alternatives in it (case-insensitive). ``order``: groups that must
    also appear in this order ("分别为 A 与 B", "A and B, respectively"). ``evidence``:
    verbatim quote(s) from the source that hold the answer. ``sources``: file names (doc ids)
    of those documents. ``answerable`` false: a question the documents do not answer, which
    must be declined (no ``must``, ``order`` or ``evidence``)."""

    id: str
    question: str
    lang: Literal["zh", "en"]
    answer: str = ""
    must: list[list[str]] = Field(default_factory=list)
    order: list[list[str]] | None = None
    evidence: str | list[str] = ""
    sources: list[str] = Field(default_factory=list)
    answerable: bool = True
    # PubMedQA: the expected yes/no/maybe decision
    decision: Literal["yes", "no", "maybe"] | None = None

    @field_validator("must", "order")
    @classmethod
    def _groups_not_empty(cls, value: list[list[str]] | None) -> list[list[str]] | None:
        if value is not None and any(not group or not all(group) for group in value):
            raise ValueError("every group needs at least one alternative, none of them empty")
        return value

    @model_validator(mode="after")
    def _order_fits(self) -> GoldItem:
        if self.order is not None and len(self.order) < 2:
            raise ValueError("'order' needs two or more groups")
        if not self.answerable and (self.must or self.order or self.evidence_list):
            raise ValueError("a must-decline question has no 'must', 'order' or 'evidence'")
        return self

    @property
    def evidence_list(self) -> list[str]:
        items = self.evidence if isinstance(self.evidence, list) else [self.evidence]
        return [e for e in items if e]


class EvalError(ClinCiteError):
    """A gold or PubMedQA file cannot be read."""


def load_gold(path: Path) -> list[GoldItem]:
    if not path.is_file():
        raise EvalError(f"gold file {path} not found; pass --gold with a JSON Lines file")
    items: list[GoldItem] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = GoldItem.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            first = str(exc).splitlines()[0] if not isinstance(exc, ValidationError) else \
                "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise EvalError(f"{path}:{number}: not a valid gold item ({first}); see the README "
                            "for the format") from exc
        if item.id in seen:
            raise EvalError(f"{path}:{number}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise EvalError(f"{path} holds no gold items")
    return items


def load_pubmedqa(path: Path, limit: int | None = None
                  ) -> tuple[list[Document], list[GoldItem]]:
    """PQA-L JSON (an object keyed by PubMed id). Each instance's contexts become one document
    (id ``pubmed:<pmid>``); its question's relevant document is its own."""
    if not path.is_file():
        raise EvalError(f"PubMedQA file {path} not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise EvalError(f"{path}: expected an object keyed by PubMed id (PQA-L format)")
    docs: list[Document] = []
    items: list[GoldItem] = []
    for pmid, entry in list(data.items())[: limit or None]:
        try:
            contexts = entry["CONTEXTS"]
            labels = entry.get("LABELS") or [""] * len(contexts)
            question = entry["QUESTION"]
            decision = entry.get("final_decision")
        except (KeyError, TypeError) as exc:
            raise EvalError(f"{path}: instance {pmid} lacks {exc}; expected QUESTION, CONTEXTS, "
                            "final_decision") from exc
        text = "\n".join(f"{label.title()}: {ctx}" if label else ctx
                         for label, ctx in zip(labels, contexts, strict=False))
        doc_id = f"pubmed:{pmid}"
        # The question is the paper's title recast, so it must not be the document's title
        # (that would hand retrieval the answer); the abstract is identified by its id only.
        docs.append(Document(doc_id=doc_id, title=f"PubMed {pmid}", text=text, language="en",
                             kind="abstract", source=f"{path}#{pmid}", source_root=str(path)))
        items.append(GoldItem(id=str(pmid), question=question, lang="en",
                              answer=entry.get("LONG_ANSWER", ""), sources=[doc_id],
                              decision=decision if decision in ("yes", "no", "maybe") else None))
    return docs, items
