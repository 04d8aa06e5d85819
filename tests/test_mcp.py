"""`clincite mcp` as a subprocess, driven through the official MCP SDK's stdio client: the
tools an agent sees, a search, a checked answer and an error. Stand-in models (hashing
embedder, extractive scripted LLM) over the sample corpus, ingested first."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from assistant import Assistant, Settings
from assistant.models import HashingEmbedder
from assistant.testing import ScriptedChatModel

from .conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.chroma]

SBRT_DOC = "002_bd6c93367f61d5fe.txt"


@pytest.fixture
def server_env(settings: Settings, corpus: Path) -> dict[str, str]:
    Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel()).ingest([corpus])
    return {**os.environ, "CLINCITE_DATA_DIR": str(settings.data_dir),
            "CLINCITE_EMBEDDER__MODEL": "fake", "CLINCITE_LLM__MODEL": "fake",
            "CLINCITE_RETRIEVAL__MIN_SIMILARITY": "0.05",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _session(env: dict[str, str]):
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    return Client(StdioServerParameters(command=sys.executable,
                                        args=["-m", "assistant.cli", "mcp"], env=env,
                                        cwd=str(ROOT)))


def test_mcp_tools_over_stdio(server_env: dict[str, str]) -> None:
    async def scenario() -> dict:
        async with _session(server_env) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            search = await client.call_tool("search_documents", {
                "query": "SBRT PD-1 osteosarcoma trial participants", "k": 3,
                "filters": {"language": ["en"]}})
            answer = await client.call_tool("ask", {  # the extractive stand-in quotes it
                "question": "How many participants in 1 patient group does the SBRT trial "
                            "have?"})
            empty = await client.call_tool("ask", {"question": "   "})
            bad_k = await client.call_tool("search_documents", {"query": "x", "k": 0})
            return {"tools": tools, "search": search, "answer": answer, "empty": empty,
                    "bad_k": bad_k, "instructions": client.instructions}

    out = anyio.run(scenario)
    tools = out["tools"]
    assert set(tools) == {"search_documents", "ask"}
    assert "checked" in tools["ask"].description and "not medical advice" in \
        tools["ask"].description
    schema = tools["search_documents"].input_schema["properties"]
    assert set(schema) == {"query", "k", "filters"}
    assert "Chinese or English" in schema["query"]["description"]
    assert "ClinCite" in out["instructions"]

    search = out["search"]
    assert not search.is_error
    passages = search.structured_content["passages"]
    assert len(passages) == 3 and {p["language"] for p in passages} == {"en"}
    assert passages[0]["doc_id"] == SBRT_DOC
    for p in passages:
        assert {"chunk_id", "doc_id", "title", "start", "end", "page", "text"} <= set(p)

    answer = out["answer"]
    assert not answer.is_error
    result = answer.structured_content
    assert result["abstained"] is False
    # the stand-in model's sentence, or the source sentence quoted: cited either way
    assert "43 participants in 1 patient group" in result["text"] and "[1]" in result["text"]
    [cite] = result["citations"]
    assert cite["n"] == 1 and cite["doc_id"] == SBRT_DOC and "43 participants" in cite["quote"]
    assert "draft" not in result

    assert out["empty"].is_error
    assert "the question is empty" in out["empty"].content[0].text
    assert out["bad_k"].is_error
