"""``Assistant.as_retriever()``: ClinCite's retrieval as a LangChain BaseRetriever, and the
README's example chain built on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from langchain_core.retrievers import BaseRetriever

from assistant import Assistant, Settings
from assistant.models import HashingEmbedder
from assistant.testing import ScriptedChatModel

from .conftest import ROOT

SBRT_DOC = "002_bd6c93367f61d5fe.txt"


@pytest.fixture
def bot(settings: Settings, corpus: Path) -> Assistant:
    assistant = Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    assistant.ingest([corpus])
    return assistant


def test_documents_carry_where_each_passage_comes_from(bot: Assistant) -> None:
    retriever = bot.as_retriever(k=4)
    assert isinstance(retriever, BaseRetriever)
    question = "How many participants will the SBRT osteosarcoma trial enroll?"
    docs = retriever.invoke(question)
    chunks = bot.retrieve(question, k=4)
    assert [d.id for d in docs] == [c.chunk_id for c in chunks] and len(docs) == 4
    first, chunk = docs[0], chunks[0]
    assert first.page_content == chunk.text
    assert first.metadata == {"doc_id": chunk.doc_id, "title": chunk.title,
                              "chunk_id": chunk.chunk_id, "start": chunk.start,
                              "end": chunk.end, "page": None, "language": chunk.language,
                              "kind": chunk.kind, "heading": chunk.heading,
                              "score": chunk.score}
    text = bot.store.document_text(first.metadata["doc_id"])
    assert text[first.metadata["start"]:first.metadata["end"]] == first.page_content
    assert first.metadata["doc_id"] == SBRT_DOC


def test_filters_and_k(bot: Assistant) -> None:
    docs = bot.as_retriever(k=2, filters={"language": ["zh"]}).invoke("bone metastasis 骨转移")
    assert len(docs) == 2 and {d.metadata["language"] for d in docs} == {"zh"}


async def _ainvoke(retriever, query: str):
    return await retriever.ainvoke(query)


def test_async_and_batch(bot: Assistant) -> None:
    import asyncio

    retriever = bot.as_retriever(k=3)
    docs = asyncio.run(_ainvoke(retriever, "denosumab zoledronic acid"))
    assert len(docs) == 3
    batched = retriever.batch(["denosumab", "anlotinib"])
    assert [len(b) for b in batched] == [3, 3]


def test_errors_stay_clincite_errors(settings: Settings) -> None:
    from assistant.errors import EmptyIndexError

    empty = Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    with pytest.raises(EmptyIndexError, match="no documents indexed yet"):
        empty.as_retriever().invoke("anything")


def readme_example() -> str:
    """The README's as_retriever example (the python block after its marker comment)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(# example: as_retriever\n.*?)```", readme, re.S)
    assert match, "README.md lost its as_retriever example"
    return match.group(1)


def test_readme_example_runs(bot: Assistant, capsys: pytest.CaptureFixture) -> None:
    llm = ScriptedChatModel().enqueue("The trial will enroll 43 participants.")
    exec(compile(readme_example(), "README.md", "exec"), {"llm": llm})  # noqa: S102
    assert capsys.readouterr().out.strip() == "The trial will enroll 43 participants."
    prompt = llm.history[0][-1].content
    assert "Question: How many participants will the SBRT osteosarcoma trial enroll?" in prompt
    assert f"({SBRT_DOC})]\n" in prompt and "43 participants in 1 patient group" in prompt
