"""ClinCite as an MCP server (``clincite mcp``, stdio), with the official MCP Python SDK.

Two tools for an agent:

- ``search_documents(query, k, filters)``: passages of the indexed documents, each with its id,
  document, title, offsets and page (PDFs), for the agent to read itself.
- ``ask(question)``: ClinCite's checked answer: ``[n]`` markers, each citation with the quoted
  sentence and where it is; or an abstention when the documents do not answer.

Models load on the first call and stay loaded. Nothing is written to stdout but the protocol
(the SDK points file descriptor 1 at stderr while serving).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ingest.vectors import as_filters

from .api import Assistant
from .config import Settings
from .errors import ClinCiteError
from .injection import neutralise
from .types import Citation, RetrievedChunk

INSTRUCTIONS = (
    "ClinCite answers clinical questions (sarcoma, bone metastases; Chinese and English) from a "
    "local index of documents, and checks every statement of an answer against a quoted source "
    "sentence. Use `ask` for a checked, cited answer; use `search_documents` to read passages "
    "yourself. Information from the indexed documents only, not medical advice."
)


class Passage(BaseModel):
    chunk_id: str = Field(description="stable id of the passage")
    doc_id: str = Field(description="id of the document it comes from")
    title: str
    text: str
    start: int = Field(description="offset of the passage's first character in the document")
    end: int = Field(description="offset just after its last character")
    page: int | None = Field(None, description="PDF page where the passage starts (None: "
                                               "not a PDF)")
    language: str
    kind: str
    score: float = Field(description="retrieval score; higher is better")


class SearchResult(BaseModel):
    passages: list[Passage]


class CheckedAnswer(BaseModel):
    text: str = Field(description="the checked answer with [n] markers, or the abstention "
                                  "sentence")
    abstained: bool = Field(description="true when the documents do not answer the question")
    abstain_reason: str = ""
    language: str
    citations: list[Citation] = Field(description="for each [n]: document, title, quote, "
                                                  "offsets and page (PDFs)")


def passage(chunk: RetrievedChunk) -> Passage:
    return Passage(chunk_id=chunk.chunk_id, doc_id=chunk.doc_id, title=chunk.title,
                   text=neutralise(chunk.text), start=chunk.start, end=chunk.end, page=chunk.page,
                   language=chunk.language, kind=chunk.kind, score=round(chunk.score, 4))


FilterKey = Literal["doc_id", "language", "kind"]


def build_server(assistant: Assistant):
    """The MCP server with ClinCite's tools, bound to one Assistant."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer(name="clincite", title="ClinCite", instructions=INSTRUCTIONS,
                       log_level="WARNING")

    @server.tool()
    def search_documents(
        query: Annotated[str, Field(description="what to look for, in Chinese or English")],
        k: Annotated[int, Field(ge=1, le=50, description="how many passages to return")] = 5,
        filters: Annotated[dict[FilterKey, list[str]] | None, Field(
            description='restrict the search, e.g. {"language": ["zh"]} or '
                        '{"doc_id": ["trial.pdf"]}')] = None,
    ) -> SearchResult:
        """Search the indexed clinical documents (hybrid semantic + keyword search, Chinese and
        English) and return the best-matching passages with their ids, document titles,
        character offsets and PDF page numbers. The passages are not checked answers: read
        them, or use `ask` for a checked, cited answer."""
        try:
            chunks = assistant.retrieve(query, filters=as_filters(filters), k=k)
        except ClinCiteError as exc:
            raise ToolError(str(exc)) from exc
        return SearchResult(passages=[passage(c) for c in chunks])

    @server.tool()
    def ask(
        question: Annotated[str, Field(description="a clinical question in Chinese or English")],
    ) -> CheckedAnswer:
        """Answer a question from the indexed clinical documents. Every statement of the
        answer has been checked in code against a quoted source sentence; [n] markers point
        at `citations` (document, title, quote, offsets, PDF page). When the documents do not
        answer, `abstained` is true and the text says so: do not fill the gap from elsewhere.
        Information from the documents only, not medical advice."""
        try:
            answer = assistant.ask(question)
        except ClinCiteError as exc:
            raise ToolError(str(exc)) from exc
        return CheckedAnswer(text=answer.text, abstained=answer.abstained,
                             abstain_reason=answer.abstain_reason, language=answer.language,
                             citations=answer.citations)

    return server


def run_stdio(settings: Settings) -> None:
    """Serve the MCP tools over stdin/stdout until the client closes the connection."""
    build_server(Assistant(settings)).run("stdio")
